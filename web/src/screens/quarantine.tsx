// Quarantine review (docs/deid-dicom.md "Quarantine for pixel review"; data stewards only:
// permission quarantine_review). The DICOM instances held for suspected burned-in text, filtered
// by status. An opened pending entry shows its frames as stored (PNG from the server, one pixel
// per stored pixel: Pixel Data's columns x rows), on which the steward drags rectangles to blank
// (kept in image pixels, whatever the size on screen); then Release, Blank (the rectangles, in
// every frame) or Discard, each a decision the server audits; the screen then opens the next
// pending entry. A decided entry shows who decided, when, why and the rectangles.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, all, api, errorText } from '../api/client';
import type { PixelRect, QuarantinedInstance, QuarantineStatus, SessionInfo } from '../api/models';
import { loadProject, shortId, useLoad } from '../project';
import { linkClick, mayLeave, useUnsavedWork } from '../router';
import { useShortcuts } from '../shortcuts';
import { Failure, Loading } from '../components/status';

const kStatuses: QuarantineStatus[] = ['pending', 'released', 'blanked', 'discarded'];
type Decision = 'release' | 'blank' | 'discard';

export function QuarantineScreen({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const project_id = params.project_id!;
  const [status, setStatus] = useState<QuarantineStatus | ''>('pending');
  const [data, error, reload] = useLoad(async () => {
    const ctx = await loadProject(project_id, session);
    const rows = await all<QuarantinedInstance>((cursor) =>
      api.get('/api/v1/projects/{project_id}/quarantine', { project_id }, { status, cursor, limit: 200 }));
    return { ctx, rows };
  }, [project_id, status]);
  const [openId, setOpenId] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  // The server refused a decision because the entry changed meanwhile (another steward decided
  // it, or it is gone): said here, above the list read again.
  const [refused, setRefused] = useState('');

  const me = session.user.id;
  const who = (id: string | null) => (!id ? '—' : id === me ? 'you' : shortId(id));
  const rows = data?.rows ?? [];
  const pending = rows.filter((r) => r.status === 'pending');

  // Opening another entry drops the rectangles drawn on this one: ask first.
  const open = (id: string | null) => {
    if (id === openId || !mayLeave()) return;
    setMessage('');
    setRefused('');
    setOpenId(id);
  };
  // The pending entry after `id` in the list (else the first one before it), skipping `id`.
  const nextPending = (id: string | null, step = 1): string | null => {
    const ids = rows.map((r) => r.id);
    const at = id ? ids.indexOf(id) : -1;
    for (let k = 1; k <= ids.length; ++k) {
      const r = rows[(((at + step * k) % ids.length) + ids.length) % ids.length]!;
      if (r.status === 'pending' && r.id !== id) return r.id;
    }
    return null;
  };
  const decided = (q: QuarantinedInstance, what: string) => {
    const next = nextPending(q.id);
    setMessage(`${what}${next ? ' The next pending entry is open.' : ' No pending entry is left.'}`);
    setRefused('');
    setOpenId(next);
    reload();
  };
  // The entry stays open: once the list is read again it shows as decided, or leaves a list of
  // pending entries.
  const stale = (q: QuarantinedInstance, why: string) => {
    setMessage('');
    setRefused(`${q.modality} ${shortId(q.id)} was not decided. The server refused: ${why}. The list was read again.`);
    reload();
  };

  useShortcuts([
    { key: 'n', description: 'Open the next pending entry', run: () => open(nextPending(openId)) },
    { key: 'p', description: 'Open the previous pending entry', run: () => open(nextPending(openId, -1)) },
  ], [rows, openId]);

  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const current = rows.find((r) => r.id === openId) ?? null;

  return (
    <main id="main">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{data.ctx.project.name}</a> › quarantine</p>
      <h1>Quarantine review</h1>
      <p class="muted">DICOM instances that may show burned-in identifiers (names, dates, IDs written into the pixels) wait
        here, de-identified in their headers and encrypted, until you look at them. Release what shows no identifier, blank
        the rectangles that do, or discard the instance. Every view and decision is in the audit log.</p>
      {message && <p class="notice" role="status">{message}</p>}
      {refused && <p class="error" role="alert">{refused}</p>}
      <div class="quarantine-grid">
        <section aria-labelledby="entries-h">
          <h2 id="entries-h">Entries ({rows.length})</h2>
          <label class="inline">Status
            <select value={status} onChange={(e) => { if (mayLeave()) { setOpenId(null); setStatus(e.currentTarget.value as QuarantineStatus | ''); } }}>
              {kStatuses.map((s) => <option key={s} value={s}>{s}</option>)}
              <option value="">any</option>
            </select>
          </label>
          {status !== 'pending' && <span class="muted">{pending.length} pending</span>}
          {rows.length === 0 && <p>{status === 'pending' ? 'Nothing is waiting for review.' : 'No entry.'}</p>}
          {rows.length > 0 && (
            <table class="grid quarantine">
              <thead><tr>
                <th scope="col">entry</th><th scope="col">reasons</th><th scope="col">held since</th>
                <th scope="col">sent by</th><th scope="col">status</th>
              </tr></thead>
              <tbody>
                {rows.map((q) => (
                  <tr key={q.id} class={q.id === openId ? 'selected' : ''} aria-current={q.id === openId ? 'true' : undefined}>
                    <td><button type="button" class="link" onClick={() => open(q.id)}>{q.modality} {shortId(q.id)}</button></td>
                    <td>{q.reasons.join('; ')}</td>
                    <td>{new Date(q.created_at).toLocaleString()}</td>
                    <td>{who(q.created_by)}</td>
                    <td><span class={`state ${q.status}`}>{q.status}</span></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {!current && pending.length > 0 && <p class="muted">Press <kbd>N</kbd> to open the next pending entry.</p>}
        </section>
        {current && (current.status === 'pending'
          ? <PendingEntry key={current.id} project_id={project_id} entry={current} onDecided={decided} onStale={stale} />
          : <DecidedEntry key={current.id} entry={current} who={who} />)}
      </div>
    </main>
  );
}

// What every entry shows (pseudonymous UIDs: the headers are de-identified), then `children`.
function EntryFacts({ entry, children }: { entry: QuarantinedInstance; children?: ComponentChildren }) {
  return (
    <dl class="facts">
      <dt>Reasons</dt><dd>{entry.reasons.join('; ')}</dd>
      <dt>Modality</dt><dd>{entry.modality}</dd>
      <dt>SOP Instance UID</dt><dd class="uid">{entry.sop_instance_uid}</dd>
      <dt>Series UID</dt><dd class="uid">{entry.series_uid}</dd>
      <dt>Size</dt><dd>{(entry.bytes / 1024).toFixed(1)} KiB</dd>
      {children}
    </dl>
  );
}

function DecidedEntry({ entry, who }: { entry: QuarantinedInstance; who: (id: string | null) => string }) {
  return (
    <section aria-labelledby="entry-h" class="entry">
      <h2 id="entry-h">{entry.modality} {shortId(entry.id)}: {entry.status}</h2>
      <EntryFacts entry={entry}>
        <dt>Decided by</dt><dd>{who(entry.decided_by)}</dd>
        <dt>Decided at</dt><dd>{entry.decided_at ? new Date(entry.decided_at).toLocaleString() : '—'}</dd>
        <dt>Reason</dt><dd>{entry.reason || '—'}</dd>
        <dt>Rectangles</dt>
        <dd>{entry.rects.length === 0 ? 'none' : (
          <ul class="plain">{entry.rects.map((r, i) => <li key={i}>{rectText(r)}</li>)}</ul>)}</dd>
        <dt>Item</dt><dd>{entry.item_id ? <span class="uid">{entry.item_id}</span> : 'none (the pixels were deleted)'}</dd>
      </EntryFacts>
      <p class="muted">Its pixels are no longer in the quarantine{entry.item_id ? ': they are in the item' : ''}.</p>
    </section>
  );
}

function rectText(r: PixelRect): string {
  return `x ${r.x}, y ${r.y}, ${r.width} × ${r.height} px`;
}

interface Frame { url: string; width: number; height: number }

// A pending entry: its frames, the rectangles drawn on them, and the decision. A refusal is shown
// with the form; one that says the entry changed meanwhile (409, 404) goes to `onStale`.
function PendingEntry({ project_id, entry, onDecided, onStale }: {
  project_id: string; entry: QuarantinedInstance; onDecided: (q: QuarantinedInstance, what: string) => void;
  onStale: (q: QuarantinedInstance, why: string) => void;
}) {
  const quarantine_id = entry.id;
  const [index, setIndex] = useState(0);
  const [frames, setFrames] = useState<Map<number, Frame>>(new Map());
  const [frameCount, setFrameCount] = useState<number | null>(null);  // the server says, with each frame
  const [frameError, setFrameError] = useState('');
  const [rects, setRects] = useState<PixelRect[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  const [decision, setDecision] = useState<Decision | null>(null);
  const [reason, setReason] = useState('');
  const [refusal, setRefusal] = useState('');
  const [busy, setBusy] = useState(false);
  useUnsavedWork('blanking rectangles', rects.length > 0);
  const urls = useRef<string[]>([]);
  useEffect(() => () => urls.current.forEach((u) => URL.revokeObjectURL(u)), []);

  // Each frame is read once (every read is audited as quarantine.view).
  useEffect(() => {
    if (frames.has(index)) return;
    let live = true;
    setFrameError('');
    (async () => {
      const res = await api.getRaw('/api/v1/projects/{project_id}/quarantine/{quarantine_id}/frames/{index}.png',
                                   { project_id, quarantine_id, index: String(index) });
      const count = Number(res.headers.get('Caliper-Frame-Count'));
      if (live && count > 0) setFrameCount(count);
      const url = URL.createObjectURL(await res.blob());
      urls.current.push(url);
      const img = new Image();
      img.src = url;
      await img.decode();
      if (live) setFrames((f) => new Map(f).set(index, { url, width: img.naturalWidth, height: img.naturalHeight }));
    })().catch((e) => live && setFrameError(errorText(e)));
    return () => { live = false; };
  }, [index]);

  const frame = frames.get(index) ?? null;
  const step = (d: number) => frameCount !== null && setIndex((i) => Math.max(0, Math.min(frameCount - 1, i + d)));
  const removeRect = (i: number) => {
    setRects((rs) => rs.filter((_, k) => k !== i));
    setSelected(null);
  };
  const addRect = () => {
    if (!frame) return;
    // A band across the top tenth: where scanners and ultrasound machines usually write.
    setRects((rs) => [...rs, { x: 0, y: 0, width: frame.width, height: Math.max(1, Math.round(frame.height / 10)) }]);
    setSelected(rects.length);
  };
  const choose = (d: Decision) => {
    setRefusal('');
    setDecision(d);
  };

  const decide = async (e: Event) => {
    e.preventDefault();
    if (!decision) return;
    const n = rects.length;
    const rectWords = `${n} rectangle${n === 1 ? '' : 's'}`;
    if (decision === 'blank' && !window.confirm(
      `Blank ${rectWords} in every frame of this instance and store it in its series? The pixels under them are set to zero for good.`)) return;
    if (decision === 'discard' && !window.confirm('Discard this instance? Its pixels are deleted for good.')) return;
    const params = { project_id, quarantine_id };
    const why = reason.trim();
    setBusy(true);
    setRefusal('');
    try {
      let q: QuarantinedInstance;
      if (decision === 'release') {
        q = await api.post('/api/v1/projects/{project_id}/quarantine/{quarantine_id}/release', params, why ? { reason: why } : {});
      } else if (decision === 'blank') {
        q = await api.post('/api/v1/projects/{project_id}/quarantine/{quarantine_id}/blank', params,
                           why ? { rects, reason: why } : { rects });
      } else {
        q = await api.post('/api/v1/projects/{project_id}/quarantine/{quarantine_id}/discard', params, { reason: why });
      }
      setRects([]);  // decided: nothing is left unsaved
      const what = q.status === 'discarded' ? 'discarded: its pixels are deleted.'
        : q.status === 'blanked' ? `blanked (${rectWords}) and stored in item ${shortId(q.item_id ?? '')}.`
        : `released into item ${shortId(q.item_id ?? '')}.`;
      onDecided(q, `${entry.modality} ${shortId(q.id)} ${what}`);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 404)) onStale(entry, errorText(err));
      else setRefusal(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  useShortcuts([
    { key: 'ArrowRight', description: 'Next frame', run: () => step(1) },
    { key: 'ArrowLeft', description: 'Previous frame', run: () => step(-1) },
    { key: 'Home', description: 'First frame', run: () => setIndex(0) },
    { key: 'a', description: 'Add a rectangle (a band across the top; then type its numbers)', run: addRect },
    { key: 'Delete', description: 'Remove the selected rectangle', run: () => selected !== null && removeRect(selected) },
    { key: 'r', description: 'Release: no identifier in the pixels', run: () => choose('release') },
    { key: 'b', description: 'Blank the rectangles, then release', run: () => choose('blank') },
    { key: 'd', description: 'Discard the instance', run: () => choose('discard') },
    { key: 'Escape', description: 'Close the decision, or deselect the rectangle',
      run: () => (decision ? setDecision(null) : setSelected(null)) },
  ], [frame, frameCount, rects, selected, decision]);

  const badRect = rects.findIndex((r) => !(Number.isInteger(r.x) && Number.isInteger(r.y) &&
    Number.isInteger(r.width) && Number.isInteger(r.height) && r.width > 0 && r.height > 0));
  const setRect = (i: number, key: keyof PixelRect, value: string) =>
    setRects((rs) => rs.map((r, k) => (k === i ? { ...r, [key]: value === '' ? Number.NaN : Number(value) } : r)));

  return (
    <section aria-labelledby="entry-h" class="entry">
      <h2 id="entry-h">{entry.modality} {shortId(entry.id)}: pending</h2>
      <EntryFacts entry={entry} />
      <div class="toolbar" role="group" aria-label="Frames">
        <button type="button" onClick={() => step(-1)} disabled={index === 0} aria-label="Previous frame">◀ <kbd>←</kbd></button>
        <span aria-live="polite">Frame {index + 1}{frameCount !== null ? ` of ${frameCount}` : ''}
          {frame && <span class="muted"> · {frame.width} × {frame.height} px</span>}</span>
        <button type="button" onClick={() => step(1)} disabled={frameCount === null || index >= frameCount - 1}
                aria-label="Next frame"><kbd>→</kbd> ▶</button>
      </div>
      {frameError && <p class="error" role="alert">The frame cannot be shown: {frameError}</p>}
      {frame
        ? <FrameCanvas frame={frame} index={index} rects={rects} selected={selected} onSelect={setSelected}
                       onDrawn={(r) => { setRects((rs) => [...rs, r]); setSelected(rects.length); }} />
        : !frameError && <p class="loading" role="status">Loading frame {index + 1}…</p>}
      <p class="muted">Drag on the frame to mark a rectangle to blank; it applies to every frame.</p>

      <h3 id="rects-h">Rectangles to blank ({rects.length})</h3>
      <ul class="plain rect-list" aria-labelledby="rects-h">
        {rects.map((r, i) => (
          <li key={i} class={i === selected ? 'selected' : ''}>
            <fieldset onFocusIn={() => setSelected(i)}>
              <legend>Rectangle {i + 1}</legend>
              {(['x', 'y', 'width', 'height'] as const).map((k) => (
                <label key={k} class="inline">{k}
                  <input type="number" min={k === 'width' || k === 'height' ? 1 : 0} step={1} size={5}
                         value={Number.isNaN(r[k]) ? '' : r[k]} onInput={(e) => setRect(i, k, e.currentTarget.value)} />
                </label>
              ))}
              <button type="button" onClick={() => removeRect(i)}>Remove rectangle {i + 1}</button>
            </fieldset>
          </li>
        ))}
      </ul>
      <button type="button" onClick={addRect} disabled={!frame}>Add a rectangle <kbd>A</kbd></button>
      {badRect >= 0 && <p class="error" role="alert">Rectangle {badRect + 1} needs whole numbers and a width and height of at least 1.</p>}

      <div class="actions" role="group" aria-label="Decision">
        <button type="button" onClick={() => choose('release')} aria-pressed={decision === 'release'}>Release <kbd>R</kbd></button>
        <button type="button" onClick={() => choose('blank')} aria-pressed={decision === 'blank'}>Blank <kbd>B</kbd></button>
        <button type="button" onClick={() => choose('discard')} aria-pressed={decision === 'discard'}>Discard <kbd>D</kbd></button>
      </div>
      {decision && (
        <form class="stack decision" onSubmit={decide} aria-label={`${decision[0]!.toUpperCase()}${decision.slice(1)} this instance`}>
          <p>{decision === 'release' ? 'Store the instance in its series as it is: you looked and saw no identifier in its pixels.'
            : decision === 'blank' ? `Set the pixels under ${rects.length === 1 ? 'the rectangle' : `the ${rects.length} rectangles`} to zero in every frame, then store the instance in its series.`
            : 'Delete the instance\'s pixels; the entry keeps who, when and why.'}</p>
          <label>{decision === 'discard' ? 'Reason (required)' : 'Reason (optional, kept in the audit log)'}
            <textarea rows={2} value={reason} required={decision === 'discard'} autoFocus
                      onInput={(e) => setReason(e.currentTarget.value)}
                      placeholder={decision === 'blank' ? 'What was burned in' : decision === 'discard' ? 'Why it is discarded' : 'What you checked'} />
          </label>
          {decision === 'blank' && rects.length === 0 && <p class="error">Draw at least one rectangle first.</p>}
          {decision === 'release' && rects.length > 0 &&
            <p class="error">Your {rects.length === 1 ? 'rectangle is' : `${rects.length} rectangles are`} not used: release keeps every pixel.</p>}
          {refusal && <p class="error" role="alert">The server refused: {refusal}</p>}
          <div class="actions">
            <button type="submit" class={decision === 'release' ? 'primary' : 'danger'}
                    disabled={busy || (decision === 'discard' && !reason.trim()) ||
                              (decision === 'blank' && (rects.length === 0 || badRect >= 0))}>
              {decision === 'release' ? 'Release the instance' : decision === 'blank' ? 'Blank and release' : 'Discard the instance'}
            </button>
            <button type="button" onClick={() => setDecision(null)}>Cancel <kbd>Esc</kbd></button>
          </div>
        </form>
      )}
    </section>
  );
}

// The frame at its own pixel grid under an SVG of the same grid (viewBox = columns x rows), so a
// drag is read in image pixels however large the frame is shown.
function FrameCanvas({ frame, index, rects, selected, onSelect, onDrawn }: {
  frame: Frame; index: number; rects: PixelRect[]; selected: number | null;
  onSelect: (i: number | null) => void; onDrawn: (r: PixelRect) => void;
}) {
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const at = (e: PointerEvent) => {
    const box = svg.current!.getBoundingClientRect();
    const x = ((e.clientX - box.left) * frame.width) / box.width;
    const y = ((e.clientY - box.top) * frame.height) / box.height;
    return { x: Math.min(frame.width, Math.max(0, Math.round(x))), y: Math.min(frame.height, Math.max(0, Math.round(y))) };
  };
  const down = (e: PointerEvent) => {
    if (e.button !== 0) return;
    const hit = (e.target as Element).getAttribute('data-rect');
    if (hit !== null) return onSelect(Number(hit));
    svg.current!.setPointerCapture(e.pointerId);
    const p = at(e);
    setDrag({ x0: p.x, y0: p.y, x1: p.x, y1: p.y });
  };
  const move = (e: PointerEvent) => {
    if (!drag) return;
    const p = at(e);
    setDrag({ ...drag, x1: p.x, y1: p.y });
  };
  const up = () => {
    if (!drag) return;
    const r = box(drag);
    setDrag(null);
    if (r.width >= 1 && r.height >= 1) onDrawn(r);
  };
  const box = (d: { x0: number; y0: number; x1: number; y1: number }): PixelRect =>
    ({ x: Math.min(d.x0, d.x1), y: Math.min(d.y0, d.y1), width: Math.abs(d.x1 - d.x0), height: Math.abs(d.y1 - d.y0) });
  const shown = drag ? box(drag) : null;
  return (
    // As large as the column allows, at most 75% of the window's height, at the frame's aspect.
    <div class="frame-wrap" style={{ aspectRatio: `${frame.width} / ${frame.height}`,
                                     width: `min(100%, calc(75vh * ${frame.width / frame.height}))` }}>
      <img src={frame.url} alt={`Frame ${index + 1} as stored`} draggable={false} />
      <svg ref={svg} class="frame-overlay" viewBox={`0 0 ${frame.width} ${frame.height}`} preserveAspectRatio="none"
           role="img" aria-label={`Rectangles on frame ${index + 1}: drag to add one`}
           onPointerDown={down} onPointerMove={move} onPointerUp={up} onPointerCancel={() => setDrag(null)}>
        {rects.map((r, i) => (
          <rect key={i} data-rect={i} x={r.x} y={r.y} width={Math.max(0, r.width || 0)} height={Math.max(0, r.height || 0)}
                class={i === selected ? 'blank selected' : 'blank'} vector-effect="non-scaling-stroke" />
        ))}
        {shown && <rect x={shown.x} y={shown.y} width={shown.width} height={shown.height} class="drawing" vector-effect="non-scaling-stroke" />}
      </svg>
    </div>
  );
}
