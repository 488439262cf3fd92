// The item being read, whatever its type: the note with span selection, the lab table, or the
// imaging facts (the volume reading room takes over once the volume API exists).

import { useEffect, useState } from 'preact/hooks';
import { fillPath } from '../api/client';
import type { Annotation, Item, LabelClass } from '../api/models';
import { ItemFacts, LabTable, NoteView, useItemText } from './item_viewer';
import type { Span } from './item_viewer';
import type { VolumeViewerProps } from './volume_viewer';

type Viewer = (p: VolumeViewerProps) => preact.JSX.Element;
let volumeViewer: Viewer | null = null;

// NiiVue is loaded with the first volume shown, not with the app.
function LazyVolumeViewer(props: VolumeViewerProps) {
  const [, setLoaded] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!volumeViewer) {
      import('./volume_viewer').then((m) => { volumeViewer = m.VolumeViewer; setLoaded(true); })
        .catch((e) => setError(String(e)));
    }
  }, []);
  if (error) return <p class="error" role="alert">Could not load the volume viewer: {error}</p>;
  const V = volumeViewer;
  return V ? <V {...props} /> : <p class="loading" role="status">Loading the volume viewer…</p>;
}

// Items stored as a NIfTI volume (gzip) open in the volume reading room.
export function isVolumeItem(item: Item): boolean {
  return item.data_type === 'imaging' && item.content_type === 'application/gzip';
}

export interface Evidence { data: Record<string, unknown>; summary: string }

export function ItemPane({ item, labels, evidence, onEvidence, segments = [], onSaveMask }:
    { item: Item; labels: Annotation[]; evidence: Evidence | null; onEvidence?: ((e: Evidence | null) => void) | undefined;
      segments?: LabelClass[]; onSaveMask?: VolumeViewerProps['onSaveMask'] }) {
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
      {isVolumeItem(item) && (
        <LazyVolumeViewer volumeUrl={fillPath('/api/v1/items/{item_id}/content', { item_id: item.id })}
                          modality={item.modality} segments={segments} readOnly={!onEvidence} onSaveMask={onSaveMask}
                          onMeasure={(mm) => onEvidence?.({ data: { length_mm: Number(mm.toFixed(2)) }, summary: `length ${mm.toFixed(1)} mm` })} />
      )}
      {item.data_type === 'imaging' && !isVolumeItem(item) && (
        <p class="notice">This item is a single image file ({item.content_type}); the volume reading room opens items
          the server offers as volumes. Label the whole item here.</p>
      )}
    </section>
  );
}
