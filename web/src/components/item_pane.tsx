// The item being read, whatever its type: the note with span selection, the lab table, or the
// imaging facts (the volume reading room takes over once the volume API exists).

import type { Annotation, Item } from '../api/models';
import { ItemFacts, LabTable, NoteView, useItemText } from './item_viewer';
import type { Span } from './item_viewer';

export interface Evidence { data: Record<string, unknown>; summary: string }

export function ItemPane({ item, labels, evidence, onEvidence }:
    { item: Item; labels: Annotation[]; evidence: Evidence | null; onEvidence?: (e: Evidence | null) => void }) {
  const [text, error] = useItemText(item);
  const selected = evidence && typeof evidence.data['start'] === 'number'
    ? { start: evidence.data['start'] as number, end: evidence.data['end'] as number, text: String(evidence.data['text']) }
    : null;
  const select = (s: Span | null) =>
    onEvidence?.(s ? { data: { start: s.start, end: s.end, text: s.text }, summary: `characters ${s.start}–${s.end}: “${s.text}”` } : null);
  return (
    <section class="item-pane" aria-label="Item">
      <ItemFacts item={item} />
      {error && <p class="error" role="alert">{error}</p>}
      {item.data_type === 'notes' && text !== null && <NoteView text={text} spans={labels} selected={selected} onSelect={select} />}
      {item.data_type === 'labs' && text !== null && <LabTable text={text} />}
      {item.data_type === 'imaging' && (
        <p class="notice">This item is a single image file ({item.content_type}); the volume reading room opens items
          the server offers as volumes. Label the whole item here.</p>
      )}
    </section>
  );
}
