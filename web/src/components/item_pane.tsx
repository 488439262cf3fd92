// The item being read, whatever its type: the note with span selection (and its patient's labs
// under it), the lab results, the volume reading room (the item's volume.nii.gz, with the
// reader's own saved mask when asked), the slide reading room (pathology) or the ECG reading
// room (waveforms).

import { ApiError, api, fillPath } from '../api/client';
import type { Annotation, Item, LabelClass } from '../api/models';
import { lazyComponent } from '../lazy';
import { ItemFacts, NoteView, useItemText } from './item_viewer';
import { LabItemResults, PatientLabsPanel } from './labs';
import type { Span } from './item_viewer';
import type { MaskLayer, PaintRequest, VolumeViewerProps } from './volume_viewer';
import type { SlideViewerProps } from './slide_viewer';
import type { EcgViewerProps } from './ecg_viewer';
import { PrelabelPanel, kVolumePrelabelKeys, prelabelVoxels } from './note_prelabels';
import type { PrelabelPanelProps } from './note_prelabels';

// A viewer whose module (and its heavy library) loads with the first item that needs it, not
// with the app: NiiVue for volumes, OpenSeadragon + Annotorious for slides, the ECG canvas.
function lazyViewer<P extends object>(what: string, load: () => Promise<(p: P) => preact.JSX.Element>) {
  return lazyComponent<P>(load, () => <p class="loading" role="status">Loading the {what}…</p>,
                          (error) => <p class="error" role="alert">Could not load the {what}: {error}</p>);
}
const LazyVolumeViewer = lazyViewer<VolumeViewerProps>('volume viewer', () => import('./volume_viewer').then((m) => m.VolumeViewer));
const LazySlideViewer = lazyViewer<SlideViewerProps>('slide viewer', () => import('./slide_viewer').then((m) => m.SlideViewer));
const LazyEcgViewer = lazyViewer<EcgViewerProps>('ECG viewer', () => import('./ecg_viewer').then((m) => m.EcgViewer));

// Items stored as a NIfTI volume (gzip) open in the volume reading room.
export function isVolumeItem(item: Item): boolean {
  return item.data_type === 'imaging' && item.content_type === 'application/gzip';
}

export interface Evidence { data: Record<string, unknown>; summary: string }

// The caller's latest mask on the item (.nii.gz bytes), or null when they have saved none.
async function loadOwnMask(item_id: string): Promise<Uint8Array | null> {
  try {
    const res = await api.getRaw('/api/v1/items/{item_id}/mask', { item_id });
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

// `layers`: stored masks shown over a volume (the adjudicator's readings and their consensus).
// `ownMask`: the volume opens with the caller's saved mask as its drawing layer (the reader's
// own task); `onSaveMask` stores the drawing. `classes`: the guideline's classes for the item
// (what slide regions, ECG intervals and beats are labelled with). `prelabels`: a note's or a
// volume's pre-labels, listed under it to be decided (a note's drawn on the text, the picked
// segmentation of a volume over it); `volume`: the volume room's part in deciding them (a
// corrected segmentation painted into the drawing, the mask reloaded after an accepted one or an
// imported mask file, unsaved changes told, mask files imported).
export function ItemPane({ item, labels, evidence, onEvidence, segments = [], classes = [], ownMask = false, onSaveMask, prelabels, volume,
                          layers }:
    { item: Item; labels: Annotation[]; evidence: Evidence | null; onEvidence?: ((e: Evidence | null) => void) | undefined;
      segments?: LabelClass[]; classes?: LabelClass[]; ownMask?: boolean; onSaveMask?: VolumeViewerProps['onSaveMask'];
      layers?: MaskLayer[] | undefined;
      prelabels?: Omit<PrelabelPanelProps, 'text' | 'classes'> | undefined;
      volume?: { paint: PaintRequest | null; maskRevision: number; onUnsaved: (unsaved: boolean) => void;
                 onImportMask?: VolumeViewerProps['onImportMask'] } | undefined }) {
  const [text, error, phi] = useItemText(item);
  const selected = evidence && typeof evidence.data['start'] === 'number'
    ? { start: evidence.data['start'] as number, end: evidence.data['end'] as number, text: String(evidence.data['text']) }
    : null;
  // The picked pre-label, when it is a segmentation (voxels), over the volume.
  const picked = prelabels?.prelabels.find((p) => p.id === prelabels.current && p.status === 'pending');
  const pickedVoxels = picked ? prelabelVoxels(picked) : null;
  const overlay = picked && pickedVoxels
    ? { id: picked.id, name: `${classes.find((c) => c.id === picked.label.class)?.name ?? picked.label.class} (${picked.model.name}@${picked.model.version})`, voxels: pickedVoxels }
    : null;
  const select = (s: Span | null) =>
    onEvidence?.(s ? { data: { start: s.start, end: s.end, text: s.text }, summary: `characters ${s.start}–${s.end}: “${s.text}”` } : null);
  return (
    <section class="item-pane" aria-label="Item">
      <ItemFacts item={item} />
      {error && <p class="error" role="alert">{error}</p>}
      {item.data_type === 'notes' && text !== null && (
        <NoteView text={text} spans={labels} selected={selected} onSelect={select} phi={phi}
                  suggestions={prelabels && { pending: prelabels.prelabels.filter((p) => p.status === 'pending'),
                                              current: prelabels.current, onPick: prelabels.onPick }} />
      )}
      {item.data_type === 'notes' && prelabels && <PrelabelPanel {...prelabels} text={text} classes={classes} />}
      {item.data_type === 'notes' && <PatientLabsPanel itemId={item.id} />}
      {item.data_type === 'labs' && text !== null && <LabItemResults text={text} contentType={item.content_type} />}
      {isVolumeItem(item) && (
        <LazyVolumeViewer volumeUrl={fillPath('/api/v1/items/{item_id}/volume.nii.gz', { item_id: item.id })}
                          loadMask={ownMask ? () => loadOwnMask(item.id) : undefined}
                          modality={item.modality} segments={segments} readOnly={!onEvidence} onSaveMask={onSaveMask}
                          onMeasure={(mm) => onEvidence?.({ data: { length_mm: Number(mm.toFixed(2)) }, summary: `length ${mm.toFixed(1)} mm` })}
                          overlay={overlay} paint={volume?.paint} maskRevision={volume?.maskRevision} onUnsaved={volume?.onUnsaved}
                          onImportMask={volume?.onImportMask}
                          layers={layers} />
      )}
      {isVolumeItem(item) && prelabels && <PrelabelPanel {...prelabels} text={null} classes={classes} keys={kVolumePrelabelKeys} what="volume" />}
      {item.data_type === 'pathology' && <LazySlideViewer itemId={item.id} classes={classes} readOnly={!onEvidence} />}
      {item.data_type === 'waveforms' && <LazyEcgViewer itemId={item.id} classes={classes} readOnly={!onEvidence} />}
      {item.data_type === 'imaging' && !isVolumeItem(item) && (
        <p class="notice">This item is a single image file ({item.content_type}); the volume reading room opens items
          the server offers as volumes. Label the whole item here.</p>
      )}
    </section>
  );
}
