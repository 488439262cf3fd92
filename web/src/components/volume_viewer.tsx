// The volume reading room's viewer: NiiVue (WebGL2) showing the server's NIfTI volume with the
// reader's mask as its drawing layer. Axial, coronal, sagittal, the three together and 3D;
// slice scrolling; window/level presets per modality; zoom and pan; crosshair; pen, filled
// pen, eraser, flood fill and threshold-assisted fill in segment colours; undo/redo;
// interpolation between slices; length measurement in mm. The mask leaves as NIfTI bytes
// (saveImage with an empty filename), never as a browser download. A model's segmentation
// pre-label is shown as a layer of its own (cyan, with its own opacity) over the volume, never in
// the reader's drawing unless the reader corrects it (then it is painted into the drawing). A
// mask file made elsewhere (NIfTI, or a DICOM-SEG of the item's series: 3D Slicer, a model) is
// imported with a button, Shift+I or by dropping it on the viewer, and becomes the drawing.
//
// Loaded only with this screen (dynamic import): NiiVue is most of the app's weight.

import { DRAG_MODE, NVImage, Niivue, SLICE_TYPE } from '@niivue/niivue';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LabelClass } from '../api/models';
import type { PrelabelVoxels } from './note_prelabels';
import { useKeysForShortcutsOnly, useShortcuts } from '../shortcuts';
import { kClassColours } from './markup';
import { fillEnclosedArea } from './slice_fill';

export interface WindowPreset { name: string; width: number; level: number }
export const kPresets: Record<string, WindowPreset[]> = {
  CT: [
    { name: 'Soft tissue', width: 400, level: 40 },
    { name: 'Liver', width: 160, level: 60 },
    { name: 'Lung', width: 1500, level: -600 },
    { name: 'Bone', width: 1800, level: 400 },
    { name: 'Brain', width: 80, level: 40 },
  ],
};

type Tool = 'navigate' | 'pan' | 'pen' | 'filled' | 'eraser' | 'measure';

// The pre-label layer's colour map: 0 transparent, 1 cyan (no segment colour is cyan before the
// seventh segment, and then a lighter one).
const kOverlayColormap = { R: [0, 0], G: [0, 255], B: [0, 255], A: [0, 255], I: [0, 255] };
export const kOverlayColour = 'rgb(0, 255, 255)';
// How long the opacity slider rests before NiiVue's textures are rebuilt with its value.
const kOpacitySettleMs = 200;

// The largest mask file imported: a 512×512×1000 uint8 label map is 250 MiB before gzip, a
// DICOM-SEG of it one bit a voxel per segment; a larger file is refused before it is read.
export const kMaxMaskImportBytes = 256 * 1024 * 1024;

