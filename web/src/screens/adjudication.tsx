// Adjudication of an item: every reading side by side (with reader identities, which only
// adjudicators see), their reviews, and the decision: one reading's label or a label written
// here, with a rationale.

import { useState } from 'preact/hooks';
import { api, errorText } from '../api/client';
import type { LabelBody, LabelClass, SessionInfo } from '../api/models';
import { GuidelinePanel } from '../components/guideline_panel';
import { ItemPane } from '../components/item_pane';
import { LabelForm, LabelSummary } from '../components/label_form';
import { classesFor, loadProject, shortId, useLoad } from '../project';
import { linkClick, navigate } from '../router';
import { Failure, Loading } from '../components/status';

export function AdjudicationRoom({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const { project_id, item_id } = params as { project_id: string; item_id: string };
  const [data, error] = useLoad(async () => {
    const [ctx, item, readings] = await Promise.all([
      loadProject(project_id, session),
      api.get('/api/v1/items/{item_id}', { item_id }),
      api.get('/api/v1/items/{item_id}/readings', { item_id }),
    ]);
    return { ctx, item, readings: readings.data };
  }, [item_id]);
  const [chosen, setChosen] = useState('');
  const [rationale, setRationale] = useState('');
  const [writeOwn, setWriteOwn] = useState(false);
  const [message, setMessage] = useState('');
  const [cls, setCls] = useState<LabelClass | undefined>();

  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const { ctx, item, readings } = data;
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
        <ItemPane item={item} labels={[]} evidence={null} />
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
