// The slide reading room's viewer: OpenSeadragon showing the server's Deep Zoom tiles of a
// whole-slide image (through a viewer session: tiles are served only while it lives), and
// Annotorious drawing the reader's regions on it — polygons and rectangles; points are a click
// handler of ours (Annotorious 3 has no point tool), shown as overlays and stored as a
// zero-size rectangle. Each region carries a class of the schema, a confidence and a
// "borderline" flag. Save stores them as the reader's next version of W3C Web Annotations in
// level-0 pixels (PUT /items/{id}/regions); the room opens with the reader's latest.
//
// Loaded only with this room (dynamic import): OpenSeadragon and Annotorious (with PixiJS) are
// most of its weight.

import OpenSeadragon from 'openseadragon';
import { createOSDAnnotator, W3CImageFormat } from '@annotorious/openseadragon';
import type { ImageAnnotation, OpenSeadragonAnnotator, W3CImageAnnotation } from '@annotorious/openseadragon';
import '@annotorious/openseadragon/annotorious-openseadragon.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText } from '../api/client';
import type { LabelClass, RegionAnnotation, RegionBody, RegionSelector } from '../api/models';
import { useUnsavedWork } from '../router';
import { useKeysForShortcutsOnly, useShortcuts } from '../shortcuts';
import { classColour, classOption } from './markup';

type Tool = 'navigate' | 'polygon' | 'rectangle' | 'point';
type Kind = 'polygon' | 'rectangle' | 'point';

// What the reader says about a region (its bodies).
interface RegionMeta { kind: Kind; cls: string; confidence: number; borderline: boolean }

// One step of the room's undo history, in the order the reader took them: a change of shapes,
// which Annotorious recorded in its own history (undone and redone there), or a point added or
// deleted, which is ours (Annotorious has no points).
type Step = { kind: 'shapes' } | { kind: 'point'; added: boolean; id: string; x: number; y: number; meta: RegionMeta };

export interface SlideViewerProps {
  itemId: string;
  classes: LabelClass[];   // the schema's classes that apply to pathology
  readOnly?: boolean;
}

const kContext = 'http://www.w3.org/ns/anno.jsonld';
const kMediaFrags = 'http://www.w3.org/TR/media-frags/';

// The bodies of a region (the shape's own bodies from Annotorious are replaced by these).
export function regionBodies(m: RegionMeta): RegionBody[] {
  return [
    { type: 'TextualBody', purpose: 'classifying', value: m.cls },
    { type: 'TextualBody', purpose: 'caliper:confidence', value: String(m.confidence) },
    ...(m.borderline ? [{ type: 'TextualBody' as const, purpose: 'caliper:borderline', value: 'true' }] : []),
  ];
}

function metaOf(a: { body?: unknown }, kind: Kind, fallback: RegionMeta): RegionMeta {
  const bodies = (Array.isArray(a.body) ? a.body : a.body ? [a.body] : []) as Partial<RegionBody>[];
  const value = (purpose: string) => bodies.find((b) => b.purpose === purpose)?.value;
  const confidence = Number(value('caliper:confidence'));
  return {
    kind,
    cls: value('classifying') ?? fallback.cls,
    confidence: Number.isFinite(confidence) ? confidence : fallback.confidence,
    borderline: value('caliper:borderline') === 'true',
  };
}

// "xywh=pixel:x,y,w,h" → numbers, or null.
function fragment(value: string): [number, number, number, number] | null {
  const m = value.match(/^xywh=(?:pixel:)?([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)$/);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] : null;
}

