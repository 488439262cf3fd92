// Adjudication of an item: every reading side by side (with reader identities, which only
// adjudicators see), their reviews, the item's disagreement figures per class with the fused
// suggestion (Dawid–Skene for classes; for a volume, every reading's mask over it in the reader's
// colour and their STAPLE consensus), and the decision: one reading's label or a label written
// here, with a rationale.

import { useState } from 'preact/hooks';
import { api, errorText } from '../api/client';
import type { LabelBody, LabelClass, MaskFusion, Reading, SessionInfo } from '../api/models';
import { GuidelinePanel } from '../components/guideline_panel';
import { ItemPane, isVolumeItem } from '../components/item_pane';
import type { MaskLayer } from '../components/volume_viewer';
import { LabelForm, LabelSummary } from '../components/label_form';
import { classesFor, loadProject, shortId, useLoad } from '../project';
import { linkClick, navigate } from '../router';
import { Failure, Loading } from '../components/status';

// Reader i's colour, as the reading's heading border (styles.css .reader-i).
const kReaderColours: [number, number, number][] = [[11, 107, 203], [194, 65, 12], [21, 128, 61], [126, 34, 206]];
const kConsensusColour: [number, number, number] = [250, 204, 21];

const figure = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));

// The masks the submitted readings stand on (a label with mask evidence names one), and with two or more
// their STAPLE consensus, whose fit is handed to `onFusion`.
function maskLayers(itemId: string, readings: Reading[], onFusion: (f: MaskFusion | string) => void): MaskLayer[] {
  const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());
  const layers: MaskLayer[] = [];
  readings.forEach((r, i) => {
    // Only submitted readings stand on a mask (the server's rule: not open, claimed or rejected).
    if (['open', 'claimed', 'rejected'].includes(r.task.state) || !r.annotations.some((a) => a.evidence.kind === 'mask')) return;
    layers.push({ id: `reading-${r.task.id}`, name: `Reader ${i + 1}'s mask`, colour: kReaderColours[i % kReaderColours.length]!,
                  load: async () => bytes(await api.getRaw('/api/v1/items/{item_id}/readings/{task_id}/mask', { item_id: itemId, task_id: r.task.id })) });
  });
  if (layers.length >= 2) {
    layers.push({ id: 'staple', name: 'STAPLE consensus', colour: kConsensusColour, load: async () => {
      try {
        const res = await api.getRaw('/api/v1/items/{item_id}/fused-mask', { item_id: itemId });
        onFusion(JSON.parse(res.headers.get('X-Caliper-Fusion') ?? '{}') as MaskFusion);
        return await bytes(res);
      } catch (e) {
        onFusion(errorText(e));
        throw e;
      }
    } });
  }
  return layers;
}

