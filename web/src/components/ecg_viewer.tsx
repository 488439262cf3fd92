// The ECG reading room's viewer: the record's leads stacked on the standard ECG grid (paper speed
// 25 mm/s, gain 10 mm/mV; 1 mm minor and 5 mm major lines), drawn on a canvas at the screen's
// pixel density. Lead selection, zoom (the grid magnified: it stays 25 mm/s) and pan by wheel,
// drag or keys; samples are fetched for the window shown (GET /waveform/samples). The reader
// drags to make an interval (onset, offset, class, confidence) and clicks for a beat label;
// the record's reference annotations (e.g. a WFDB .atr) are pre-labels to accept into the
// reader's beats or to reject. Save stores intervals and beats as the reader's next version
// (PUT /items/{id}/intervals); the room opens with the reader's latest.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText } from '../api/client';
import type { BeatLabel, IntervalLabel, LabelClass, ReferenceBeat, WaveformInfo } from '../api/models';
import { useUnsavedWork } from '../router';
import { useShortcuts } from '../shortcuts';
import { classColour, classOption } from './markup';

export interface EcgViewerProps {
  itemId: string;
  classes: LabelClass[];   // the schema's classes that apply to waveforms
  readOnly?: boolean;
}

// The grid: CSS pixels per millimetre at zoom 1 (CSS's 96 px per inch), paper speed and the
// height of one lead's row.
const kCssPxPerMm = 96 / 25.4;
export const kPaperSpeedMmPerS = 25;
const kRowMm = 25;
const kTopMm = 6;         // the strip above the leads: pre-labels and beat labels
const kDragPx = 4;        // a press that moves less than this is a click
const kZooms = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8];

interface ViewWindow { from: number; seconds: number }
interface Cache { from_s: number; to_s: number; rate: number; start: number; leads: Map<string, number[]> }
type Selection = { kind: 'interval' | 'beat' | 'prelabel'; index: number } | null;

// Grid and trace geometry for the current zoom: CSS pixels per mm and per second.
export function gridScale(zoom: number): { pxPerMm: number; pxPerSecond: number } {
  const pxPerMm = kCssPxPerMm * zoom;
  return { pxPerMm, pxPerSecond: pxPerMm * kPaperSpeedMmPerS };
}

function fmt(s: number): string {
  return s.toFixed(3);
}