// A selector in whole level-0 pixels inside the slide (the server refuses coordinates outside it;
// a shape drawn over the edge keeps the part on the slide).
function clampSelector(s: RegionSelector, width: number, height: number): RegionSelector {
  const cx = (x: number) => Math.min(width, Math.max(0, Math.round(x)));
  const cy = (y: number) => Math.min(height, Math.max(0, Math.round(y)));
  if (s.type === 'FragmentSelector') {
    const f = fragment(s.value);
    if (!f) return s;
    const [x, y, w, h] = f;
    const x0 = cx(x), y0 = cy(y), x1 = cx(x + w), y1 = cy(y + h);
    return { type: 'FragmentSelector', conformsTo: kMediaFrags, value: `xywh=pixel:${x0},${y0},${x1 - x0},${y1 - y0}` };
  }
  const points = s.value.match(/points="([^"]*)"/)?.[1];
  if (!points) return s;
  const clamped = points.trim().split(/\s+/).map((p) => {
    const [x, y] = p.split(',').map(Number);
    return `${cx(x ?? 0)},${cy(y ?? 0)}`;
  });
  return { type: 'SvgSelector', value: `<svg><polygon points="${clamped.join(' ')}"/></svg>` };
}

function kindOf(selector: RegionSelector | undefined): Kind | null {
  if (!selector) return null;
  if (selector.type === 'SvgSelector') return selector.value.includes('<polygon') ? 'polygon' : null;
  const f = fragment(selector.value);
  if (!f) return null;
  return f[2] === 0 && f[3] === 0 ? 'point' : 'rectangle';
}

declare global {
  interface Window { caliperSlideShownMs?: number }
}

