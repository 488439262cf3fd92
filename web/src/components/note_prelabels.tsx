// The note room's pre-labels (docs/web.md, "The note reading room"): the server's suggestions for
// the note (e.g. ConText's mentions with their assertion, temporality and experiencer), listed
// beside the text and drawn on it. The reader picks one (a click on it, or N for the next) and
// accepts it (A: the server makes it the reader's span label, context included), corrects it (C:
// the label form opens on it, and saving sends the correction) or rejects it (X). Each decision
// is the server's (POST …/prelabels/{id}/decision), once per reader and pre-label.

import { api } from '../api/client';
import type { LabelClass, Prelabel } from '../api/models';
import { useShortcuts } from '../shortcuts';
import { codePointSlice } from './item_viewer';

export type Decision = 'accepted' | 'rejected';

// The pre-label's span (code points), or null when its evidence is not a span.
export function prelabelSpan(p: Prelabel): { start: number; end: number } | null {
  const start = Number(p.evidence.data['start']), end = Number(p.evidence.data['end']);
  return p.evidence.kind === 'span' && Number.isInteger(start) && Number.isInteger(end) ? { start, end } : null;
}

// "historical · family": the context the pre-label carries (ConText's attributes).
export function prelabelContext(p: Prelabel): string {
  const parts = [p.attributes['temporality'], p.attributes['experiencer']].filter((v) => typeof v === 'string');
  return parts.join(' · ');
}

export function loadPrelabels(item_id: string): Promise<Prelabel[]> {
  return api.get('/api/v1/items/{item_id}/prelabels', { item_id }).then((r) => r.data);
}

export interface PrelabelPanelProps {
  prelabels: Prelabel[];
  text: string | null;
  classes: LabelClass[];
  current: string | null;
  onPick: (id: string) => void;
  onDecide: (p: Prelabel, how: Decision) => void;
  onCorrect: (p: Prelabel, quoted: string) => void;  // quoted: the text of its span
}

export function PrelabelPanel({ prelabels, text, classes, current, onPick, onDecide, onCorrect }: PrelabelPanelProps) {
  const pending = prelabels.filter((p) => p.status === 'pending');
  const decided = prelabels.length - pending.length;
  const picked = pending.find((p) => p.id === current) ?? null;
  const next = () => {
    if (pending.length === 0) return;
    const at = pending.findIndex((p) => p.id === current);
    onPick(pending[(at + 1) % pending.length]!.id);
  };
  useShortcuts([
    { key: 'n', description: 'Pick the next pre-label', run: next },
    { key: 'a', description: 'Accept the picked pre-label as your label', run: () => picked && onDecide(picked, 'accepted') },
    { key: 'c', description: 'Correct the picked pre-label (the label form opens on it)', run: () => picked && onCorrect(picked, spanText(picked)) },
    { key: 'x', description: 'Reject the picked pre-label', run: () => picked && onDecide(picked, 'rejected') },
  ], [prelabels, current]);

  const name = (id: string) => classes.find((c) => c.id === id)?.name ?? id;
  const spanText = (p: Prelabel) => {
    const s = prelabelSpan(p);
    return s && text !== null ? codePointSlice(text, s.start, s.end) : '';
  };
  const quote = (p: Prelabel) => (prelabelSpan(p) ? `“${spanText(p)}”` : p.evidence.kind);
  return (
    <section aria-labelledby="prelabels-h" class="prelabels">
      <h2 id="prelabels-h">Pre-labels ({pending.length} to decide{decided ? `, ${decided} decided` : ''})</h2>
      {prelabels.length === 0 && <p class="muted">No suggestion for this note.</p>}
      <ul class="rows">
        {pending.map((p) => (
          <li key={p.id} class={p.id === current ? 'selected' : ''}>
            <button type="button" class="link" aria-pressed={p.id === current} onClick={() => onPick(p.id)}>
              {name(p.label.class)}: {quote(p)} · {p.assertion}{prelabelContext(p) ? ` · ${prelabelContext(p)}` : ''}
            </button>
            <span class="muted">{p.model.name}@{p.model.version}</span>
            <button type="button" onClick={() => onDecide(p, 'accepted')} aria-label={`Accept ${name(p.label.class)} ${quote(p)}`}>Accept</button>
            <button type="button" onClick={() => onCorrect(p, spanText(p))} aria-label={`Correct ${name(p.label.class)} ${quote(p)}`}>Correct</button>
            <button type="button" onClick={() => onDecide(p, 'rejected')} aria-label={`Reject ${name(p.label.class)} ${quote(p)}`}>Reject</button>
          </li>
        ))}
      </ul>
      {pending.length > 0 && <p class="muted"><kbd>N</kbd> picks the next, <kbd>A</kbd> accepts, <kbd>C</kbd> corrects, <kbd>X</kbd> rejects.</p>}
      {decided > 0 && (
        <ul class="rows decided" aria-label="Decided pre-labels">
          {prelabels.filter((p) => p.status !== 'pending').map((p) => (
            <li key={p.id}>{name(p.label.class)}: {quote(p)} · <strong>{p.status}</strong></li>
          ))}
        </ul>
      )}
    </section>
  );
}
