// Review of one submitted reading: accept, correct (a new label version; the original stays),
// reject with a reason code and a note (back to its reader) or escalate with a note (to
// adjudication).

import { useState } from 'preact/hooks';
import { api, errorText } from '../api/client';
import { kRejectReasonText } from '../api/models';
import type { LabelBody, LabelClass, RejectReasonCode, SessionInfo } from '../api/models';
import { GuidelinePanel } from '../components/guideline_panel';
import { ItemPane } from '../components/item_pane';
import type { Evidence } from '../components/item_pane';
import { LabelForm, LabelSummary } from '../components/label_form';
import { classesFor, loadTask, useLoad } from '../project';
import { linkClick, navigate } from '../router';
import { useShortcuts } from '../shortcuts';
import { Failure, Loading } from '../components/status';

type Mode = 'none' | 'correct' | 'reject' | 'escalate';

export function ReviewRoom({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const { project_id, task_id } = params as { project_id: string; task_id: string };
  const [data, error] = useLoad(() => loadTask(project_id, task_id, session), [task_id]);
  const [mode, setMode] = useState<Mode>('none');
  const [chosen, setChosen] = useState('');
  const [code, setCode] = useState<RejectReasonCode>('wrong_class');
  const [note, setNote] = useState('');
  const [message, setMessage] = useState('');
  const [cls, setCls] = useState<LabelClass | undefined>();
  const [evidence, setEvidence] = useState<Evidence | null>(null);

  const decide = async (decision: 'accept' | 'correct' | 'reject' | 'escalate', correction?: LabelBody) => {
    const annotation_id = chosen || data?.labels[0]?.id;
    const body: { decision: typeof decision; reason_code?: RejectReasonCode; reason?: string; annotation_id?: string;
                  correction?: Record<string, unknown> } = { decision };
    if (annotation_id) body.annotation_id = annotation_id;
    if (decision === 'reject') body.reason_code = code;
    if (decision === 'reject' || decision === 'escalate') body.reason = note.trim();
    if (correction) body.correction = correction as unknown as Record<string, unknown>;
    try {
      await api.post('/api/v1/projects/{project_id}/tasks/{task_id}/reviews', { project_id, task_id }, body);
      navigate(`/projects/${project_id}`);
    } catch (e) {
      setMessage(errorText(e));
      if (correction) throw e;
    }
  };
  useShortcuts([
    { key: 'a', description: 'Accept the reading', run: () => void decide('accept') },
    { key: 'c', description: 'Correct a label', run: () => setMode('correct') },
    { key: 'r', description: 'Reject with a reason', run: () => setMode('reject') },
    { key: 'e', description: 'Escalate to adjudication', run: () => setMode('escalate') },
  ], [data, chosen, code, note]);

  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const { ctx, task, item, labels } = data;
  const classes = classesFor(ctx.guideline, item.data_type, item.modality);
  const target = labels.find((l) => l.id === chosen) ?? labels[0];

  return (
    <main id="main" class="room">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{ctx.project.name}</a> › review</p>
      <h1>Review: {item.data_type} {item.modality}</h1>
      <p class="muted">Reading state: <span class={`state ${task.state}`}>{task.state.replace('_', ' ')}</span></p>
      {message && <p class="error" role="alert">{message}</p>}
      <div class="room-grid">
        <ItemPane item={item} labels={labels} evidence={evidence} onEvidence={mode === 'correct' ? setEvidence : undefined} />
        <div class="side">
          <section aria-labelledby="reading-h">
            <h2 id="reading-h">The reading ({labels.length} label{labels.length === 1 ? '' : 's'})</h2>
            <fieldset>
              <legend>Label decided on</legend>
              {labels.map((a) => (
                <label key={a.id} class="choice">
                  <input type="radio" name="label" checked={target?.id === a.id} onChange={() => setChosen(a.id)} />
                  <LabelSummary a={a} classes={classes} />
                </label>
              ))}
            </fieldset>
          </section>
          <div class="actions" role="group" aria-label="Decision">
            <button type="button" class="primary" onClick={() => decide('accept')}>Accept <kbd>A</kbd></button>
            <button type="button" onClick={() => setMode('correct')} aria-pressed={mode === 'correct'}>Correct <kbd>C</kbd></button>
            <button type="button" onClick={() => setMode('reject')} aria-pressed={mode === 'reject'}>Reject <kbd>R</kbd></button>
            <button type="button" onClick={() => setMode('escalate')} aria-pressed={mode === 'escalate'}>Escalate <kbd>E</kbd></button>
          </div>
          {mode === 'reject' && (
            <form class="stack" onSubmit={(e) => { e.preventDefault(); void decide('reject'); }} aria-label="Reject">
              <label>Reason
                <select value={code} onChange={(e) => setCode(e.currentTarget.value as RejectReasonCode)} autoFocus>
                  {(Object.entries(kRejectReasonText) as [RejectReasonCode, string][]).map(([value, text]) =>
                    <option key={value} value={value}>{text}</option>)}
                </select>
              </label>
              <label>Note to the reader{code === 'other' ? ' (required for Other)' : ''}
                <textarea rows={2} required={code === 'other'} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
              </label>
              <button type="submit" class="danger">Reject the reading</button>
            </form>
          )}
          {mode === 'escalate' && (
            <form class="stack" onSubmit={(e) => { e.preventDefault(); void decide('escalate'); }} aria-label="Escalate">
              <label>Note for the adjudicator
                <textarea rows={2} required value={note} onInput={(e) => setNote(e.currentTarget.value)} autoFocus />
              </label>
              <button type="submit">Escalate to adjudication</button>
            </form>
          )}
          {mode === 'correct' && (
            <section aria-labelledby="correct-h">
              <h2 id="correct-h">Corrected label</h2>
              <LabelForm key={target?.id} classes={classes} initial={target} withContext={item.data_type === 'notes'}
                         evidence={evidence?.data ?? (target ? target.evidence.data : null)}
                         evidenceSummary={evidence?.summary ?? 'as the reader marked it'}
                         submitLabel="Save the correction" onClassChange={setCls}
                         onSubmit={(body) => decide('correct', body)} />
            </section>
          )}
          <GuidelinePanel guideline={ctx.guideline} cls={cls ?? classes.find((c) => c.id === target?.label.class)} />
        </div>
      </div>
    </main>
  );
}
