// The pre-label panel of the reading rooms (docs/web.md): the server's suggestions for the item,
// listed to be decided. In the note room (ConText's mentions with their assertion, temporality
// and experiencer, also drawn on the text) the reader picks one (a click on it, or N for the
// next) and accepts it (A: the server makes it the reader's span label, context included),
// corrects it (C: the label form opens on it, and saving sends the correction) or rejects it
// (X). The volume room uses Shift with the same letters (its plain A, C and X pick views and the
// crosshair): a segmentation's voxels are drawn over the volume, accepting one makes it the
// reader's mask, correcting paints it into the reader's drawing. Each decision is the server's
// (POST …/prelabels/{id}/decision), once per reader and pre-label.

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

// The pre-label's foreground voxels (evidence kind voxels: runs of linear indices, x fastest),
// or null when its evidence is something else.
export interface PrelabelVoxels { dims: [number, number, number]; runs: [number, number][]; count: number }
export function prelabelVoxels(p: Prelabel): PrelabelVoxels | null {
  const dims = p.evidence.data['dims'], runs = p.evidence.data['runs'];
  if (p.evidence.kind !== 'voxels' || !Array.isArray(dims) || dims.length !== 3 || !Array.isArray(runs)) return null;
  const pairs = runs.filter((r): r is [number, number] => Array.isArray(r) && r.length === 2);
  return { dims: dims.map(Number) as [number, number, number], runs: pairs, count: pairs.reduce((n, r) => n + r[1], 0) };
}

export function loadPrelabels(item_id: string): Promise<Prelabel[]> {
  return api.get('/api/v1/items/{item_id}/prelabels', { item_id }).then((r) => r.data);
}

// The panel's keys: the note room's letters, or Shift with them in the volume room.
export interface PrelabelKeys { next: string; accept: string; correct: string; reject: string }
export const kNotePrelabelKeys: PrelabelKeys = { next: 'n', accept: 'a', correct: 'c', reject: 'x' };
export const kVolumePrelabelKeys: PrelabelKeys = { next: 'n', accept: 'shift+a', correct: 'shift+c', reject: 'shift+x' };
const keyText = (k: string) => k.replace('shift+', 'Shift+').toUpperCase().replace('SHIFT+', 'Shift+');

export interface PrelabelPanelProps {
  prelabels: Prelabel[];
  text: string | null;
  classes: LabelClass[];
  current: string | null;
  onPick: (id: string) => void;
  onDecide: (p: Prelabel, how: Decision) => void;
  onCorrect: (p: Prelabel, quoted: string) => void;  // quoted: the text of its span
  keys?: PrelabelKeys;
  what?: string;  // "note", "volume": what the suggestions are about
}

export function PrelabelPanel({ prelabels, text, classes, current, onPick, onDecide, onCorrect,
                                keys = kNotePrelabelKeys, what = 'note' }: PrelabelPanelProps) {
  const pending = prelabels.filter((p) => p.status === 'pending');
  const decided = prelabels.length - pending.length;
  const picked = pending.find((p) => p.id === current) ?? null;
  const next = () => {
    if (pending.length === 0) return;
    const at = pending.findIndex((p) => p.id === current);
    onPick(pending[(at + 1) % pending.length]!.id);
  };
  useShortcuts([
    { key: keys.next, description: 'Pick the next pre-label', run: next },
    { key: keys.accept, description: 'Accept the picked pre-label as your label', run: () => picked && onDecide(picked, 'accepted') },
    { key: keys.correct, description: what === 'volume' ? 'Correct the picked pre-label (a segmentation: painted into your drawing; else the label form opens on it)'
                                                         : 'Correct the picked pre-label (the label form opens on it)',
      run: () => picked && onCorrect(picked, spanText(picked)) },
    { key: keys.reject, description: 'Reject the picked pre-label', run: () => picked && onDecide(picked, 'rejected') },
  ], [prelabels, current, keys]);

  const name = (id: string) => classes.find((c) => c.id === id)?.name ?? id;
  const spanText = (p: Prelabel) => {
    const s = prelabelSpan(p);
    return s && text !== null ? codePointSlice(text, s.start, s.end) : '';
  };
  const quote = (p: Prelabel) => {
    const voxels = prelabelVoxels(p);
    return prelabelSpan(p) ? `“${spanText(p)}”` : voxels ? `${voxels.count} voxels` : p.evidence.kind;
  };
  const score = (p: Prelabel) => (p.score !== null ? ` · score ${p.score.toFixed(2)}` : '');
  return (
    <section aria-labelledby="prelabels-h" class="prelabels">
      <h2 id="prelabels-h">Pre-labels ({pending.length} to decide{decided ? `, ${decided} decided` : ''})</h2>
      {prelabels.length === 0 && <p class="muted">No suggestion for this {what}.</p>}
      <ul class="rows">
        {pending.map((p) => (
          <li key={p.id} class={p.id === current ? 'selected' : ''}>
            <button type="button" class="link" aria-pressed={p.id === current} onClick={() => onPick(p.id)}>
              {name(p.label.class)}: {quote(p)} · {p.assertion}{prelabelContext(p) ? ` · ${prelabelContext(p)}` : ''}{score(p)}
            </button>
            <span class="muted">{p.model.name}@{p.model.version}</span>
            <button type="button" onClick={() => onDecide(p, 'accepted')} aria-label={`Accept ${name(p.label.class)} ${quote(p)}`}>Accept</button>
            <button type="button" onClick={() => onCorrect(p, spanText(p))} aria-label={`Correct ${name(p.label.class)} ${quote(p)}`}>Correct</button>
            <button type="button" onClick={() => onDecide(p, 'rejected')} aria-label={`Reject ${name(p.label.class)} ${quote(p)}`}>Reject</button>
          </li>
        ))}
      </ul>
      {pending.length > 0 && <p class="muted"><kbd>{keyText(keys.next)}</kbd> picks the next, <kbd>{keyText(keys.accept)}</kbd> accepts,
        {' '}<kbd>{keyText(keys.correct)}</kbd> corrects, <kbd>{keyText(keys.reject)}</kbd> rejects.</p>}
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