// The Content-Type of a mask file, told by its bytes (names and the browser's type guesses are
// unreliable: a DICOM-SEG often has no extension): gzip's magic 1f 8b is a .nii.gz, "DICM" at
// offset 128 a DICOM Part 10 file (a SEG), anything else plain NIfTI for the server to judge.
export function maskContentType(bytes: Uint8Array): string {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'application/gzip';
  if (bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM') return 'application/dicom';
  return 'application/octet-stream';
}

// A stored mask shown over the volume in one colour (every label of it), toggled on and off: the
// adjudicator's view of each reading's mask and of their fused consensus. `load` gives its NIfTI
// bytes (.nii.gz, on the volume's grid).
export interface MaskLayer { id: string; name: string; colour: [number, number, number]; load: () => Promise<Uint8Array> }
const kLayerOpacity = 0.45;

// A model's voxels to show over the volume (`id` names the pre-label).
export interface VoxelOverlay { id: string; name: string; voxels: PrelabelVoxels }
// A request to paint a pre-label's voxels into the drawing as segment `segment` (0-based); a new
// `nonce` paints again.
export interface PaintRequest { nonce: number; segment: number; voxels: PrelabelVoxels }

// An uint8 image on the background's grid (its header, hence its orientation) holding `value` at
// the voxels' runs (linear indices of the NIfTI's own order, x fastest). Throws when the grids
// differ.
function voxelImage(back: NVImage, voxels: PrelabelVoxels, value: number): NVImage {
  const hdr = back.hdr!;
  const dims = [hdr.dims[1]!, hdr.dims[2]!, hdr.dims[3]!];
  if (dims.some((d, i) => d !== voxels.dims[i])) {
    throw new Error(`the pre-label's voxels are ${voxels.dims.join('×')} but the volume is ${dims.join('×')}`);
  }
  const n = dims[0]! * dims[1]! * dims[2]!;
  const data = new Uint8Array(n);
  for (const [start, length] of voxels.runs) {
    if (start < 0 || length < 0 || start + length > n) throw new Error(`the pre-label's run [${start}, ${length}] is outside the volume`);
    data.fill(value, start, start + length);
  }
  const img = new NVImage();
  img.hdr = Object.assign({}, hdr, { datatypeCode: 2, numBitsPerVoxel: 8, scl_slope: 1, scl_inter: 0, cal_min: 0, cal_max: value });
  img.img = data;
  img.name = 'prelabel';
  img.calculateRAS();
  img.cal_min = 0;
  img.cal_max = value;
  return img;
}

// Drawing values 1..n in the segment colours; 0 is transparent.
function drawColormap(segments: LabelClass[]) {
  const cmap = { R: [0], G: [0], B: [0], A: [0], I: [0], labels: [''] };
  segments.forEach((s, i) => {
    const c = kClassColours[i % kClassColours.length]!;
    cmap.R.push(c[0]); cmap.G.push(c[1]); cmap.B.push(c[2]); cmap.A.push(255); cmap.I.push(i + 1);
    cmap.labels.push(s.name);
  });
  return cmap;
}

// The phases of showing a volume, as performance marks `caliper.volume.<phase>` (the browser
// test prints the time between them): the viewer starting, NiiVue attached to its canvas, the
// volume's bytes fetched and gunzipped (together: a stream), parsed, its textures made (NiiVue's upload, colour
// mapping and gradients, waited for with gl.finish), its first frame, and the reader's drawing
// layer made (their saved mask or an empty one: NiiVue's drawing texture).
const kPhases = ['start', 'attached', 'fetched', 'parsed', 'uploaded', 'first-frame', 'drawing'] as const;
function mark(phase: typeof kPhases[number]) {
  performance.mark(`caliper.volume.${phase}`);
}
function since(phase: typeof kPhases[number]): number {
  const m = performance.getEntriesByName(`caliper.volume.${phase}`, 'mark').at(-1);
  return m ? performance.now() - m.startTime : NaN;
}

export interface VolumeViewerProps {
  volumeUrl: string;
  // The reader's saved mask as NIfTI bytes, or null when they have none; read once, after the
  // volume is shown (it becomes the drawing layer).
  loadMask?: (() => Promise<Uint8Array | null>) | undefined;
  modality: string;
  segments: LabelClass[];
  readOnly?: boolean;
  // Stores the drawing (NIfTI bytes, segment i painted as value i + 1); resolves with a status
  // line, rejects with the reason shown to the reader.
  onSaveMask?: ((nifti: Uint8Array) => Promise<string>) | undefined;
  onMeasure?: (mm: number) => void;
  // The picked segmentation pre-label, shown as its own layer; null for none.
  overlay?: VoxelOverlay | null | undefined;
  // Correcting a segmentation pre-label: its voxels painted into the drawing.
  paint?: PaintRequest | null | undefined;
  // A new value reloads the reader's saved mask as the drawing (an accepted pre-label made one).
  maskRevision?: number | undefined;
  // Whether the drawing holds changes not saved yet (told on every change of that).
  onUnsaved?: ((unsaved: boolean) => void) | undefined;
  // Stores a mask file as the reader's next mask version (bytes, their Content-Type, the file's
  // name); resolves with a status line once stored (the caller then moves maskRevision on, which
  // loads it as the drawing), rejects with the server's reason (the drawing is kept).
  onImportMask?: ((bytes: Uint8Array, contentType: string, name: string) => Promise<string>) | undefined;
  // Masks shown over the volume, each in its colour, with a switch (digits 1-9) to hide it.
  layers?: MaskLayer[] | undefined;
}

declare global {
  interface Window { caliperFirstSliceMs?: number }
}

export function VolumeViewer({ volumeUrl, loadMask, modality, segments, readOnly, onSaveMask, onMeasure,
                              overlay, paint, maskRevision, onUnsaved, onImportMask, layers = [] }: VolumeViewerProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const nvRef = useRef<Niivue | null>(null);
  const redo = useRef<Uint8Array[]>([]);
  const [status, setStatus] = useState('Loading the volume…');
  const [ready, setReady] = useState(false);
  const [view, setView] = useState<SLICE_TYPE>(SLICE_TYPE.AXIAL);
  const [tool, setTool] = useState<Tool>('navigate');
  const [segment, setSegment] = useState(0);
  const [preset, setPreset] = useState('');
  const [crosshair, setCrosshair] = useState(true);
  const [threshold, setThreshold] = useState({ min: 0, max: 200 });
  const [measurement, setMeasurement] = useState<number | null>(null);
  const [painted, setPainted] = useState<{ voxels: number; ml: number } | null>(null);
  const [saveError, setSaveError] = useState('');
  const [importError, setImportError] = useState('');
  const [importing, setImporting] = useState(false);
  const [dropTarget, setDropTarget] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const countTimer = useRef(0);
  const [overlayShown, setOverlayShown] = useState(true);
  const [overlayOpacity, setOverlayOpacity] = useState(0.5);  // the slider's
  const [appliedOpacity, setAppliedOpacity] = useState(0.5);  // NiiVue's
  const [overlayError, setOverlayError] = useState('');
  const overlayImage = useRef<NVImage | null>(null);
  // The mask layers as loaded: voxels labelled, shown or not, or why they could not be shown.
  const [layerState, setLayerState] = useState<Record<string, { voxels: number; shown: boolean; error?: string }>>({});
  const layerImages = useRef(new Map<string, NVImage>());
  // Changes since the drawing was loaded or saved.
  const unsaved = useRef(false);
  const setUnsaved = (u: boolean) => {
    if (unsaved.current === u) return;
    unsaved.current = u;
    canvas.current?.setAttribute('data-unsaved', String(u));
    onUnsaved?.(u);
  };
  const presets = kPresets[modality] ?? [];
  // NiiVue's own keys on the canvas (M and Ctrl cycle its drag mode, V its view, C and P clip
  // planes, "?" opens an alert) would work against the app's.
  useKeysForShortcutsOnly(canvas);

  useEffect(() => {
    for (const phase of kPhases) performance.clearMarks(`caliper.volume.${phase}`);
    mark('start');
    const nv = new Niivue({
      backColor: [0, 0, 0, 1], show3Dcrosshair: true, dragAndDropEnabled: false,
      isResizeCanvas: true, drawingEnabled: false,
    });
    nvRef.current = nv;
    let live = true;
    (async () => {
      await nv.attachToCanvas(canvas.current!);
      // Axial first: one slice is what a reader needs at once, and it draws fastest.
      nv.setSliceType(SLICE_TYPE.AXIAL);
      // Everything that shapes the volume's textures is set before the volume is added: each
      // later change (NiiVue's setDrawColormap, a window/level) rebuilds them, and for a
      // 512×512×300 CT without a GPU each rebuild costs as much as the first one (docs/web.md).
      nv.setDrawColormap(drawColormap(segments) as unknown as string);  // NiiVue takes a colour map object here too
      nv.setDrawOpacity(0.6);
      mark('attached');
      const response = await fetch(volumeUrl, { credentials: 'same-origin' });
      if (!response.ok || !response.body) throw new Error(`the server answered ${response.status}`);
      // Gunzipped while it arrives by the browser's DecompressionStream (native zlib, chunk by
      // chunk between the page's other tasks), not by NiiVue's JavaScript inflate in one block
      // once all of it is here: the page answers keys and clicks meanwhile.
      const bytes = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
      if (!live) return;
      mark('fetched');
      // NiiVue tells the format by the name: plain NIfTI now.
      const image = await NVImage.loadFromUrl({ url: bytes, name: 'volume.nii' });
      if (!live) return;
      mark('parsed');
      if (presets[0]) {
        image.cal_min = presets[0].level - presets[0].width / 2;
        image.cal_max = presets[0].level + presets[0].width / 2;
      }
      nv.addVolume(image);
      nv.gl.finish();
      mark('uploaded');
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      if (!live) return;
      mark('first-frame');
      window.caliperFirstSliceMs = Math.round(since('start'));
      canvas.current?.setAttribute('data-first-slice-ms', String(window.caliperFirstSliceMs));
      if (presets[0]) setPreset(presets[0].name);
      const saved = loadMask ? await loadMask() : null;
      if (!live) return;
      // NiiVue tells the format by the name (the bytes are .nii.gz from the server).
      if (saved && !nv.loadDrawing(await NVImage.loadFromUrl({ url: saved, name: 'mask.nii.gz' }))) {
        throw new Error('your saved mask does not fit this volume');
      }
      if (!saved) nv.createEmptyDrawing();
      mark('drawing');
      countPainted();
      // A new stroke ends the redo history (as in any editor); the mask's size is recounted.
      nv.onDrawingChanged = (action) => {
        if (action === 'draw') redo.current = [];
        if (action !== 'load') setUnsaved(true);
        countPainted();
      };
      nv.onMeasurementCompleted = (m) => {
        setMeasurement(m.distance);
        onMeasure?.(m.distance);
      };
      setReady(true);
      setStatus(`Volume shown in ${window.caliperFirstSliceMs} ms`);
    })().catch((e) => live && setStatus(`Could not show the volume: ${e instanceof Error ? e.message : String(e)}`));
    return () => {
      live = false;
      nvRef.current = null;
    };
  }, [volumeUrl]);

  // The pre-label layer: the picked segmentation pre-label's voxels over the volume (volume 1),
  // in cyan at the chosen opacity, or nothing.
  useEffect(() => {
    const nv = nvRef.current;
    if (!ready || !nv?.back) return;
    if (overlayImage.current) {
      nv.removeVolume(overlayImage.current);
      overlayImage.current = null;
    }
    setOverlayError('');
    canvas.current?.setAttribute('data-overlay-voxels', '0');
    if (!overlay) return;
    try {
      const img = voxelImage(nv.back, overlay.voxels, 1);
      nv.addColormap('caliper-prelabel', kOverlayColormap);
      img.colormap = 'caliper-prelabel';
      img.opacity = overlayShown ? appliedOpacity : 0;
      nv.addVolume(img);
      overlayImage.current = img;
      canvas.current?.setAttribute('data-overlay-voxels', String(overlay.voxels.count));
    } catch (e) {
      setOverlayError(`The pre-label cannot be shown: ${e instanceof Error ? e.message : String(e)}`);
    }
  }, [ready, overlay?.id]);
  // The mask layers, loaded once the volume is shown, each in its own colour map (0 clear,
  // every label its colour). data-layers on the canvas: each layer's labelled voxels.
  const layerKey = layers.map((l) => l.id).join(',');
  useEffect(() => {
    const nv = nvRef.current;
    if (!ready || !nv?.back || layers.length === 0) return;
    let live = true;
    (async () => {
      const state: Record<string, { voxels: number; shown: boolean; error?: string }> = {};
      for (const layer of layers) {
        try {
          const bytes = await layer.load();
          if (!live) return;
          const img = await NVImage.loadFromUrl({ url: bytes, name: `${layer.id}.nii.gz` });
          const dims = [1, 2, 3].map((d) => img.hdr!.dims[d]);
          const back = [1, 2, 3].map((d) => nv.back!.hdr!.dims[d]);
          if (dims.some((d, i) => d !== back[i])) throw new Error(`it is ${dims.join('×')} but the volume is ${back.join('×')}`);
          const [r, g, b] = layer.colour;
          nv.addColormap(`caliper-layer-${layer.id}`, { R: [0, r], G: [0, g], B: [0, b], A: [0, 255], I: [0, 255] });
          img.colormap = `caliper-layer-${layer.id}`;
          img.cal_min = 0;
          img.cal_max = 1;
          img.opacity = kLayerOpacity;
          let voxels = 0;
          const values = img.img as unknown as ArrayLike<number>;
          for (let i = 0; i < values.length; ++i) if (values[i]) ++voxels;
          if (!live) return;
          nv.addVolume(img);
          layerImages.current.set(layer.id, img);
          state[layer.id] = { voxels, shown: true };
        } catch (e) {
          state[layer.id] = { voxels: 0, shown: false, error: e instanceof Error ? e.message : String(e) };
        }
        setLayerState({ ...state });
      }
      canvas.current?.setAttribute('data-layers', JSON.stringify(Object.fromEntries(
        Object.entries(state).map(([id, st]) => [id, st.voxels]))));
    })();
    return () => {
      live = false;
      for (const img of layerImages.current.values()) if (nvRef.current === nv) nv.removeVolume(img);
      layerImages.current.clear();
    };
  }, [ready, layerKey]);
  const toggleLayer = (id: string) => {
    const nv = nvRef.current, img = layerImages.current.get(id), st = layerState[id];
    if (!nv || !img || !st) return;
    const shown = !st.shown;
    nv.setOpacity(nv.volumes.indexOf(img), shown ? kLayerOpacity : 0);
    setLayerState({ ...layerState, [id]: { ...st, shown } });
  };
  // NiiVue bakes an overlay's opacity into the volume textures: each change rebuilds them (for a
  // 512×512×300 CT without a GPU, as long as the first upload). The slider's value is shown at
  // once; NiiVue gets it once the slider rests (kOpacitySettleMs after the last input, a drag or
  // arrow keys held down). data-overlay-updates counts the rebuilds (the browser test reads it).
  const overlayUpdates = useRef(0);
  useEffect(() => {
    if (appliedOpacity === overlayOpacity) return;
    const timer = window.setTimeout(() => setAppliedOpacity(overlayOpacity), kOpacitySettleMs);
    return () => window.clearTimeout(timer);
  }, [overlayOpacity]);
  useEffect(() => {
    const nv = nvRef.current, img = overlayImage.current;
    if (!nv || !img) return;
    const at = nv.volumes.indexOf(img);
    const opacity = overlayShown ? appliedOpacity : 0;
    if (at < 0 || img.opacity === opacity) return;
    nv.setOpacity(at, opacity);
    overlayUpdates.current += 1;
    canvas.current?.setAttribute('data-overlay-updates', String(overlayUpdates.current));
    canvas.current?.setAttribute('data-overlay-opacity', String(opacity));
  }, [overlayShown, appliedOpacity, overlay?.id]);
  // Correcting a segmentation pre-label: the segment's voxels in the drawing become the model's
  // (other segments' voxels stay); the reader changes them and saves the mask.
  useEffect(() => {
    const nv = nvRef.current;
    if (!ready || !paint || !nv?.back || !nv.drawBitmap || readOnly) return;
    try {
      const before = nv.drawBitmap.slice();
      const value = paint.segment + 1;
      if (!nv.loadDrawing(voxelImage(nv.back, paint.voxels, value))) throw new Error('the pre-label does not fit the volume');
      const merged = nv.drawBitmap;
      for (let i = 0; i < merged.length; ++i) {
        const old = before[i]!;
        merged[i] = merged[i] ? (old && old !== value ? old : value) : (old === value ? 0 : old);
      }
      nv.drawClearAllUndoBitmaps();
      nv.drawAddUndoBitmap();
      nv.refreshDrawing(true);
      redo.current = [];
      chooseSegment(paint.segment);
      setUnsaved(true);
      countPainted();
    } catch (e) {
      setOverlayError(`The pre-label cannot be painted: ${e instanceof Error ? e.message : String(e)}`);
    }
  }, [ready, paint?.nonce]);
  // The saved mask again as the drawing (after the server made a new version of it).
  useEffect(() => {
    const nv = nvRef.current;
    if (!ready || !nv || !loadMask || maskRevision === undefined || maskRevision === 0) return;
    let live = true;
    (async () => {
      const saved = await loadMask();
      if (!live || !saved) return;
      if (!nv.loadDrawing(await NVImage.loadFromUrl({ url: saved, name: 'mask.nii.gz' }))) {
        throw new Error('your saved mask does not fit this volume');
      }
      redo.current = [];
      setUnsaved(false);
      countPainted();
    })().catch((e) => live && setOverlayError(`Could not reload your mask: ${e instanceof Error ? e.message : String(e)}`));
    return () => { live = false; };
  }, [ready, maskRevision]);

  // Painted voxels and their volume (mL), recounted a moment after the last change.
  const countPainted = () => {
    window.clearTimeout(countTimer.current);
    countTimer.current = window.setTimeout(() => {
      const nv = nvRef.current;
      const bitmap = nv?.drawBitmap;
      const dims = nv?.back?.pixDims;
      if (!bitmap || !dims) return;
      let voxels = 0;
      for (let i = 0; i < bitmap.length; ++i) if (bitmap[i]) ++voxels;
      const ml = (voxels * (dims[1] ?? 1) * (dims[2] ?? 1) * (dims[3] ?? 1)) / 1000;
      setPainted({ voxels, ml });
      canvas.current?.setAttribute('data-painted-voxels', String(voxels));
    }, 250);
  };
  const applyPreset = (p: WindowPreset) => {
    const nv = nvRef.current;
    const vol = nv?.volumes[0];
    if (!nv || !vol) return;
    vol.cal_min = p.level - p.width / 2;
    vol.cal_max = p.level + p.width / 2;
    nv.updateGLVolume();
    setPreset(p.name);
  };
  const chooseView = (v: SLICE_TYPE) => { nvRef.current?.setSliceType(v); setView(v); };
  const chooseTool = (t: Tool) => {
    const nv = nvRef.current;
    if (!nv) return;
    const drawing = t === 'pen' || t === 'filled' || t === 'eraser';
    nv.setDrawingEnabled(drawing && !readOnly);
    if (t === 'pen') nv.setPenValue(segment + 1, false);
    if (t === 'filled') nv.setPenValue(segment + 1, true);
    if (t === 'eraser') nv.setPenValue(0, false);
    // NiiVue's drag mode is the right button's; the left button's is dragModePrimary (the
    // crosshair unless set), so pan and measure set both: a left drag pans or measures.
    nv.setDragMode(t === 'pan' ? DRAG_MODE.pan : t === 'measure' ? DRAG_MODE.measurement : DRAG_MODE.contrast);
    nv.opts.dragModePrimary = t === 'pan' ? DRAG_MODE.pan : t === 'measure' ? DRAG_MODE.measurement : DRAG_MODE.crosshair;
    setTool(t);
  };
  const chooseSegment = (i: number) => {
    setSegment(i);
    const nv = nvRef.current;
    if (nv && (tool === 'pen' || tool === 'filled')) nv.setPenValue(i + 1, tool === 'filled');
  };
  const crosshairVoxel = (): number[] => {
    const nv = nvRef.current!;
    return Array.from(nv.frac2vox(nv.scene.crosshairPos as unknown as [number, number, number]));
  };
  // Fill from the crosshair (fillArea); with `thresholded`, NiiVue's flood fill of the connected
  // voxels whose intensity is within [min, max] (threshold-assisted painting).
  const fill = (thresholded: boolean) => {
    const nv = nvRef.current;
    if (!nv || readOnly) return;
    if (thresholded) {
      // NiiVue (0.69) applies an intensity range only when growing (third argument non-zero),
      // and then paints with the pen value (or the seed's colour), not the colour passed: the
      // segment's colour is lent to the pen for the fill (the eraser's 0 would paint nothing).
      const pen = nv.opts.penValue;
      nv.opts.penValue = segment + 1;
      nv.drawFloodFill(crosshairVoxel(), segment + 1, Number.POSITIVE_INFINITY, threshold.min, threshold.max, 6,
                       Infinity, true);
      nv.opts.penValue = pen;
    } else if (!fillArea()) {
      return;
    }
    nv.refreshDrawing(true);
    setUnsaved(true);
    countPainted();
  };
  // G: from a painted voxel, NiiVue recolours its connected region of the slice in the segment's
  // colour; from an unpainted one, the enclosed unpainted area of the slice around it is painted
  // (slice_fill.ts), or nothing when the area reaches the slice's edge. The slice is the view's
  // plane (with all views shown, the plane last drawn on; axial before any stroke). False when
  // nothing changed.
  const fillArea = (): boolean => {
    const nv = nvRef.current!;
    const bitmap = nv.drawBitmap, dims = nv.back?.dims;
    if (!bitmap || !dims) return false;
    const plane = view === SLICE_TYPE.AXIAL || view === SLICE_TYPE.CORONAL || view === SLICE_TYPE.SAGITTAL
      ? view : [SLICE_TYPE.AXIAL, SLICE_TYPE.CORONAL, SLICE_TYPE.SAGITTAL][nv.drawPenAxCorSag] ?? SLICE_TYPE.AXIAL;
    const axis = plane === SLICE_TYPE.SAGITTAL ? 0 : plane === SLICE_TYPE.CORONAL ? 1 : 2;
    const planeName = axis === 0 ? 'sagittal' : axis === 1 ? 'coronal' : 'axial';
    const outcome = fillEnclosedArea(bitmap, [dims[1]!, dims[2]!, dims[3]!], crosshairVoxel(), axis, segment + 1);
    if ('filled' in outcome) {
      nv.drawAddUndoBitmap();  // one undo step, as NiiVue's own fills make
      redo.current = [];
      setStatus(`Filled ${outcome.filled} voxels of the ${planeName} slice with ${segments[segment]?.name ?? `value ${segment + 1}`}.`);
      return true;
    }
    if (outcome.refused === 'painted') {
      nv.drawFloodFill(crosshairVoxel(), segment + 1, 0, NaN, NaN, 6, Infinity, true);
      redo.current = [];
      return true;
    }
    setStatus(outcome.refused === 'open'
      ? `Nothing filled: the unpainted area around the crosshair reaches the edge of the ${planeName} slice. Close its outline first (pen), then press G inside it.`
      : 'Nothing filled: the crosshair is outside the volume.');
    return false;
  };
  const undo = () => {
    const nv = nvRef.current;
    if (!nv?.drawBitmap) return;
    redo.current.push(nv.drawBitmap.slice());
    nv.drawUndo();
    setUnsaved(true);
    countPainted();
  };
  const redoLast = () => {
    const nv = nvRef.current;
    const next = redo.current.pop();
    if (!nv || !next || !nv.drawBitmap) return;
    nv.drawBitmap.set(next);
    nv.refreshDrawing(true);
    setUnsaved(true);
    countPainted();
  };
  const interpolate = () => {
    const nv = nvRef.current;
    if (!nv || readOnly) return;
    nv.interpolateMaskSlices(undefined, undefined, { sliceType: view === SLICE_TYPE.MULTIPLANAR ? SLICE_TYPE.AXIAL : view });
    nv.refreshDrawing(true);
    setUnsaved(true);
    countPainted();
  };
  const zoom = (factor: number) => {
    const nv = nvRef.current;
    if (!nv) return;
    const p = nv.scene.pan2Dxyzmm;
    p[3] = Math.min(8, Math.max(0.25, p[3]! * factor));
    nv.drawScene();
  };
  const scroll = (delta: number) => {
    const nv = nvRef.current;
    if (!nv) return;
    if (view === SLICE_TYPE.CORONAL) nv.moveCrosshairInVox(0, delta, 0);
    else if (view === SLICE_TYPE.SAGITTAL) nv.moveCrosshairInVox(delta, 0, 0);
    else nv.moveCrosshairInVox(0, 0, delta);
  };
  const toggleCrosshair = () => {
    nvRef.current?.setCrosshairWidth(crosshair ? 0 : 1);
    setCrosshair(!crosshair);
  };
  const save = async () => {
    const nv = nvRef.current;
    if (!nv || !onSaveMask) return;
    setSaveError('');
    setStatus('Saving the mask…');
    try {
      const bytes = await nv.saveImage({ filename: '', isSaveDrawing: true, volumeByIndex: 0 });
      if (!(bytes instanceof Uint8Array)) throw new Error('NiiVue returned no mask');
      const saved = await onSaveMask(bytes);
      setUnsaved(false);
      setStatus(saved);
    } catch (e) {
      setStatus('The mask was not saved.');
      setSaveError(e instanceof Error ? e.message : String(e));
    }
  };
  // The shortcut calls the latest `save` (and so the latest onSaveMask), not the one of the
  // render that registered it.
  const saveRef = useRef(save);
  saveRef.current = save;
  const canSave = ready && !readOnly && onSaveMask !== undefined && segments.length > 0;
  // A mask file as the reader's next version. Refused here when too large or empty; strokes not
  // saved yet are replaced only when the reader says so; the server's refusal is shown and the
  // drawing stays as it is.
  const canImport = ready && !readOnly && onImportMask !== undefined && segments.length > 0;
  const importMask = async (file: File) => {
    if (!canImport || importing) return;
    setImportError('');
    if (file.size === 0) {
      setImportError(`${file.name} is empty.`);
      return;
    }
    if (file.size > kMaxMaskImportBytes) {
      setImportError(`${file.name} is ${file.size.toLocaleString('en-US')} bytes, larger than the ` +
                     `${kMaxMaskImportBytes / 1048576} MiB a mask file may have. Nothing was sent.`);
      return;
    }
    if (unsaved.current && !window.confirm(`Your drawing has strokes that are not saved. Replace it with ${file.name}? ` +
                                           'The strokes are lost (save the mask first to keep them as a version).')) {
      return;
    }
    setImporting(true);
    setStatus(`Importing ${file.name}…`);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      setStatus(await onImportMask!(bytes, maskContentType(bytes), file.name));
      canvas.current?.setAttribute('data-imported', file.name);
    } catch (e) {
      setStatus(`${file.name} was not imported; the drawing is unchanged.`);
      setImportError(e instanceof Error ? e.message : String(e));
    } finally {
      setImporting(false);
    }
  };
  const importRef = useRef(importMask);
  importRef.current = importMask;
  const openFile = () => { if (canImport) fileInput.current?.click(); };
  // Dropping one file on the viewer imports it (several: none of them).
  const dropFiles = (files: FileList | undefined | null) => {
    if (!files || files.length === 0) return;
    if (files.length > 1) {
      setImportError(`${files.length} files were dropped; drop one mask file (NIfTI or DICOM-SEG).`);
      return;
    }
    void importRef.current(files[0]!);
  };
  const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;

  useShortcuts(ready ? [
    { key: 'a', description: 'Axial view', run: () => chooseView(SLICE_TYPE.AXIAL) },
    { key: 'c', description: 'Coronal view', run: () => chooseView(SLICE_TYPE.CORONAL) },
    { key: 's', description: 'Sagittal view', run: () => chooseView(SLICE_TYPE.SAGITTAL) },
    { key: 'm', description: 'Axial, coronal, sagittal and 3D together', run: () => chooseView(SLICE_TYPE.MULTIPLANAR) },
    { key: 'r', description: '3D rendering', run: () => chooseView(SLICE_TYPE.RENDER) },
    { key: 'ArrowUp', description: 'Next slice', run: () => scroll(1) },
    { key: 'ArrowDown', description: 'Previous slice', run: () => scroll(-1) },
    { key: '+', description: 'Zoom in', run: () => zoom(1.25) },
    { key: '-', description: 'Zoom out', run: () => zoom(0.8) },
    { key: 'h', description: 'Pan (drag) tool', run: () => chooseTool('pan') },
    { key: 'v', description: 'Navigate: click moves the crosshair, drag sets window/level', run: () => chooseTool('navigate') },
    { key: 'x', description: 'Show or hide the crosshair', run: toggleCrosshair },
    ...(overlay ? [{ key: 'o', description: 'Show or hide the pre-label overlay', run: () => setOverlayShown((v) => !v) }] : []),
    ...layers.slice(0, 9).map((l, i) => ({ key: String(i + 1), description: `Show or hide ${l.name}`, run: () => toggleLayer(l.id) })),
    { key: 'w', description: 'Next window/level preset', run: () => {
      const i = presets.findIndex((p) => p.name === preset);
      const next = presets[(i + 1) % Math.max(1, presets.length)];
      if (next) applyPreset(next);
    } },
    { key: 'p', description: 'Pen', run: () => chooseTool('pen') },
    { key: 'f', description: 'Filled pen (closed outline is filled)', run: () => chooseTool('filled') },
    { key: 'e', description: 'Eraser', run: () => chooseTool('eraser') },
    { key: 'g', description: 'Fill from the crosshair: the enclosed unpainted area of the slice, or the painted region there in the segment\'s colour', run: () => fill(false) },
    { key: 't', description: 'Threshold fill from the crosshair (intensity range)', run: () => fill(true) },
    { key: 'i', description: 'Interpolate the mask between drawn slices', run: interpolate },
    { key: 'l', description: 'Length measurement (drag a line)', run: () => chooseTool('measure') },
    { key: 'ctrl+z', description: 'Undo', run: undo },
    { key: 'ctrl+y', description: 'Redo', run: redoLast },
    ...(canSave ? [{ key: 'ctrl+m', description: 'Save the mask (the labels of its segments rest on it)', run: () => void saveRef.current() }] : []),
    ...(canImport ? [{ key: 'shift+i', description: 'Import a mask file (NIfTI or DICOM-SEG) as your next mask version', run: openFile }] : []),
    ...segments.slice(0, 9).map((s, i) => ({ key: `shift+F${i + 1}`, description: `Segment: ${s.name}`, run: () => chooseSegment(i) })),
  ] : [], [ready, view, tool, segment, preset, crosshair, threshold, canSave, canImport, overlay?.id, layerKey, layerState]);

  const toolButton = (t: Tool, label: string, key: string) => (
    <button type="button" aria-pressed={tool === t} onClick={() => chooseTool(t)} disabled={!ready || (readOnly && ['pen', 'filled', 'eraser'].includes(t))}>
      {label} <kbd>{key}</kbd>
    </button>
  );
  return (
    <section class="volume" aria-label="Volume viewer">
      <div class="toolbar" role="toolbar" aria-label="View">
        {([[SLICE_TYPE.AXIAL, 'Axial', 'A'], [SLICE_TYPE.CORONAL, 'Coronal', 'C'], [SLICE_TYPE.SAGITTAL, 'Sagittal', 'S'],
           [SLICE_TYPE.MULTIPLANAR, 'All', 'M'], [SLICE_TYPE.RENDER, '3D', 'R']] as [SLICE_TYPE, string, string][]).map(([v, label, key]) => (
          <button key={label} type="button" aria-pressed={view === v} onClick={() => chooseView(v)} disabled={!ready}>{label} <kbd>{key}</kbd></button>
        ))}
        <label>Window
          <select value={preset} onChange={(e) => { const p = presets.find((x) => x.name === e.currentTarget.value); if (p) applyPreset(p); }} disabled={!ready}>
            <option value="">(drag to set)</option>
            {presets.map((p) => <option key={p.name} value={p.name}>{p.name} W{p.width} L{p.level}</option>)}
          </select>
        </label>
        <button type="button" onClick={() => zoom(1.25)} disabled={!ready} aria-label="Zoom in">+</button>
        <button type="button" onClick={() => zoom(0.8)} disabled={!ready} aria-label="Zoom out">−</button>
        <button type="button" aria-pressed={crosshair} onClick={toggleCrosshair} disabled={!ready}>Crosshair <kbd>X</kbd></button>
      </div>
      <div class="toolbar" role="toolbar" aria-label="Tools">
        {toolButton('navigate', 'Navigate', 'V')}
        {toolButton('pan', 'Pan', 'H')}
        {toolButton('pen', 'Pen', 'P')}
        {toolButton('filled', 'Filled pen', 'F')}
        {toolButton('eraser', 'Eraser', 'E')}
        <button type="button" onClick={() => fill(false)} disabled={!ready || readOnly}>Fill <kbd>G</kbd></button>
        <button type="button" onClick={() => fill(true)} disabled={!ready || readOnly}>Threshold fill <kbd>T</kbd></button>
        <label class="inline">min <input type="number" value={threshold.min} style={{ width: '5rem' }}
          onInput={(e) => setThreshold({ ...threshold, min: Number(e.currentTarget.value) })} /></label>
        <label class="inline">max <input type="number" value={threshold.max} style={{ width: '5rem' }}
          onInput={(e) => setThreshold({ ...threshold, max: Number(e.currentTarget.value) })} /></label>
        <button type="button" onClick={undo} disabled={!ready}>Undo <kbd>Ctrl+Z</kbd></button>
        <button type="button" onClick={redoLast} disabled={!ready}>Redo <kbd>Ctrl+Y</kbd></button>
        <button type="button" onClick={interpolate} disabled={!ready || readOnly}>Interpolate <kbd>I</kbd></button>
        {toolButton('measure', 'Measure', 'L')}
      </div>
      {segments.length > 0 && (
        <div class="toolbar" role="radiogroup" aria-label="Segment">
          {segments.map((s, i) => {
            const c = kClassColours[i % kClassColours.length]!;
            return (
              <label key={s.id} class="inline segment">
                <input type="radio" name="segment" checked={segment === i} onChange={() => chooseSegment(i)} />
                <span class="swatch" style={{ background: `rgb(${c.join(',')})` }} />{s.name}
              </label>
            );
          })}
          {onSaveMask && !readOnly && <button type="button" class="primary" onClick={() => void save()} disabled={!canSave}>Save mask <kbd>Ctrl+M</kbd></button>}
          {onImportMask && !readOnly && (
            <>
              <button type="button" onClick={openFile} disabled={!canImport || importing}
                      title="A NIfTI label map (.nii, .nii.gz) or a DICOM-SEG of this series; or drop the file on the viewer">
                Import mask… <kbd>Shift+I</kbd></button>
              <input ref={fileInput} type="file" hidden aria-label="Mask file to import"
                     onChange={(e) => {
                       const file = e.currentTarget.files?.[0];
                       e.currentTarget.value = '';  // the same file chosen again imports again
                       canvas.current?.focus();  // not the hidden input: the room's keys work again
                       if (file) void importMask(file);
                     }} />
            </>
          )}
        </div>
      )}
      {overlay && (
        <div class="toolbar" role="group" aria-label="Pre-label overlay">
          <span class="swatch" style={{ background: kOverlayColour }} />
          <label class="inline"><input type="checkbox" checked={overlayShown} onChange={(e) => setOverlayShown(e.currentTarget.checked)} />
            Pre-label overlay: {overlay.name} ({overlay.voxels.count} voxels) <kbd>O</kbd></label>
          <label class="inline">opacity <input type="range" min={0} max={1} step={0.05} value={overlayOpacity}
            aria-valuetext={`${Math.round(overlayOpacity * 100)}%`}
            onInput={(e) => setOverlayOpacity(Number(e.currentTarget.value))} /></label>
        </div>
      )}
      {layers.length > 0 && (
        <div class="toolbar" role="group" aria-label="Masks shown">
          {layers.map((l, i) => {
            const st = layerState[l.id];
            return (
              <label key={l.id} class="inline">
                <input type="checkbox" checked={st?.shown ?? false} disabled={!st || st.error !== undefined}
                       onChange={() => toggleLayer(l.id)} />
                <span class="swatch" style={{ background: `rgb(${l.colour.join(',')})` }} />
                {l.name} {st ? (st.error ? <span class="error">(not shown: {st.error})</span> : <span class="muted">({st.voxels} voxels)</span>)
                  : <span class="muted">(loading…)</span>} {i < 9 && <kbd>{i + 1}</kbd>}
              </label>
            );
          })}
        </div>
      )}
      {overlayError && <p class="error" role="alert">{overlayError}</p>}
      {saveError && <p class="error" role="alert">Could not save the mask: {saveError}</p>}
      {importError && <p class="error" role="alert">The mask file was not imported: {importError}</p>}
      <div class={`canvas-wrap${dropTarget ? ' drop-target' : ''}`}
           onDragOver={canImport ? (e) => { if (carriesFiles(e)) { e.preventDefault(); setDropTarget(true); } } : undefined}
           onDragLeave={canImport ? () => setDropTarget(false) : undefined}
           onDrop={canImport ? (e) => { e.preventDefault(); setDropTarget(false); dropFiles(e.dataTransfer?.files); } : undefined}>
        <canvas ref={canvas} aria-label="Volume slices" tabIndex={0} />
      </div>
      <p class="muted" role="status">{status}{measurement !== null ? ` · last length ${measurement.toFixed(1)} mm` : ''}
        {painted ? ` · mask ${painted.voxels} voxels (${painted.ml.toFixed(2)} mL)` : ''}</p>
    </section>
  );
}
