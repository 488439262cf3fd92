// The ECG reading room's viewer: the record's leads stacked on the standard ECG grid (paper speed
// 25 mm/s, gain 10 mm/mV; 1 mm minor and 5 mm major lines), drawn on a canvas at the screen's
// pixel density. Lead selection, zoom (the grid magnified: it stays 25 mm/s) and pan by wheel,
// drag or keys; samples are fetched for the window shown (GET /waveform/samples). The record's
// reference annotations (e.g. a WFDB .atr) are shown as pre-labels. Interval and beat labelling
// comes with the server's per-reader intervals store (PUT /items/{id}/intervals).

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText } from '../api/client';
import type { ReferenceBeat, WaveformInfo } from '../api/models';
import { useShortcuts } from '../shortcuts';

export interface EcgViewerProps {
  itemId: string;
}

// The grid: CSS pixels per millimetre at zoom 1 (CSS's 96 px per inch), paper speed and the
// height of one lead's row.
const kCssPxPerMm = 96 / 25.4;
export const kPaperSpeedMmPerS = 25;
const kRowMm = 25;
const kTopMm = 6;         // the strip above the leads: pre-labels
const kZooms = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8];

interface ViewWindow { from: number; seconds: number }
interface Cache { from_s: number; to_s: number; rate: number; start: number; leads: Map<string, number[]> }

// Grid and trace geometry for the current zoom: CSS pixels per mm and per second.
export function gridScale(zoom: number): { pxPerMm: number; pxPerSecond: number } {
  const pxPerMm = kCssPxPerMm * zoom;
  return { pxPerMm, pxPerSecond: pxPerMm * kPaperSpeedMmPerS };
}

function fmt(s: number): string {
  return s.toFixed(3);
}

export function EcgViewer({ itemId }: EcgViewerProps) {
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
  const [chosen, setChosen] = useState(-1);   // the pre-label picked
  const [status, setStatus] = useState('Loading the record…');
  const zoom = kZooms[zoomIndex]!;
  const { pxPerMm, pxPerSecond } = gridScale(zoom);
  const view: ViewWindow = { from, seconds: width / pxPerSecond };
  const duration = info?.duration_s ?? 0;
  const rowPx = kRowMm * pxPerMm;
  const topPx = kTopMm * pxPerMm;
  const height = topPx + rowPx * Math.max(1, leads.length);
  const xOf = (t: number) => (t - view.from) * pxPerSecond;

  // The record and its reference annotations.
  useEffect(() => {
    let live = true;
    (async () => {
      const [record, refs] = await Promise.all([
        api.get('/api/v1/items/{item_id}/waveform', { item_id: itemId }),
        api.get('/api/v1/items/{item_id}/waveform/annotations', { item_id: itemId }),
      ]);
      if (!live) return;
      setInfo(record);
      setLeads(record.leads.map((l) => l.name));
      // The timeline counts seconds from the first sample (as the samples do); a reference
      // annotation's time_s also counts the record's start offset.
      setReferences(refs.map((r) => ({ ...r, time_s: r.sample / record.sampling_rate_hz })));
      setStatus(`${record.leads.length} leads at ${record.sampling_rate_hz} Hz, ${record.duration_s.toFixed(1)} s ` +
                `(${record.source_format}${record.group_label ? `, ${record.group_label}` : ''}); ` +
                (record.warnings?.length ? `note: ${record.warnings.join('; ')}; ` : '') +
                `${refs.length} reference annotations.`);
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

  // Draws the grid, the traces and the pre-labels.
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
    // Pre-labels: the reference symbol in the top strip, dashed.
    g.setLineDash([3, 3]);
    references.forEach((r, i) => {
      const x = xOf(r.time_s);
      if (x < -20 || x > width + 20) return;
      const picked = chosen === i;
      g.strokeStyle = picked ? '#0b4f8a' : '#8a96a3';
      g.lineWidth = picked ? 2 : 1;
      g.beginPath(); g.moveTo(x, topPx * 0.6); g.lineTo(x, topPx); g.stroke();
      g.fillStyle = picked ? '#0b4f8a' : '#4a5866';
      g.font = picked ? '700 12px system-ui, sans-serif' : '11px system-ui, sans-serif';
      g.fillText(r.symbol, x - 3, topPx * 0.45);
    });
    g.setLineDash([]);
  }, [width, height, zoom, gain, view.from, cache, leads.join(','), references, chosen]);

  // ---- pointer: a drag pans, a click in the top strip picks a pre-label -------------------------
  const press = useRef<{ x: number; from: number } | null>(null);
  const localX = (e: PointerEvent) => e.clientX - canvas.current!.getBoundingClientRect().left;
  const localY = (e: PointerEvent) => e.clientY - canvas.current!.getBoundingClientRect().top;
  const clampFrom = (f: number) => Math.max(0, Math.min(Math.max(0, duration - view.seconds * 0.5), f));
  const onDown = (e: PointerEvent) => {
    if (!info || e.button !== 0) return;
    canvas.current!.setPointerCapture(e.pointerId);
    press.current = { x: localX(e), from: view.from };
  };
  const onMove = (e: PointerEvent) => {
    const p = press.current;
    if (p) setFrom(clampFrom(p.from - (localX(e) - p.x) / pxPerSecond));
  };
  const onUp = (e: PointerEvent) => {
    const p = press.current;
    press.current = null;
    if (!p || Math.abs(localX(e) - p.x) >= 4 || localY(e) >= topPx) return;
    let best = -1, bestDx = 8;
    references.forEach((r, i) => {
      const d = Math.abs(xOf(r.time_s) - localX(e));
      if (d < bestDx) { best = i; bestDx = d; }
    });
    if (best >= 0) setChosen(best);
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
  const inView = (t: number) => t >= view.from && t <= view.from + view.seconds;
  const nextPrelabel = () => {
    const i = references.findIndex((r, j) => j > chosen && r.time_s >= view.from);
    if (i < 0) return;
    setChosen(i);
    const t = references[i]!.time_s;
    if (t > view.from + view.seconds * 0.9) setFrom(clampFrom(t - view.seconds * 0.2));
  };

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
    { key: 'n', description: 'Next pre-label', run: nextPrelabel },
  ] : [], [ready, zoomIndex, from, width, chosen, references]);

  const shown = references.map((r, i) => [r, i] as const).filter(([r]) => inView(r.time_s));
  return (
    <section class="ecg-room" aria-label="ECG viewer">
      <div class="toolbar" role="toolbar" aria-label="View">
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
      <div class="ecg-wrap" ref={wrap}>
        <canvas ref={canvas} tabIndex={0} aria-label="ECG leads on the grid"
                onPointerDown={onDown} onPointerMove={onMove} onPointerUp={onUp} onWheel={onWheel} />
      </div>
      <p class="muted" role="status">{status}</p>
      <section aria-labelledby="ecg-pre-h">
        <h3 id="ecg-pre-h">Pre-labels in view ({shown.length} of {references.length})</h3>
        <ul class="rows">
          {shown.slice(0, 20).map(([r, i]) => (
            <li key={i} class={chosen === i ? 'selected' : ''}>
              <button type="button" class="link" onClick={() => setChosen(i)}>{r.symbol} {r.label} at {fmt(r.time_s)} s</button>
              {r.aux && <span class="muted">{r.aux}</span>}
            </li>
          ))}
        </ul>
      </section>
    </section>
  );
}
