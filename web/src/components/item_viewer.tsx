// Shows an item's content for reading: clinical text with span selection (by mouse, or by
// typing the phrase to find) and the item's facts (lab results: labs.tsx).
// Span offsets are code points, as the server counts them.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, errorText } from '../api/client';
import type { Annotation, Item, NoteText, Prelabel } from '../api/models';

export interface Span { start: number; end: number; text: string }

export function codePointOffset(text: string, utf16: number): number {
  return [...text.slice(0, utf16)].length;
}
function utf16Offset(text: string, codePoints: number): number {
  return [...text].slice(0, codePoints).join('').length;
}

// A code-point range of `text` as a string.
export function codePointSlice(text: string, start: number, end: number): string {
  return [...text].slice(start, end).join('');
}

export type PhiMark = NoteText['phi'][number];

// The item's text content. A note stored by notes ingest is read from `/note`, which also
// names the surrogates and tags de-identification put in it; other text (a note uploaded as an
// item, a labs CSV, labs ingest's JSON) from `/content`.
export function useItemText(item: Item | null): [string | null, string, PhiMark[]] {
  const [text, setText] = useState<string | null>(null);
  const [phi, setPhi] = useState<PhiMark[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    const isText = item && (item.content_type.startsWith('text/') ||
                            (item.data_type === 'labs' && item.content_type.startsWith('application/json')));
    if (!item || !isText) return;
    const content = () => api.getRaw('/api/v1/items/{item_id}/content', { item_id: item.id }).then((r) => r.text());
    const load = item.data_type === 'notes'
      ? api.get('/api/v1/items/{item_id}/note', { item_id: item.id })
          .then((n) => { setPhi(Array.isArray(n.phi) ? n.phi : []); return n.text; })
          .catch((e) => { if (e instanceof ApiError && e.status === 404) return content(); throw e; })
      : content();
    load.then(setText).catch((e) => setError(errorText(e)));
  }, [item?.id]);
  return [text, error, phi];
}

// Pre-labels drawn on a note: the pending suggestions, the one picked, and picking one.
export interface NoteSuggestions { pending: Prelabel[]; current: string | null; onPick: (id: string) => void }

interface Mark { start: number; end: number; cls: string; title: string; prelabel?: string }

export function NoteView({ text, spans, selected, onSelect, phi = [], suggestions }:
    { text: string; spans: Annotation[]; selected: Span | null; onSelect: (s: Span | null) => void;
      phi?: PhiMark[]; suggestions?: NoteSuggestions | undefined }) {
  const ref = useRef<HTMLPreElement>(null);
  const [find, setFind] = useState('');
  const fromSelection = () => {
    const sel = window.getSelection();
    const pre = ref.current;
    if (!sel || sel.rangeCount === 0 || !pre || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    if (!pre.contains(range.startContainer) || !pre.contains(range.endContainer)) return;
    const before = document.createRange();
    before.selectNodeContents(pre);
    before.setEnd(range.startContainer, range.startOffset);
    const start16 = before.toString().length;
    const end16 = start16 + range.toString().length;
    onSelect({ start: codePointOffset(text, start16), end: codePointOffset(text, end16), text: text.slice(start16, end16) });
  };
  const findPhrase = (e: Event) => {
    e.preventDefault();
    const at = text.toLowerCase().indexOf(find.toLowerCase());
    if (!find || at < 0) return onSelect(null);
    onSelect({ start: codePointOffset(text, at), end: codePointOffset(text, at + find.length), text: text.slice(at, at + find.length) });
  };
  // Marks (code-point ranges turned into UTF-16): surrogates, the reader's spans, pending
  // pre-labels and the selection. They may overlap, so the text is cut at every mark boundary
  // and each piece carries the marks covering it.
  const marks: Mark[] = [];
  const add = (s: number, e: number, cls: string, title: string, prelabel?: string) => {
    if (Number.isFinite(s) && Number.isFinite(e) && e > s) {
      marks.push({ start: utf16Offset(text, s), end: utf16Offset(text, e), cls, title, ...(prelabel ? { prelabel } : {}) });
    }
  };
  for (const p of phi) add(p.start, p.end, 'surrogate', `de-identified: ${p.type}`);
  for (const a of spans) {
    if (a.evidence.kind === 'span') add(Number(a.evidence.data['start']), Number(a.evidence.data['end']), 'labelled', a.label.class);
  }
  for (const p of suggestions?.pending ?? []) {
    add(Number(p.evidence.data['start']), Number(p.evidence.data['end']),
        p.id === suggestions?.current ? 'prelabel current' : 'prelabel', `suggested: ${p.label.class} (${p.assertion})`, p.id);
  }
  if (selected) add(selected.start, selected.end, 'selected', 'selected');
  const cuts = [...new Set([0, text.length, ...marks.flatMap((m) => [m.start, m.end])])].sort((a, b) => a - b);
  const parts: preact.JSX.Element[] = [];
  for (let i = 0; i + 1 < cuts.length; ++i) {
    const from = cuts[i]!, to = cuts[i + 1]!;
    const piece = text.slice(from, to);
    const over = marks.filter((m) => m.start <= from && m.end >= to);
    if (over.length === 0) {
      parts.push(<span key={from}>{piece}</span>);
      continue;
    }
    const prelabel = over.find((m) => m.prelabel)?.prelabel;
    parts.push(<mark key={from} class={over.map((m) => m.cls).join(' ')} title={over.map((m) => m.title).join('; ')}
                     data-prelabel={prelabel} onClick={prelabel ? () => suggestions?.onPick(prelabel) : undefined}>{piece}</mark>);
  }
  return (
    <div class="note-view">
      <form class="find" onSubmit={findPhrase}>
        <label>Select a phrase <input value={find} onInput={(e) => setFind(e.currentTarget.value)} placeholder="type words from the note, Enter" /></label>
      </form>
      <pre ref={ref} class="note" tabIndex={0} onMouseUp={fromSelection} onKeyUp={fromSelection} aria-label="Note text">{parts}</pre>
      {phi.length > 0 && <p class="muted legend"><mark class="surrogate">dotted</mark>: put in by de-identification (a surrogate or tag, not the original)</p>}
    </div>
  );
}

export function ItemFacts({ item }: { item: Item }) {
  return (
    <dl class="facts">
      <dt>Data type</dt><dd>{item.data_type}</dd>
      <dt>Modality</dt><dd>{item.modality || '—'}</dd>
      <dt>Patient (pseudonym)</dt><dd>{item.patient_key}</dd>
      <dt>Content</dt><dd>{item.content_type}, {(item.content_bytes / 1024).toFixed(1)} KiB</dd>
    </dl>
  );
}
