// A reader's task: the item, the label form with the guideline panel, the reader's labels, a
// note's or a volume's pre-labels to accept, correct or reject, and submit / release.

import { useState } from 'preact/hooks';
import { api, errorText } from '../api/client';
import { kExperiencers, kRejectReasonText, kTemporalities } from '../api/models';
import type { Annotation, LabelBody, LabelClass, Prelabel, SessionInfo } from '../api/models';
import { GuidelinePanel } from '../components/guideline_panel';
import { ItemPane, isVolumeItem } from '../components/item_pane';
import type { Evidence } from '../components/item_pane';
import { LabelForm, LabelSummary } from '../components/label_form';
import type { LabelStart } from '../components/label_form';
import { loadPrelabels, prelabelSpan, prelabelVoxels } from '../components/note_prelabels';
import type { Decision } from '../components/note_prelabels';
import type { PaintRequest } from '../components/volume_viewer';
import { classesFor, loadTask, useLoad } from '../project';
import { linkClick, navigate, useUnsavedWork } from '../router';
import { useShortcuts } from '../shortcuts';
import { Failure, Loading } from '../components/status';

export function TaskRoom({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const { project_id, task_id } = params as { project_id: string; task_id: string };
  const [data, error, reload] = useLoad(() => loadTask(project_id, task_id, session), [task_id]);
  const [cls, setCls] = useState<LabelClass | undefined>();
  const [evidence, setEvidence] = useState<Evidence | null>(null);
  const [message, setMessage] = useState('');
  const [editing, setEditing] = useState<Annotation | null>(null);
  // A note's or a volume's pre-labels: the one picked, and the one being corrected (in the label
  // form, or for a segmentation in the drawing).
  const isNote = data?.item.data_type === 'notes';
  const isVolume = data !== null && isVolumeItem(data.item);
  const [prelabels, prelabelError, reloadPrelabels] =
    useLoad(() => (isNote || isVolume ? loadPrelabels(data!.item.id) : Promise.resolve(null)), [data?.item.id]);
  // The volume room: a corrected segmentation painted into the drawing; the saved mask reloaded
  // once an accepted one made a new version; whether the drawing has unsaved changes.
  const [paint, setPaint] = useState<PaintRequest | null>(null);
  const [maskRevision, setMaskRevision] = useState(0);
  const [unsavedDrawing, setUnsavedDrawing] = useState(false);
  useUnsavedWork('mask strokes', unsavedDrawing);  // leaving (a link, back, reload, close) asks first
  const [picked, setPicked] = useState<string | null>(null);
  // Why a reviewer sent the reading back: its latest review, when that is a rejection.
  const [reviews] = useLoad(() => api.get('/api/v1/projects/{project_id}/tasks/{task_id}/reviews', { project_id, task_id }),
                            [task_id, data?.task.state]);
  const lastReview = reviews?.data[reviews.data.length - 1];
  const rejection = lastReview?.decision === 'reject' ? lastReview : undefined;
  const [correcting, setCorrecting] = useState<Prelabel | null>(null);

  const editable = data?.task.state === 'claimed';
  const submit = async (next: boolean) => {
    try {
      await api.post('/api/v1/projects/{project_id}/tasks/{task_id}/submit', { project_id, task_id });
      if (!next) return navigate(`/projects/${project_id}`);
      const task = await api.post('/api/v1/projects/{project_id}/tasks/next', { project_id });
      navigate(task ? `/projects/${project_id}/tasks/${task.id}` : `/projects/${project_id}`);
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  useShortcuts(editable ? [
    { key: 'ctrl+Enter', description: 'Submit the reading and claim the next task', run: () => void submit(true) },
    { key: 'Escape', description: 'Clear the marked evidence', run: () => { setEvidence(null); setCorrecting(null); } },
  ] : [], [editable]);

  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const { ctx, task, item, labels } = data;
  const classes = classesFor(ctx.guideline, item.data_type, item.modality);
  // The viewer's drawing values are the server's mask labels: value k is the guideline's k-th
  // segmentation class in schema order (all of them, whatever the item's modality).
  const segments = (ctx.guideline?.schema.classes ?? []).filter((c) => c.kind === 'segmentation');

  // Changes `previous` (optimistic concurrency: the ETag read now must still be current when the
  // PUT lands), or creates the label when there is none. Throws the server's refusal as text.
  const writeLabel = async (previous: Annotation | null, body: LabelBody) => {
    try {
      if (previous) {
        const params = { item_id: item.id, annotation_id: previous.id };
        const etag = (await api.getRaw('/api/v1/items/{item_id}/annotations/{annotation_id}', params)).headers.get('ETag') ?? '';
        await api.put('/api/v1/items/{item_id}/annotations/{annotation_id}', params, body, etag);
      } else {
        await api.post('/api/v1/items/{item_id}/annotations', { item_id: item.id }, body);
      }
    } catch (e) {
      throw new Error(errorText(e));
    }
  };
  // The server records the reader's decision; accepting or correcting makes the reader's label.
  const decidePrelabel = async (p: Prelabel, decision: Decision | 'corrected', correction?: LabelBody) => {
    const res = await api.post('/api/v1/items/{item_id}/prelabels/{prelabel_id}/decision',
                               { item_id: item.id, prelabel_id: p.id }, { decision, ...(correction ? { correction } : {}) });
    const pending = (prelabels ?? []).filter((q) => q.status === 'pending' && q.id !== p.id);
    setPicked(pending[0]?.id ?? null);
    reloadPrelabels();
    if (res.annotation) reload();
    return res;
  };
  const decide = async (p: Prelabel, how: Decision) => {
    // The server adds an accepted segmentation to the reader's saved mask, which then replaces
    // the drawing: strokes not saved yet would be lost.
    if (how === 'accepted' && prelabelVoxels(p) && unsavedDrawing) {
      setMessage('Save your mask first (Ctrl+M): accepting adds the model\'s voxels to your saved mask, which then replaces the drawing.');
      return;
    }
    try {
      const res = await decidePrelabel(p, how);
      const a = res.annotation;
      if (a?.evidence.kind === 'mask') {
        setMaskRevision((r) => r + 1);
        if (correcting?.id === p.id) setCorrecting(null);
        const name = segments.find((c) => c.id === a.label.class)?.name ?? a.label.class;
        setMessage(`Pre-label accepted: the model's ${name} is your mask version ${String(a.evidence.data['version'])}, and your label of it rests on that version.`);
        return;
      }
      setMessage(a ? `Pre-label accepted: your label ${a.label.class} (${a.uncertainty.assertion}, ${a.context.temporality}, ${a.context.experiencer}).`
                   : 'Pre-label rejected.');
      if (correcting?.id === p.id) setCorrecting(null);
    } catch (e) {
      setMessage(`The decision was not recorded: ${errorText(e)}`);
    }
  };
  // Correcting opens the label form on the pre-label (its span as the evidence); a segmentation
  // of a volume is painted into the drawing instead, and saving the mask sends the correction.
  const correct = (p: Prelabel, quoted: string) => {
    const voxels = isVolume ? prelabelVoxels(p) : null;
    if (voxels) {
      const segment = segments.findIndex((c) => c.id === p.label.class);
      if (segment < 0) {
        setMessage(`The pre-label's class ${p.label.class} is not a segment of this guideline; reject it or label the item with the form.`);
        return;
      }
      setEditing(null);
      setEvidence(null);
      setCorrecting(p);
      setPicked(p.id);
      setPaint({ nonce: Date.now(), segment, voxels });
      setMessage(`The model's ${segments[segment]!.name} is painted into your drawing: change it, then save the mask (Ctrl+M) to record the correction.`);
      return;
    }
    const span = prelabelSpan(p);
    setEditing(null);
    setCorrecting(p);
    setPicked(p.id);
    setEvidence(span ? { data: { ...span, text: quoted }, summary: `characters ${span.start}–${span.end}: “${quoted}”` } : null);
  };
  const saveLabel = async (body: LabelBody) => {
    if (correcting) {
      try {
        await decidePrelabel(correcting, 'corrected', body);
      } catch (e) {
        throw new Error(errorText(e));
      }
      setCorrecting(null);
      setEvidence(null);
      setMessage('Pre-label corrected: your label was saved.');
      return;
    }
    await writeLabel(editing, body);
    setEvidence(null);
    setMessage(editing ? 'Label changed.' : 'Label saved.');
    setEditing(null);
    reload();
  };
  // For each segment of a new mask version, the reader's label of that class rests on the version
  // (evidence kind mask): the label of the class already resting on a mask is changed, else one
  // is created with its first code. A segmentation pre-label being corrected (`fixing`): the
  // label of its class comes from the decision (corrected, the new version as its evidence)
  // instead. Returns what was done, one entry per segment.
  const restLabelsOn = async (mask: { version: number; labels: number[] }, fixing: Prelabel | null): Promise<string[]> => {
    const done: string[] = [];
    for (const value of mask.labels) {
      const segment = segments[value - 1];
      if (!segment) continue;  // the server refuses values beyond the classes
      const code = segment.codes?.[0];
      if (fixing && fixing.label.class === segment.id) {
        try {
          await decidePrelabel(fixing, 'corrected', {
            evidence: { kind: 'mask', data: { version: mask.version } },
            label: { class: segment.id, ...(code ? { code_system: code.system, code: code.code } : {}) },
            uncertainty: { confidence: fixing.score, assertion: fixing.assertion },
          });
        } catch (e) {
          throw new Error(`the mask was saved as version ${mask.version}, but the correction was not recorded: ${errorText(e)}`);
        }
        setCorrecting(null);
        done.push(`${segment.name} (the corrected pre-label)`);
        continue;
      }
      const previous = labels.find((a) => a.label.class === segment.id && a.evidence.kind === 'mask') ?? null;
      await writeLabel(previous, {
        evidence: { kind: 'mask', data: { ...(previous?.evidence.data ?? {}), version: mask.version } },
        label: previous?.label ?? { class: segment.id, ...(code ? { code_system: code.system, code: code.code } : {}) },
        ...(previous ? { uncertainty: previous.uncertainty } : {}),
      });
      done.push(`${segment.name} (${previous ? 'changed' : 'created'})`);
    }
    return done;
  };
  const restingText = (done: string[]) =>
    done.length ? `your labels resting on it: ${done.join(', ')}.` : 'nothing is painted, so no label rests on it.';
  // The drawing becomes the reader's next mask version, and the labels of its segments rest on it.
  const saveMask = async (nifti: Uint8Array): Promise<string> => {
    let mask;
    try {
      mask = await api.putBytes('/api/v1/items/{item_id}/mask', { item_id: item.id }, nifti, 'application/octet-stream');
    } catch (e) {
      throw new Error(errorText(e));
    }
    const fixing = correcting && prelabelVoxels(correcting) ? correcting : null;
    const done = await restLabelsOn(mask, fixing);
    const text = `Mask version ${mask.version} saved; ${restingText(done)}` +
      (fixing && !mask.labels.some((v) => segments[v - 1]?.id === fixing.label.class)
        ? ` The corrected pre-label's class is not painted: reject the pre-label if the model was wrong.` : '');
    setMessage(text);
    reload();
    return text;
  };
  // A mask file made elsewhere (a NIfTI label map, a DICOM-SEG of the item's series) becomes the
  // reader's next mask version as the server reads it (a SEG's segments go to the guideline's
  // classes), the labels of its segments rest on it, and the viewer loads it as the drawing. A
  // segmentation pre-label being corrected is left undecided: its painted voxels are replaced.
  const importMask = async (bytes: Uint8Array, contentType: string, name: string): Promise<string> => {
    let mask;
    try {
      mask = await api.putBytes('/api/v1/items/{item_id}/mask', { item_id: item.id }, bytes, contentType);
    } catch (e) {
      setMessage('');  // the viewer says why; an earlier line above it would read as this file's
      throw new Error(errorText(e));
    }
    if (correcting && prelabelVoxels(correcting)) setCorrecting(null);
    setMaskRevision((r) => r + 1);
    // Stored and shown: a label the server refuses now is said, not thrown (the file is in).
    let text;
    try {
      text = `${name} imported as your mask version ${mask.version}; ${restingText(await restLabelsOn(mask, null))}`;
    } catch (e) {
      text = `${name} imported as your mask version ${mask.version}, but a label on it was refused: ${errorText(e)}. ` +
        'Save the mask (Ctrl+M) to try the labels again.';
    }
    setMessage(text);
    reload();
    return text;
  };
  // A reading the reviewer sent back is claimed again (tasks/next hands it out first).
  const takeBack = async () => {
    try {
      const next = await api.post('/api/v1/projects/{project_id}/tasks/next', { project_id });
      if (next && next.id !== task_id) navigate(`/projects/${project_id}/tasks/${next.id}`);
      else reload();
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  return (
    <main id="main" class="room">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{ctx.project.name}</a> › task</p>
      <h1>Reading: {item.data_type} {item.modality}</h1>
      <p class="muted">Task state: <span class={`state ${task.state}`}>{task.state}</span>
        {task.lease_expires_at && <> · lease until {new Date(task.lease_expires_at).toLocaleTimeString()}</>}</p>
      {message && <p class="notice" role="status">{message}</p>}
      {rejection && (editable || task.state === 'rejected') && (
        <section class="notice" aria-labelledby="sent-back-h">
          <h2 id="sent-back-h">Sent back by the reviewer</h2>
          <p>Reason: <strong>{rejection.reason_code ? kRejectReasonText[rejection.reason_code] : 'not given'}</strong></p>
          {rejection.reason && <p>Note: {rejection.reason}</p>}
        </section>
      )}
      {prelabelError && <p class="error" role="alert">The pre-labels could not be read: {prelabelError}</p>}
      <div class="room-grid">
        <ItemPane item={item} labels={labels} evidence={evidence} onEvidence={editable ? setEvidence : undefined}
                  segments={segments} classes={classes} ownMask
                  onSaveMask={editable ? saveMask : undefined}
                  volume={isVolume ? { paint, maskRevision, onUnsaved: setUnsavedDrawing,
                                              ...(editable ? { onImportMask: importMask } : {}) } : undefined}
                  prelabels={editable && prelabels ? {
                    prelabels, onPick: setPicked, onDecide: (p, how) => void decide(p, how), onCorrect: correct,
                    current: picked ?? prelabels.find((p) => p.status === 'pending')?.id ?? null } : undefined} />
        <div class="side">
          {editable ? (
            <section aria-labelledby="new-label-h">
              <h2 id="new-label-h">{correcting ? 'Correct the pre-label' : editing ? 'Change the label' : 'New label'}</h2>
              {correcting && prelabelVoxels(correcting) ? (
                <p class="notice">The model's segmentation is in your drawing: change it and save the mask (<kbd>Ctrl+M</kbd>);
                  the correction is recorded with the saved version.</p>
              ) : classes.length === 0 ? <p>The guideline has no class for this kind of item.</p> : (
                <LabelForm key={correcting ? `prelabel-${correcting.id}` : editing?.id ?? 'new'} classes={classes}
                           initial={correcting ? prelabelStart(correcting) : editing ?? undefined} withContext={isNote}
                           evidence={evidence?.data ?? (editing ? editing.evidence.data : null)}
                           evidenceSummary={evidence?.summary ?? (editing ? 'as marked before' : '')}
                           submitLabel={correcting ? 'Save the correction' : editing ? 'Save the change' : 'Save label'}
                           onClassChange={setCls} onSubmit={saveLabel} />
              )}
              {editing && <button type="button" onClick={() => setEditing(null)}>Cancel the change</button>}
              {correcting && <button type="button" onClick={() => { setCorrecting(null); setEvidence(null); }}>Cancel the correction</button>}
            </section>
          ) : task.state === 'rejected' ? (
            <p class="notice">The reviewer sent this reading back. <button type="button" class="primary" onClick={takeBack}>Take it back to correct</button></p>
          ) : <p class="notice">This reading is {task.state}; it can no longer change.</p>}
          <section aria-labelledby="my-labels-h">
            <h2 id="my-labels-h">Your labels ({labels.length})</h2>
            {labels.map((a) => (
              <div key={a.id} class="choice">
                <LabelSummary a={a} classes={classes} />
                {editable && <button type="button" onClick={() => setEditing(a)} aria-label={`Change label ${a.label.class}`}>Change</button>}
              </div>
            ))}
          </section>
          {editable && (
            <div class="actions">
              <button type="button" class="primary" disabled={labels.length === 0} onClick={() => submit(true)}>
                Submit and next <kbd>Ctrl+Enter</kbd></button>
              <button type="button" disabled={labels.length === 0} onClick={() => submit(false)}>Submit</button>
            </div>
          )}
          <GuidelinePanel guideline={ctx.guideline} cls={cls} />
        </div>
      </div>
    </main>
  );
}

// The label form's start when correcting a pre-label: its class, assertion, score and context.
function prelabelStart(p: Prelabel): LabelStart {
  const context = { temporality: p.attributes['temporality'], experiencer: p.attributes['experiencer'] };
  return {
    label: p.label,
    uncertainty: { confidence: p.score, assertion: p.assertion },
    evidence: p.evidence,
    context: {
      temporality: kTemporalities.find((t) => t === context.temporality) ?? 'current',
      experiencer: kExperiencers.find((x) => x === context.experiencer) ?? 'patient',
    },
  };
}