export function AdjudicationRoom({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const { project_id, item_id } = params as { project_id: string; item_id: string };
  const [data, error] = useLoad(async () => {
    const [ctx, item, readings] = await Promise.all([
      loadProject(project_id, session),
      api.get('/api/v1/items/{item_id}', { item_id }),
      api.get('/api/v1/items/{item_id}/readings', { item_id }),
    ]);
    return { ctx, item, view: readings };
  }, [item_id]);
  const [fusion, setFusion] = useState<MaskFusion | string | null>(null);
  const [chosen, setChosen] = useState('');
  const [rationale, setRationale] = useState('');
  const [writeOwn, setWriteOwn] = useState(false);
  const [message, setMessage] = useState('');
  const [cls, setCls] = useState<LabelClass | undefined>();

  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const { ctx, item, view } = data;
  const readings = view.data;
  const classes = classesFor(ctx.guideline, item.data_type, item.modality);
  const allLabels = readings.flatMap((r) => r.annotations);
  // Per-class counts across readings: the disagreement at a glance.
  const votes = new Map<string, number>();
  for (const r of readings) {
    for (const a of r.annotations) {
      const key = `${a.label.class} (${a.uncertainty.assertion})`;
      votes.set(key, (votes.get(key) ?? 0) + 1);
    }
  }

  const decide = async (label?: LabelBody) => {
    if (!rationale.trim()) {
      setMessage('Write the rationale for the decision.');
      throw new Error('Write the rationale for the decision.');
    }
    const body: { rationale: string; annotation_id?: string; label?: Record<string, unknown> } = { rationale: rationale.trim() };
    if (label) body.label = label as unknown as Record<string, unknown>;
    else body.annotation_id = chosen;
    try {
      await api.post('/api/v1/items/{item_id}/adjudications', { item_id }, body);
      navigate(`/projects/${project_id}`);
    } catch (e) {
      setMessage(errorText(e));
      throw e;
    }
  };

  return (
    <main id="main" class="room">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{ctx.project.name}</a> › adjudication</p>
      <h1>Adjudication: {item.data_type} {item.modality}</h1>
      {message && <p class="error" role="alert">{message}</p>}
      <section aria-labelledby="disagree-h">
        <h2 id="disagree-h">Disagreement</h2>
        <p>{readings.length} readings · {[...votes.entries()].map(([k, n]) => `${k}: ${n}`).join(' · ') || 'no labels'}</p>
        {view.classes.length > 0 && (
          <table class="grid" aria-label="Disagreement per class">
            <thead><tr><th scope="col">Class</th><th scope="col">Readings naming it</th>
              <th scope="col">Fused suggestion: P(present), Dawid–Skene</th><th scope="col">Lowest mask Dice</th>
              <th scope="col">Lowest span F1</th><th scope="col">Grade spread</th><th scope="col">Lowest confidence</th></tr></thead>
            <tbody>
              {view.classes.map((c) => (
                <tr key={c.label_class}>
                  <th scope="row">{classes.find((k) => k.id === c.label_class)?.name ?? c.label_class}</th>
                  <td>{c.naming} of {c.readings}</td><td>{figure(c.posterior, 2)}</td><td>{figure(c.min_dice, 3)}</td>
                  <td>{figure(c.min_span_f1, 3)}</td><td>{figure(c.grade_distance, 2)}</td><td>{figure(c.min_confidence, 2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {view.triggers.length > 0 && (
          <ul aria-label="Why it came to adjudication">
            {view.triggers.map((t) => <li key={`${t.label_class}-${t.reason}`}>{t.label_class}: {t.reason}{t.detail ? ` (${t.detail})` : ''}</li>)}
          </ul>
        )}
        {typeof fusion === 'string' && <p class="error" role="alert">No STAPLE consensus: {fusion}</p>}
        {fusion && typeof fusion !== 'string' && (
          <p data-testid="staple-fit">STAPLE consensus of {fusion.readers.length} masks ({fusion.iterations} iterations{fusion.converged ? '' : ', not converged'}):{' '}
            {fusion.readers.map((r) => {
              const i = readings.findIndex((x) => x.task.id === r.task_id);
              const marks = Object.entries(r.agreement).filter(([label]) => label !== '0')
                .map(([label, p]) => `label ${label} ${p.toFixed(2)}`).join(', ');
              return `reader ${i + 1} ${marks}`;
            }).join(' · ')} (the chance a reader marks a voxel the consensus gives that label)</p>
        )}
      </section>
      <div class="readings">
        {readings.map((r, i) => (
          <section key={r.task.id} class="reading" aria-labelledby={`reader-${i}`}>
            <h2 id={`reader-${i}`} class={`reader-${i % 4}`}>Reader {i + 1} <span class="muted">({shortId(r.reader)})</span></h2>
            <p class="muted">Task {r.task.state}</p>
            {r.annotations.map((a) => (
              <label key={a.id} class="choice">
                <input type="radio" name="final" checked={chosen === a.id} onChange={() => { setChosen(a.id); setWriteOwn(false); }} />
                <LabelSummary a={a} classes={classes} />
              </label>
            ))}
            {r.reviews.map((v) => (
              <p key={v.id} class="review-note"><strong>Review: {v.decision}</strong>{v.reason ? ` — ${v.reason}` : ''}</p>
            ))}
          </section>
        ))}
      </div>
      <div class="room-grid">
        <ItemPane item={item} labels={[]} evidence={null}
                  layers={isVolumeItem(item) ? maskLayers(item_id, readings, setFusion) : undefined} />
        <div class="side stack">
          <label>Rationale for the decision
            <textarea rows={3} required value={rationale} onInput={(e) => setRationale(e.currentTarget.value)} />
          </label>
          <div class="actions">
            <button type="button" class="primary" disabled={!chosen} onClick={() => void decide().catch(() => {})}>
              Make the chosen label final</button>
            <button type="button" onClick={() => { setWriteOwn(true); setChosen(''); }} aria-pressed={writeOwn}>Write the final label</button>
          </div>
          {writeOwn && (
            <LabelForm classes={classes} evidence={null} evidenceSummary="" submitLabel="Save the final label" withContext={item.data_type === 'notes'}
                       onClassChange={setCls} onSubmit={(body) => decide(body)} />
          )}
          <GuidelinePanel guideline={ctx.guideline}
                          cls={cls ?? classes.find((c) => c.id === (allLabels.find((a) => a.id === chosen) ?? allLabels[0])?.label.class)} />
        </div>
      </div>
    </main>
  );
}