export function SlideViewer({ itemId, classes, readOnly }: SlideViewerProps) {
  const host = useRef<HTMLDivElement>(null);
  const viewerRef = useRef<OpenSeadragon.Viewer | null>(null);
  const annoRef = useRef<OpenSeadragonAnnotator<ImageAnnotation, W3CImageAnnotation> | null>(null);
  const size = useRef({ width: 0, height: 0 });
  // Regions by id: what the reader said about each; points also keep their position here.
  const meta = useRef(new Map<string, RegionMeta>());
  const points = useRef(new Map<string, { x: number; y: number; el: HTMLElement }>());
  // What a shape undone by Annotorious was (its class...), for when it is redone.
  const undoneMeta = useRef(new Map<string, RegionMeta>());
  // The undo history: steps[0, at) are done; `shapesAt` is Annotorious's history pointer as last
  // seen, so a step of its own shows as a pointer that moved on.
  const history = useRef<{ steps: Step[]; at: number; shapesAt: number }>({ steps: [], at: 0, shapesAt: -1 });
  const [undoable, setUndoable] = useState({ undo: false, redo: false });
  const [regions, setRegions] = useState<[string, RegionMeta][]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [tool, setTool] = useState<Tool>('navigate');
  const [form, setForm] = useState<Omit<RegionMeta, 'kind'>>({ cls: classes[0]?.id ?? '', confidence: 0.8, borderline: false });
  const [status, setStatus] = useState('Opening the slide…');
  const [ready, setReady] = useState(false);
  const [version, setVersion] = useState(0);
  const [dirty, setDirty] = useState(false);
  useUnsavedWork('slide regions', dirty);
  // Annotorious's own Ctrl+Z / Ctrl+Y (on the viewer) would undo shapes and skip points.
  useKeysForShortcutsOnly(host);
  const [saveError, setSaveError] = useState('');
  const toolRef = useRef(tool);
  toolRef.current = tool;
  const formRef = useRef(form);
  formRef.current = form;

  const refreshList = () => setRegions([...meta.current.entries()]);
  const restyle = () => {
    const anno = annoRef.current;
    if (anno) {
      anno.setStyle((a: ImageAnnotation) => {
        const colour = classColour(classes, meta.current.get(a.id)?.cls ?? '');
        return { fill: colour, fillOpacity: 0.22, stroke: colour, strokeWidth: 2 };
      });
    }
    for (const [id, p] of points.current) {
      p.el.style.background = classColour(classes, meta.current.get(id)?.cls ?? '');
    }
  };

  // A point as an overlay on the slide (Annotorious draws no points).
  const addPoint = (id: string, x: number, y: number) => {
    const viewer = viewerRef.current!;
    const el = document.createElement('button');
    el.type = 'button';
    el.className = 'slide-point';
    el.setAttribute('aria-label', 'Point region');
    el.addEventListener('click', (e) => { e.stopPropagation(); select(id); });
    points.current.set(id, { x, y, el });
    viewer.addOverlay({ element: el, location: viewer.viewport.imageToViewportCoordinates(x, y),
                        placement: OpenSeadragon.Placement.CENTER });
  };
  const dropPoint = (id: string) => {
    const p = points.current.get(id);
    if (p) viewerRef.current?.removeOverlay(p.el);
    points.current.delete(id);
    meta.current.delete(id);
  };
  const select = (id: string | null) => {
    setSelected(id);
    for (const [pid, p] of points.current) p.el.classList.toggle('selected', pid === id);
    const m = id ? meta.current.get(id) : undefined;
    if (m) setForm({ cls: m.cls, confidence: m.confidence, borderline: m.borderline });
  };

  useEffect(() => {
    let live = true;
    let renewal = 0;
    const started = performance.now();
    (async () => {
      const session = await api.post('/api/v1/items/{item_id}/dz/sessions', { item_id: itemId });
      if (!live) return;
      size.current = { width: session.width, height: session.height };
      const viewer = OpenSeadragon({
        element: host.current!,
        tileSources: `/api/v1/items/${encodeURIComponent(itemId)}/dz/${encodeURIComponent(session.view)}/slide.dzi`,
        // The canvas drawer: the same pixels everywhere (no WebGL needed for tiles), readable back.
        drawer: 'canvas',
        showNavigationControl: false,   // the toolbar and keys below do this; no button images to load
        showNavigator: true,
        navigatorPosition: 'BOTTOM_RIGHT',
        maxZoomPixelRatio: 2,
        visibilityRatio: 0.5,
        gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
        // Our shortcuts move the view (below); OpenSeadragon's own keys would also turn the
        // slide on R (our rectangle tool) and mirror it on F.
        keyboardNavEnabled: false,
      });
      viewerRef.current = viewer;
      // Before the session ends, a new one: later tiles come from its path, the tiles on screen
      // stay.
      const renewBefore = (expires_at: string) => {
        const wait = Math.max(10_000, Date.parse(expires_at) - Date.now() - 60_000);
        renewal = window.setTimeout(() => {
          api.post('/api/v1/items/{item_id}/dz/sessions', { item_id: itemId }).then((next) => {
            if (!live) return;
            const tilesUrl = `/api/v1/items/${encodeURIComponent(itemId)}/dz/${encodeURIComponent(next.view)}/slide_files/`;
            for (const world of [viewer.world, viewer.navigator?.world]) {
              for (let i = 0; world && i < world.getItemCount(); ++i) {
                (world.getItemAt(i).source as unknown as { tilesUrl: string }).tilesUrl = tilesUrl;
              }
            }
            renewBefore(next.expires_at);
          }).catch((e) => live && setStatus(`The viewer session could not be renewed: ${errorText(e)}; open the task again.`));
        }, Number.isFinite(wait) ? wait : 600_000);
      };
      renewBefore(session.expires_at);
      // The annotator follows the viewport from the first frame on (it redraws on update-viewport).
      const anno = createOSDAnnotator<ImageAnnotation, W3CImageAnnotation>(viewer, {
        adapter: W3CImageFormat(itemId),
        drawingEnabled: false,
        drawingMode: 'click',
      });
      annoRef.current = anno;
      let tiles = 0;
      viewer.addHandler('tile-loaded', () => host.current?.setAttribute('data-tiles-loaded', String(++tiles)));
      viewer.addHandler('open-failed', (e) => live && setStatus(`Could not open the slide: ${String((e as { message?: string }).message ?? '')}`));
      await new Promise<void>((resolve) => viewer.addOnceHandler('open', () => resolve()));
      const image = viewer.world.getItemAt(0);
      await new Promise<void>((resolve) => {
        if (image.getFullyLoaded()) return resolve();
        image.addOnceHandler('fully-loaded-change', () => resolve());
      });
      if (!live) return;
      window.caliperSlideShownMs = Math.round(performance.now() - started);
      host.current?.setAttribute('data-shown-ms', String(window.caliperSlideShownMs));

      anno.on('createAnnotation', (a) => {
        const target = Array.isArray(a.target) ? a.target[0] : a.target;
        const selector = typeof target === 'object' ? target.selector : undefined;
        const kind = kindOf((Array.isArray(selector) ? selector[0] : selector) as RegionSelector | undefined) ?? 'polygon';
        meta.current.set(a.id, undoneMeta.current.get(a.id) ?? { kind, ...formRef.current });
        undoneMeta.current.delete(a.id);
        restyle();
        refreshList();
        setDirty(true);
        select(a.id);
        noteShapeStep();
      });
      // Annotorious closes a polygon on OpenSeadragon's canvas-double-click, which OpenSeadragon
      // pairs from clicks by time alone: a double click less than 300 ms after the click on the
      // previous corner is taken as that click's partner, too far from it, and lost. The
      // browser's own dblclick closes the polygon then (a second close finds nothing drawn).
      viewer.canvas.addEventListener('dblclick', (e) => {
        if (toolRef.current !== 'polygon') return;
        const box = viewer.canvas.getBoundingClientRect();
        viewer.raiseEvent('canvas-double-click', {
          position: new OpenSeadragon.Point(e.clientX - box.left, e.clientY - box.top),
          shift: e.shiftKey, originalEvent: e, preventDefaultAction: true });
      }, true);
      anno.on('updateAnnotation', () => { setDirty(true); noteShapeStep(); });
      anno.on('deleteAnnotation', (a) => {
        const m = meta.current.get(a.id);
        if (m) undoneMeta.current.set(a.id, m);
        meta.current.delete(a.id);
        refreshList();
        setDirty(true);
        noteShapeStep();
      });
      anno.on('selectionChanged', (sel) => select(sel[0]?.id ?? null));
      // Points: a quick click in the point tool (OpenSeadragon's click-to-zoom is off anyway).
      viewer.addHandler('canvas-click', (e) => {
        if (toolRef.current !== 'point' || !e.quick || readOnly) return;
        if ((e.originalTarget as HTMLElement).classList?.contains('slide-point')) return;  // selects it
        e.preventDefaultAction = true;
        const p = viewer.viewport.viewerElementToImageCoordinates(e.position);
        const { width, height } = size.current;
        if (p.x < 0 || p.y < 0 || p.x > width || p.y > height) return;
        const id = crypto.randomUUID();
        const m: RegionMeta = { kind: 'point', ...formRef.current };
        meta.current.set(id, m);
        addPoint(id, Math.round(p.x), Math.round(p.y));
        restyle();
        refreshList();
        setDirty(true);
        select(id);
        pushStep({ kind: 'point', added: true, id, x: Math.round(p.x), y: Math.round(p.y), meta: m });
      });

      // The reader's latest regions.
      const saved = await api.get('/api/v1/items/{item_id}/regions', { item_id: itemId });
      if (!live) return;
      const shapes: W3CImageAnnotation[] = [];
      const fallback = { kind: 'polygon' as Kind, ...formRef.current };
      for (const a of saved.annotations) {
        const kind = kindOf(a.target?.selector);
        if (!kind) continue;
        meta.current.set(a.id, metaOf(a, kind, fallback));
        if (kind === 'point') {
          const [x, y] = fragment(a.target.selector.value)!;
          addPoint(a.id, x, y);
        } else {
          shapes.push(a as unknown as W3CImageAnnotation);
        }
      }
      anno.setAnnotations(shapes, true);
      viewer.forceRedraw();
      restyle();
      refreshList();
      setVersion(saved.version);
      setReady(true);
      host.current?.setAttribute('data-regions-loaded', String(saved.annotations.length));
      setStatus(`Slide ${session.width}×${session.height} px${session.mpp_x ? ` at ${session.mpp_x.toFixed(3)} µm/px` : ''}, ` +
                `shown in ${window.caliperSlideShownMs} ms; ` +
                (saved.version ? `your regions, version ${saved.version}.` : 'no regions saved yet.'));
    })().catch((e) => live && setStatus(`Could not show the slide: ${errorText(e)}`));
    return () => {
      live = false;
      window.clearTimeout(renewal);
      annoRef.current?.destroy();
      annoRef.current = null;
      viewerRef.current?.destroy();
      viewerRef.current = null;
      meta.current.clear();
      points.current.clear();
      undoneMeta.current.clear();
      history.current = { steps: [], at: 0, shapesAt: -1 };
    };
  }, [itemId]);

  const pushStep = (step: Step) => {
    const h = history.current;
    h.steps.splice(h.at, h.steps.length, step);
    h.at = h.steps.length;
    setUndoable({ undo: true, redo: false });
  };
  // After Annotorious told of a shape created, changed or deleted (its events come a moment after
  // the change): a new step when its history has one more (changes close together are one there).
  const noteShapeStep = () => {
    const pointer = annoRef.current?.getHistory().pointer ?? -1;
    if (pointer > history.current.shapesAt) pushStep({ kind: 'shapes' });
    history.current.shapesAt = pointer;
  };
  // Undoes (back) or redoes the step next to the history's position.
  const step = (back: boolean) => {
    const h = history.current, anno = annoRef.current;
    const s = back ? h.steps[h.at - 1] : h.steps[h.at];
    if (!s || !anno || readOnly) return;
    if (s.kind === 'shapes') {
      if (back) anno.undo();
      else anno.redo();
      h.shapesAt = anno.getHistory().pointer;
    } else if (s.added !== back) {
      meta.current.set(s.id, s.meta);
      addPoint(s.id, s.x, s.y);
      restyle();
    } else {
      if (selected === s.id) select(null);
      dropPoint(s.id);
    }
    h.at += back ? -1 : 1;
    setUndoable({ undo: h.at > 0, redo: h.at < h.steps.length });
    refreshList();
    setDirty(true);
  };

  const chooseTool = (t: Tool) => {
    const anno = annoRef.current, viewer = viewerRef.current;
    if (!anno || !viewer || (readOnly && t !== 'navigate')) return;
    anno.cancelDrawing();
    if (t === 'polygon' || t === 'rectangle') {
      anno.setDrawingTool(t);
      anno.setDrawingEnabled(true);
    } else {
      anno.setDrawingEnabled(false);
    }
    // Click-to-zoom is off (a polygon's clicks would zoom and it never closes; in navigation a
    // click selects), and so is double-click zoom while drawing (a double click closes a polygon).
    const gestures = (viewer as unknown as { gestureSettingsMouse: OpenSeadragon.GestureSettings }).gestureSettingsMouse;
    gestures.clickToZoom = false;
    gestures.dblClickToZoom = t === 'navigate';
    setTool(t);
  };
  // Changes the form, and the selected region with it.
  const changeForm = (next: Omit<RegionMeta, 'kind'>) => {
    setForm(next);
    const m = selected ? meta.current.get(selected) : undefined;
    if (m && !readOnly) {
      meta.current.set(selected!, { ...m, ...next });
      restyle();
      refreshList();
      setDirty(true);
    }
  };
  const remove = (id: string) => {
    const p = points.current.get(id);
    const m = meta.current.get(id);
    if (p && m) {
      dropPoint(id);
      pushStep({ kind: 'point', added: false, id, x: p.x, y: p.y, meta: m });
      refreshList();
      setDirty(true);
    } else {
      annoRef.current?.removeAnnotation(id);  // deleteAnnotation updates the list
    }
    if (selected === id) select(null);
  };
  const cancel = () => {
    annoRef.current?.cancelDrawing();
    annoRef.current?.cancelSelected();
    select(null);
  };
  const zoom = (factor: number) => viewerRef.current?.viewport.zoomBy(factor).applyConstraints();
  // Moves the view by a fifth of its width or height.
  const pan = (dx: number, dy: number) => {
    const viewport = viewerRef.current?.viewport;
    if (!viewport) return;
    const bounds = viewport.getBounds();
    viewport.panBy(new OpenSeadragon.Point(bounds.width * dx / 5, bounds.height * dy / 5)).applyConstraints();
  };

  // Every region as it is stored: our bodies, the selector clamped to the slide.
  const collect = (): RegionAnnotation[] => {
    const { width, height } = size.current;
    const out: RegionAnnotation[] = [];
    for (const a of annoRef.current?.getAnnotations() ?? []) {
      const m = meta.current.get(a.id);
      const target = Array.isArray(a.target) ? a.target[0] : a.target;
      const raw = typeof target === 'object' ? target.selector : undefined;
      const selector = (Array.isArray(raw) ? raw[0] : raw) as RegionSelector | undefined;
      if (!m || !selector) continue;
      out.push({ '@context': kContext, type: 'Annotation', id: a.id, body: regionBodies(m),
                 target: { source: itemId, selector: clampSelector(selector, width, height) } });
    }
    for (const [id, p] of points.current) {
      const m = meta.current.get(id);
      if (!m) continue;
      out.push({ '@context': kContext, type: 'Annotation', id, body: regionBodies(m),
                 target: { source: itemId, selector: { type: 'FragmentSelector', conformsTo: kMediaFrags, value: `xywh=pixel:${p.x},${p.y},0,0` } } });
    }
    return out;
  };
  const save = async () => {
    if (readOnly) return;
    setSaveError('');
    setStatus('Saving your regions…');
    try {
      const annotations = collect();
      const missing = annotations.filter((a) => !a.body[0]?.value);
      if (missing.length) throw new Error(`${missing.length} region(s) have no class; choose one`);
      const res = await api.put('/api/v1/items/{item_id}/regions', { item_id: itemId }, { annotations });
      setVersion(res.version);
      setDirty(false);
      setStatus(`Regions version ${res.version} saved (${annotations.length} region${annotations.length === 1 ? '' : 's'}).`);
    } catch (e) {
      setStatus('The regions were not saved.');
      setSaveError(errorText(e));
    }
  };
  const saveRef = useRef(save);
  saveRef.current = save;

  useShortcuts(ready ? [
    { key: 'v', description: 'Navigate: drag pans, wheel zooms, click selects a region', run: () => chooseTool('navigate') },
    { key: '+', description: 'Zoom in', run: () => zoom(1.5) },
    { key: '-', description: 'Zoom out', run: () => zoom(1 / 1.5) },
    { key: '0', description: 'Whole slide', run: () => viewerRef.current?.viewport.goHome() },
    { key: 'ArrowLeft', description: 'Move left (a fifth of the view)', run: () => pan(-1, 0) },
    { key: 'ArrowRight', description: 'Move right', run: () => pan(1, 0) },
    { key: 'ArrowUp', description: 'Move up', run: () => pan(0, -1) },
    { key: 'ArrowDown', description: 'Move down', run: () => pan(0, 1) },
    ...(readOnly ? [] : [
      { key: 'p', description: 'Polygon: click the corners, double-click (or click the first) to close', run: () => chooseTool('polygon') },
      { key: 'r', description: 'Rectangle: drag', run: () => chooseTool('rectangle') },
      { key: 'o', description: 'Point: click', run: () => chooseTool('point') },
      { key: 'Escape', description: 'Cancel the shape being drawn, deselect', run: cancel },
      { key: 'Delete', description: 'Delete the selected region', run: () => selected && remove(selected) },
      { key: 'b', description: 'Borderline on or off (the selected region, and the next ones)', run: () => changeForm({ ...formRef.current, borderline: !formRef.current.borderline }) },
      { key: 'ctrl+z', description: 'Undo (shapes and points, last first)', run: () => step(true) },
      { key: 'ctrl+y', description: 'Redo', run: () => step(false) },
      { key: 'ctrl+m', description: 'Save your regions', run: () => void saveRef.current() },
      ...classes.slice(0, 9).map((c, i) => ({ key: `shift+F${i + 1}`, description: `Class: ${c.name}`, run: () => changeForm({ ...formRef.current, cls: c.id }) })),
    ]),
  ] : [], [ready, selected, readOnly, tool]);

  const toolButton = (t: Tool, label: string, key: string) => (
    <button type="button" aria-pressed={tool === t} onClick={() => chooseTool(t)} disabled={!ready || (readOnly && t !== 'navigate')}>
      {label} <kbd>{key}</kbd>
    </button>
  );
  const nameOf = (id: string) => classes.find((c) => c.id === id)?.name ?? id;
  return (
    <section class="slide-room" aria-label="Slide viewer">
      <div class="toolbar" role="toolbar" aria-label="Tools">
        {toolButton('navigate', 'Navigate', 'V')}
        {toolButton('polygon', 'Polygon', 'P')}
        {toolButton('rectangle', 'Rectangle', 'R')}
        {toolButton('point', 'Point', 'O')}
        <button type="button" onClick={() => zoom(1.5)} disabled={!ready} aria-label="Zoom in">+</button>
        <button type="button" onClick={() => zoom(1 / 1.5)} disabled={!ready} aria-label="Zoom out">−</button>
        <button type="button" onClick={() => viewerRef.current?.viewport.goHome()} disabled={!ready}>Whole slide <kbd>0</kbd></button>
        {!readOnly && <>
          <button type="button" onClick={() => step(true)} disabled={!ready || !undoable.undo}>Undo <kbd>Ctrl+Z</kbd></button>
          <button type="button" onClick={() => step(false)} disabled={!ready || !undoable.redo}>Redo <kbd>Ctrl+Y</kbd></button>
        </>}
      </div>
      {!readOnly && (
        <div class="toolbar markup-form" role="group" aria-label={selected ? 'The selected region' : 'The next region'}>
          <label>Region class
            <select value={form.cls} onChange={(e) => changeForm({ ...form, cls: e.currentTarget.value })} disabled={classes.length === 0}>
              {classes.map((c) => <option key={c.id} value={c.id}>{classOption(c)}</option>)}
            </select>
          </label>
          <label>Region confidence
            <input type="number" min={0} max={1} step={0.05} value={form.confidence} style={{ width: '5rem' }}
                   onInput={(e) => { const v = Number(e.currentTarget.value); if (v >= 0 && v <= 1) changeForm({ ...form, confidence: v }); }} />
          </label>
          <label class="inline"><input type="checkbox" checked={form.borderline}
                 onChange={(e) => changeForm({ ...form, borderline: e.currentTarget.checked })} /> Borderline <kbd>B</kbd></label>
          <span class="muted">{selected ? 'editing the selected region' : 'for the next region'}</span>
          <button type="button" class="primary" onClick={() => void save()} disabled={!ready}>Save regions <kbd>Ctrl+M</kbd></button>
        </div>
      )}
      {classes.length === 0 && <p class="notice">The guideline has no class for pathology; regions cannot be classified.</p>}
      {saveError && <p class="error" role="alert">Could not save the regions: {saveError}</p>}
      <div class="slide-wrap" ref={host} data-tool={tool} tabIndex={0} aria-label="The slide (keys: ? lists them)" />
      <p class="muted" role="status">{status}{dirty ? ' · unsaved changes' : ''}</p>
      <details open={regions.length > 0 && regions.length < 30}>
        <summary>Your regions ({regions.length}){version ? `, saved as version ${version}` : ''}</summary>
        <ul class="rows">
          {regions.map(([id, m]) => (
            <li key={id} class={id === selected ? 'selected' : ''}>
              <span class="swatch" style={{ background: classColour(classes, m.cls) }} />
              <button type="button" class="link" onClick={() => {
                if (points.current.has(id)) select(id);
                else { annoRef.current?.setSelected(id); annoRef.current?.fitBounds(id, { padding: 40 }); }
              }}>{m.kind}: {nameOf(m.cls)}</button>
              <span class="muted">confidence {m.confidence}{m.borderline ? ' · borderline' : ''}</span>
              {!readOnly && <button type="button" onClick={() => remove(id)} aria-label={`Delete ${m.kind} ${nameOf(m.cls)}`}>Delete</button>}
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}