export function EcgViewer({ itemId, classes, readOnly }: EcgViewerProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const [info, setInfo] = useState<WaveformInfo | null>(null);
  const [leads, setLeads] = useState<string[]>([]);
  const [zoomIndex, setZoomIndex] = useState(kZooms.indexOf(1));
  const [gain, setGain] = useState(10);
  const [from, setFrom] = useState(0);
  const [width, setWidth] = useState(800);
  const [cache, setCache] = useState<Cache | null>(null);
  const [references, setReferences] = useState<ReferenceBeat[]>([]);
  const [decided, setDecided] = useState<Map<number, 'accepted' | 'rejected'>>(new Map());
  const [intervals, setIntervals] = useState<IntervalLabel[]>([]);
  const [beats, setBeats] = useState<BeatLabel[]>([]);
  const [selection, setSelection] = useState<Selection>(null);
  const [tool, setTool] = useState<'label' | 'pan'>('label');
  const [form, setForm] = useState({ cls: classes[0]?.id ?? '', confidence: 0.8 });
  const [draft, setDraft] = useState<{ a: number; b: number } | null>(null);
  const [status, setStatus] = useState('Loading the record…');
  const [saveError, setSaveError] = useState('');
  const [version, setVersion] = useState(0);
  const [dirty, setDirty] = useState(false);
  useUnsavedWork('ECG intervals and beats', dirty);
  const zoom = kZooms[zoomIndex]!;
  const { pxPerMm, pxPerSecond } = gridScale(zoom);
  const view: ViewWindow = { from, seconds: width / pxPerSecond };
  const duration = info?.duration_s ?? 0;
  const rowPx = kRowMm * pxPerMm;
  const topPx = kTopMm * pxPerMm;
  const height = topPx + rowPx * Math.max(1, leads.length);
  const xOf = (t: number) => (t - view.from) * pxPerSecond;
  const tOf = (x: number) => view.from + x / pxPerSecond;

  // The record, the reference annotations and the reader's latest labels.
  useEffect(() => {
    let live = true;
    (async () => {
      const [record, refs, mine] = await Promise.all([
        api.get('/api/v1/items/{item_id}/waveform', { item_id: itemId }),
        api.get('/api/v1/items/{item_id}/waveform/annotations', { item_id: itemId }),
        api.get('/api/v1/items/{item_id}/intervals', { item_id: itemId }),
      ]);
      if (!live) return;
      setInfo(record);
      setLeads(record.leads.map((l) => l.name));
      // The timeline counts seconds from the first sample (as the samples and the reader's labels
      // do); a reference annotation's time_s also counts the record's start offset.
      setReferences(refs.map((r) => ({ ...r, time_s: r.sample / record.sampling_rate_hz })));
      setIntervals(mine.intervals);
      setBeats(mine.beats);
      setVersion(mine.version);
      setStatus(`${record.leads.length} leads at ${record.sampling_rate_hz} Hz, ${record.duration_s.toFixed(1)} s ` +
                `(${record.source_format}${record.group_label ? `, ${record.group_label}` : ''}); ` +
                (record.warnings?.length ? `note: ${record.warnings.join('; ')}; ` : '') +
                `${refs.length} reference annotations; ` +
                (mine.version ? `your labels, version ${mine.version}.` : 'no labels saved yet.'));
    })().catch((e) => live && setStatus(`Could not open the record: ${errorText(e)}`));
    return () => { live = false; };
  }, [itemId]);

  // The canvas follows the width of its box.
  useEffect(() => {
    const box = wrap.current;
    if (!box) return;
    const observer = new ResizeObserver(() => setWidth(Math.max(200, Math.floor(box.clientWidth))));
    observer.observe(box);
    return () => observer.disconnect();
  }, []);

  // Samples for the window shown (and half a window either side), fetched when it is not cached.
  useEffect(() => {
    if (!info || leads.length === 0) return;
    const to = Math.min(duration, view.from + view.seconds);
    const covered = cache && cache.from_s <= view.from && cache.to_s >= to && leads.every((l) => cache.leads.has(l));
    if (covered) return;
    let live = true;
    const timer = window.setTimeout(() => {
      const from_s = Math.max(0, view.from - view.seconds / 2);
      const to_s = Math.min(duration, view.from + view.seconds * 1.5);
      api.get('/api/v1/items/{item_id}/waveform/samples', { item_id: itemId },
              { from_s: fmt(from_s), to_s: fmt(to_s), leads: leads.join(',') })
        .then((s) => {
          if (!live) return;
          setCache({ from_s, to_s, rate: s.sampling_rate_hz, start: s.start_sample,
                     leads: new Map(s.leads.map((l) => [l.name, l.values])) });
        })
        .catch((e) => live && setStatus(`Could not read the samples: ${errorText(e)}`));
    }, 60);
    return () => { live = false; window.clearTimeout(timer); };
  }, [info, leads.join(','), view.from, view.seconds]);

  // Draws the grid, the traces, the reader's labels and the pre-labels.
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    c.style.width = `${width}px`;
    c.style.height = `${height}px`;
    const g = c.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height);
    // Grid: 1 mm minor lines (left out when closer than 3 device pixels), 5 mm major lines,
    // fixed to the record's time so that they move with it.
    const minor = pxPerMm * dpr >= 3;
    const firstMm = Math.floor((view.from * kPaperSpeedMmPerS));
    const lastMm = Math.ceil((view.from + view.seconds) * kPaperSpeedMmPerS);
    for (let mm = firstMm; mm <= lastMm; ++mm) {
      const major = mm % 5 === 0;
      if (!major && !minor) continue;
      const x = Math.round((mm / kPaperSpeedMmPerS - view.from) * pxPerSecond * dpr) / dpr + 0.5 / dpr;
      g.strokeStyle = major ? '#e08a8a' : '#f7cfcf';
      g.lineWidth = major ? 1 : 0.6;
      g.beginPath(); g.moveTo(x, topPx); g.lineTo(x, height); g.stroke();
    }
    const rowsMm = kRowMm * leads.length;
    for (let mm = 0; mm <= rowsMm; ++mm) {
      const major = mm % 5 === 0;
      if (!major && !minor) continue;
      const y = Math.round((topPx + mm * pxPerMm) * dpr) / dpr + 0.5 / dpr;
      g.strokeStyle = major ? '#e08a8a' : '#f7cfcf';
      g.lineWidth = major ? 1 : 0.6;
      g.beginPath(); g.moveTo(0, y); g.lineTo(width, y); g.stroke();
    }
    // The reader's intervals: a band over every lead.
    intervals.forEach((iv, i) => {
      const x0 = xOf(iv.onset_s), x1 = xOf(iv.offset_s);
      if (x1 < 0 || x0 > width) return;
      const colour = classColour(classes, iv.class);
      g.globalAlpha = 0.18;
      g.fillStyle = colour;
      g.fillRect(x0, topPx, x1 - x0, height - topPx);
      g.globalAlpha = 1;
      g.strokeStyle = colour;
      g.lineWidth = selection?.kind === 'interval' && selection.index === i ? 3 : 1.5;
      g.strokeRect(x0, topPx, x1 - x0, height - topPx);
      g.fillStyle = colour;
      g.font = '600 11px system-ui, sans-serif';
      g.fillText(classes.find((c) => c.id === iv.class)?.name ?? iv.class, x0 + 3, topPx + 12, Math.max(20, x1 - x0 - 6));
    });
    if (draft) {
      const x0 = xOf(Math.min(draft.a, draft.b)), x1 = xOf(Math.max(draft.a, draft.b));
      g.globalAlpha = 0.25;
      g.fillStyle = classColour(classes, form.cls);
      g.fillRect(x0, topPx, x1 - x0, height - topPx);
      g.globalAlpha = 1;
    }
    // Traces: baseline in the middle of each row, gain mm per mV.
    g.strokeStyle = '#111';
    g.lineWidth = 1.2;
    g.lineJoin = 'round';
    let drawn = 0;
    leads.forEach((name, row) => {
      const base = topPx + (row + 0.5) * rowPx;
      g.fillStyle = '#222';
      g.font = '600 12px system-ui, sans-serif';
      g.fillText(name, 4, topPx + row * rowPx + 14);
      const values = cache?.leads.get(name);
      if (!values || !cache) return;
      const first = Math.max(0, Math.floor((view.from - cache.from_s) * cache.rate) - 1);
      const last = Math.min(values.length - 1, Math.ceil((view.from + view.seconds - cache.from_s) * cache.rate) + 1);
      g.beginPath();
      for (let i = first; i <= last; ++i) {
        const t = (cache.start + i) / cache.rate;
        const x = xOf(t), y = base - values[i]! * gain * pxPerMm;
        if (i === first) g.moveTo(x, y); else g.lineTo(x, y);
      }
      g.stroke();
      drawn += Math.max(0, last - first + 1);
    });
    c.setAttribute('data-samples-drawn', String(drawn));
    // Whether the samples drawn cover the whole window (else its rest is being fetched).
    const covered = cache !== null && cache.from_s <= view.from + 1e-6 &&
      cache.to_s >= Math.min(duration, view.from + view.seconds) - 1e-6 && leads.every((l) => cache.leads.has(l));
    c.setAttribute('data-window-drawn', String(covered));
    // The reader's beats: a line over every lead, the class above.
    g.font = '11px system-ui, sans-serif';
    beats.forEach((b, i) => {
      const x = xOf(b.time_s);
      if (x < -20 || x > width + 20) return;
      const colour = classColour(classes, b.class);
      g.strokeStyle = colour;
      g.lineWidth = selection?.kind === 'beat' && selection.index === i ? 3 : 1.5;
      g.beginPath(); g.moveTo(x, topPx * 0.55); g.lineTo(x, height); g.stroke();
      g.fillStyle = colour;
      g.fillText(b.class, x + 2, topPx * 0.5);
    });
    // Pre-labels not yet accepted or rejected: the reference symbol in the top strip, dashed.
    g.setLineDash([3, 3]);
    references.forEach((r, i) => {
      if (decided.has(i)) return;
      const x = xOf(r.time_s);
      if (x < -20 || x > width + 20) return;
      const chosen = selection?.kind === 'prelabel' && selection.index === i;
      g.strokeStyle = chosen ? '#0b4f8a' : '#8a96a3';
      g.lineWidth = chosen ? 2 : 1;
      g.beginPath(); g.moveTo(x, topPx * 0.6); g.lineTo(x, topPx); g.stroke();
      g.fillStyle = chosen ? '#0b4f8a' : '#4a5866';
      g.font = chosen ? '700 12px system-ui, sans-serif' : '11px system-ui, sans-serif';
      g.fillText(r.symbol, x - 3, topPx * 0.45);
    });
    g.setLineDash([]);
  }, [width, height, zoom, gain, view.from, cache, leads.join(','), intervals, beats, references, decided, selection, draft]);

  // ---- pointer: drag makes an interval (or pans), a click a beat or picks a pre-label -----------
  const press = useRef<{ x: number; t: number; from: number; moved: boolean } | null>(null);
  const localX = (e: PointerEvent) => e.clientX - canvas.current!.getBoundingClientRect().left;
  const localY = (e: PointerEvent) => e.clientY - canvas.current!.getBoundingClientRect().top;
  const clampFrom = (f: number) => Math.max(0, Math.min(Math.max(0, duration - view.seconds * 0.5), f));
  const onDown = (e: PointerEvent) => {
    if (!info || e.button !== 0) return;
    canvas.current!.setPointerCapture(e.pointerId);
    press.current = { x: localX(e), t: tOf(localX(e)), from: view.from, moved: false };
  };
  const onMove = (e: PointerEvent) => {
    const p = press.current;
    if (!p) return;
    const dx = localX(e) - p.x;
    if (Math.abs(dx) >= kDragPx) p.moved = true;
    if (!p.moved) return;
    if (tool === 'pan' || readOnly) setFrom(clampFrom(p.from - dx / pxPerSecond));
    else setDraft({ a: p.t, b: Math.max(0, Math.min(duration, tOf(localX(e)))) });
  };
  const onUp = (e: PointerEvent) => {
    const p = press.current;
    press.current = null;
    if (!p) return;
    if (p.moved) {
      if (tool === 'label' && !readOnly && draft) {
        const onset = Math.min(draft.a, draft.b), offset = Math.max(draft.a, draft.b);
        setDraft(null);
        if (!form.cls) return setStatus('Choose a class first.');
        const next = [...intervals, { onset_s: round3(onset), offset_s: round3(offset), class: form.cls, confidence: form.confidence }];
        setIntervals(next);
        setDirty(true);
      }
      return;
    }
    // A click in the top strip picks the nearest pre-label; in the traces it makes a beat.
    const x = localX(e);
    if (localY(e) < topPx) {
      let best = -1, bestDx = 8;
      references.forEach((r, i) => {
        const d = Math.abs(xOf(r.time_s) - x);
        if (!decided.has(i) && d < bestDx) { best = i; bestDx = d; }
      });
      if (best >= 0) setSelection({ kind: 'prelabel', index: best });
      return;
    }
    if (readOnly || tool !== 'label') return;
    if (!form.cls) return setStatus('Choose a class first.');
    const next = [...beats, { time_s: round3(tOf(x)), class: form.cls, confidence: form.confidence }];
    setBeats(next);
    setDirty(true);
  };
  // Ctrl+wheel zooms; a sideways wheel (or Shift+wheel) moves in time; a plain wheel scrolls the
  // page, as everywhere (the leads may be taller than the box).
  const onWheel = (e: WheelEvent) => {
    if (!info) return;
    const sideways = Math.abs(e.deltaX) > Math.abs(e.deltaY);
    if (!e.ctrlKey && !e.shiftKey && !sideways) return;
    e.preventDefault();
    if (e.ctrlKey) return changeZoom(e.deltaY < 0 ? 1 : -1);
    setFrom(clampFrom(view.from + (sideways ? e.deltaX : e.deltaY) / pxPerSecond));
  };
  const changeZoom = (step: number) => {
    const next = Math.max(0, Math.min(kZooms.length - 1, zoomIndex + step));
    // Keep the middle of the window where it is.
    const middle = view.from + view.seconds / 2;
    const seconds = width / gridScale(kZooms[next]!).pxPerSecond;
    setZoomIndex(next);
    setFrom(Math.max(0, middle - seconds / 2));
  };
  const pan = (fraction: number) => setFrom(clampFrom(view.from + view.seconds * fraction));

  // ---- pre-labels ---------------------------------------------------------------------------
  // The class a reference annotation becomes: the schema class named by its symbol or label,
  // else the class chosen in the form.
  const classFor = (r: ReferenceBeat) => {
    const names = [r.symbol, r.label].map((s) => s.toLowerCase());
    return classes.find((c) => names.includes(c.id.toLowerCase()) || names.includes(c.name.toLowerCase()))?.id ?? form.cls;
  };
  const shownPrelabels = () => references.map((r, i) => [r, i] as const)
    .filter(([r, i]) => !decided.has(i) && r.time_s >= view.from && r.time_s <= view.from + view.seconds);
  const decide = (indices: number[], how: 'accepted' | 'rejected') => {
    if (readOnly || indices.length === 0) return;
    const next = new Map(decided);
    const added: BeatLabel[] = [];
    for (const i of indices) {
      const r = references[i];
      if (!r) continue;
      next.set(i, how);
      if (how === 'accepted') added.push({ time_s: r.time_s, class: classFor(r), confidence: form.confidence });
    }
    setDecided(next);
    if (added.length) { setBeats([...beats, ...added]); setDirty(true); }
    // The next pre-label to the right becomes the selection.
    const last = Math.max(...indices);
    const following = references.findIndex((r, i) => i > last && !next.has(i) && r.time_s >= view.from);
    setSelection(following >= 0 ? { kind: 'prelabel', index: following } : null);
  };
  const selectNextPrelabel = () => {
    const after = selection?.kind === 'prelabel' ? selection.index : -1;
    const i = references.findIndex((r, j) => j > after && !decided.has(j) && r.time_s >= view.from);
    if (i < 0) return;
    setSelection({ kind: 'prelabel', index: i });
    const t = references[i]!.time_s;
    if (t > view.from + view.seconds * 0.9) setFrom(clampFrom(t - view.seconds * 0.2));
  };

  const removeSelected = () => {
    if (!selection || readOnly) return;
    if (selection.kind === 'interval') setIntervals(intervals.filter((_, i) => i !== selection.index));
    else if (selection.kind === 'beat') setBeats(beats.filter((_, i) => i !== selection.index));
    else return;
    setSelection(null);
    setDirty(true);
  };
  // The form changes the selected interval or beat too.
  const changeForm = (next: typeof form) => {
    setForm(next);
    if (readOnly || !selection) return;
    if (selection.kind === 'interval') {
      setIntervals(intervals.map((iv, i) => (i === selection.index ? { ...iv, class: next.cls, confidence: next.confidence } : iv)));
      setDirty(true);
    } else if (selection.kind === 'beat') {
      setBeats(beats.map((b, i) => (i === selection.index ? { ...b, class: next.cls, confidence: next.confidence } : b)));
      setDirty(true);
    }
  };

  const save = async () => {
    if (readOnly) return;
    setSaveError('');
    setStatus('Saving your labels…');
    try {
      const sorted = <T extends { onset_s?: number; time_s?: number }>(xs: T[]) =>
        [...xs].sort((a, b) => (a.onset_s ?? a.time_s ?? 0) - (b.onset_s ?? b.time_s ?? 0));
      const res = await api.put('/api/v1/items/{item_id}/intervals', { item_id: itemId },
                                { intervals: sorted(intervals), beats: sorted(beats) });
      setVersion(res.version);
      setDirty(false);
      setStatus(`Labels version ${res.version} saved (${intervals.length} interval${intervals.length === 1 ? '' : 's'}, ` +
                `${beats.length} beat${beats.length === 1 ? '' : 's'}).`);
    } catch (e) {
      setStatus('The labels were not saved.');
      setSaveError(errorText(e));
    }
  };
  const saveRef = useRef(save);
  saveRef.current = save;

  const ready = info !== null;
  useShortcuts(ready ? [
    { key: 'ArrowRight', description: 'Later (a fifth of the window)', run: () => pan(0.2) },
    { key: 'ArrowLeft', description: 'Earlier (a fifth of the window)', run: () => pan(-0.2) },
    { key: 'shift+ArrowRight', description: 'Next window', run: () => pan(0.9) },
    { key: 'shift+ArrowLeft', description: 'Previous window', run: () => pan(-0.9) },
    { key: 'Home', description: 'Start of the record', run: () => setFrom(0) },
    { key: '+', description: 'Zoom in (the grid magnified; still 25 mm/s)', run: () => changeZoom(1) },
    { key: '-', description: 'Zoom out', run: () => changeZoom(-1) },
    { key: '0', description: 'Zoom 1:1 (25 mm/s at 96 px per inch)', run: () => changeZoom(kZooms.indexOf(1) - zoomIndex) },
    { key: 'h', description: 'Pan tool (drag moves the record)', run: () => setTool('pan') },
    { key: 'n', description: 'Next pre-label', run: selectNextPrelabel },
    ...(readOnly ? [] : [
      { key: 'l', description: 'Label tool: drag makes an interval, click a beat', run: () => setTool('label') },
      { key: 'a', description: 'Accept the selected pre-label as your beat', run: () => selection?.kind === 'prelabel' && decide([selection.index], 'accepted') },
      { key: 'x', description: 'Reject the selected pre-label', run: () => selection?.kind === 'prelabel' && decide([selection.index], 'rejected') },
      { key: 'shift+Enter', description: 'Accept every pre-label shown', run: () => decide(shownPrelabels().map(([, i]) => i), 'accepted') },
      { key: 'Delete', description: 'Delete the selected interval or beat', run: removeSelected },
      { key: 'Escape', description: 'Cancel the drag, deselect', run: () => { press.current = null; setDraft(null); setSelection(null); } },
      { key: 'ctrl+m', description: 'Save your intervals and beats', run: () => void saveRef.current() },
      ...classes.slice(0, 9).map((c, i) => ({ key: `shift+F${i + 1}`, description: `Class: ${c.name}`, run: () => changeForm({ ...form, cls: c.id }) })),
    ]),
  ] : [], [ready, zoomIndex, from, width, selection, decided, intervals, beats, form, readOnly, tool]);

  const inView = (t: number) => t >= view.from && t <= view.from + view.seconds;
  const nameOf = (id: string) => classes.find((c) => c.id === id)?.name ?? id;
  const shown = shownPrelabels();
  return (
    <section class="ecg-room" aria-label="ECG viewer">
      <div class="toolbar" role="toolbar" aria-label="View">
        <button type="button" aria-pressed={tool === 'label'} onClick={() => setTool('label')} disabled={!ready || readOnly}>Label <kbd>L</kbd></button>
        <button type="button" aria-pressed={tool === 'pan'} onClick={() => setTool('pan')} disabled={!ready}>Pan <kbd>H</kbd></button>
        <button type="button" onClick={() => pan(-0.9)} disabled={!ready} aria-label="Previous window">◀</button>
        <button type="button" onClick={() => pan(0.9)} disabled={!ready} aria-label="Next window">▶</button>
        <button type="button" onClick={() => changeZoom(-1)} disabled={!ready} aria-label="Zoom out">−</button>
        <button type="button" onClick={() => changeZoom(1)} disabled={!ready} aria-label="Zoom in">+</button>
        <label>Gain
          <select value={gain} onChange={(e) => setGain(Number(e.currentTarget.value))}>
            {[5, 10, 20].map((g) => <option key={g} value={g}>{g} mm/mV</option>)}
          </select>
        </label>
        <span class="muted">25 mm/s · ×{zoom} · {fmt(view.from)}–{fmt(Math.min(duration, view.from + view.seconds))} s</span>
      </div>
      {info && (
        <fieldset class="toolbar leads">
          <legend>Leads</legend>
          {info.leads.map((l) => (
            <label key={l.name} class="inline">
              <input type="checkbox" checked={leads.includes(l.name)}
                     onChange={(e) => setLeads(info.leads.map((x) => x.name)
                       .filter((n) => (n === l.name ? e.currentTarget.checked : leads.includes(n))))} />{l.name}
            </label>
          ))}
          <button type="button" onClick={() => setLeads(info.leads.map((l) => l.name))}>All</button>
        </fieldset>
      )}
      {!readOnly && (
        <div class="toolbar markup-form" role="group" aria-label="The next interval or beat (or the selected one)">
          <label>Interval or beat class
            <select value={form.cls} onChange={(e) => changeForm({ ...form, cls: e.currentTarget.value })} disabled={classes.length === 0}>
              {classes.map((c) => <option key={c.id} value={c.id}>{classOption(c)}</option>)}
            </select>
          </label>
          <label>Interval or beat confidence
            <input type="number" min={0} max={1} step={0.05} value={form.confidence} style={{ width: '5rem' }}
                   onInput={(e) => { const v = Number(e.currentTarget.value); if (v >= 0 && v <= 1) changeForm({ ...form, confidence: v }); }} />
          </label>
          <button type="button" class="primary" onClick={() => void save()} disabled={!ready}>Save labels <kbd>Ctrl+M</kbd></button>
        </div>
      )}
      {classes.length === 0 && <p class="notice">The guideline has no class for waveforms; intervals cannot be labelled.</p>}
      {saveError && <p class="error" role="alert">Could not save the labels: {saveError}</p>}
      <div class="ecg-wrap" ref={wrap}>
        <canvas ref={canvas} tabIndex={0} aria-label="ECG leads on the grid" data-tool={tool}
                onPointerDown={onDown} onPointerMove={onMove} onPointerUp={onUp} onWheel={onWheel} />
      </div>
      <p class="muted" role="status">{status}{dirty ? ' · unsaved changes' : ''}</p>
      <div class="two">
        <section aria-labelledby="ecg-mine-h">
          <h3 id="ecg-mine-h">Your intervals ({intervals.length}) and beats ({beats.length}){version ? `, saved as version ${version}` : ''}</h3>
          <ul class="rows">
            {intervals.map((iv, i) => (
              <li key={`i${i}`} class={selection?.kind === 'interval' && selection.index === i ? 'selected' : ''}>
                <span class="swatch" style={{ background: classColour(classes, iv.class) }} />
                <button type="button" class="link" onClick={() => { setSelection({ kind: 'interval', index: i }); if (!inView(iv.onset_s)) setFrom(clampFrom(iv.onset_s - 0.5)); }}>
                  {nameOf(iv.class)}: {fmt(iv.onset_s)}–{fmt(iv.offset_s)} s ({Math.round((iv.offset_s - iv.onset_s) * 1000)} ms)</button>
                <span class="muted">confidence {iv.confidence ?? '—'}</span>
              </li>
            ))}
            {beats.map((b, i) => inView(b.time_s) && (
              <li key={`b${i}`} class={selection?.kind === 'beat' && selection.index === i ? 'selected' : ''}>
                <span class="swatch" style={{ background: classColour(classes, b.class) }} />
                <button type="button" class="link" onClick={() => setSelection({ kind: 'beat', index: i })}>
                  Beat: {nameOf(b.class)} at {fmt(b.time_s)} s</button>
                <span class="muted">confidence {b.confidence ?? '—'}</span>
              </li>
            ))}
            {beats.some((b) => !inView(b.time_s)) && (
              <li class="muted">{beats.filter((b) => !inView(b.time_s)).length} more beats outside the window shown</li>
            )}
          </ul>
          {!readOnly && selection && selection.kind !== 'prelabel' && <button type="button" onClick={removeSelected}>Delete the selected {selection.kind} <kbd>Delete</kbd></button>}
        </section>
        <section aria-labelledby="ecg-pre-h">
          <h3 id="ecg-pre-h">Pre-labels in view ({shown.length} of {references.length - decided.size} open)</h3>
          {!readOnly && shown.length > 0 && (
            <div class="actions">
              <button type="button" onClick={() => decide(shown.map(([, i]) => i), 'accepted')}>Accept all shown <kbd>Shift+Enter</kbd></button>
              <button type="button" onClick={() => decide(shown.map(([, i]) => i), 'rejected')}>Reject all shown</button>
            </div>
          )}
          <ul class="rows">
            {shown.slice(0, 20).map(([r, i]) => (
              <li key={i} class={selection?.kind === 'prelabel' && selection.index === i ? 'selected' : ''}>
                <button type="button" class="link" onClick={() => setSelection({ kind: 'prelabel', index: i })}>{r.symbol} {r.label} at {fmt(r.time_s)} s</button>
                {!readOnly && <>
                  <button type="button" onClick={() => decide([i], 'accepted')} aria-label={`Accept ${r.symbol} at ${fmt(r.time_s)} s`}>Accept</button>
                  <button type="button" onClick={() => decide([i], 'rejected')} aria-label={`Reject ${r.symbol} at ${fmt(r.time_s)} s`}>Reject</button>
                </>}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </section>
  );
}

function round3(s: number): number {
  return Math.round(s * 1000) / 1000;
}
