// The label form every reading room uses: target class (with its code), confidence,
// assertion (and, on notes, temporality and experiencer), evidence (what the viewer selected,
// and its source type) and rationale.
// The rationale and the evidence source travel in evidence.data.

import { useEffect, useId, useState } from 'preact/hooks';
import { kAssertions, kExperiencers, kTemporalities } from '../api/models';
import type { Annotation, Assertion, Experiencer, LabelBody, LabelClass, Temporality } from '../api/models';
import { useShortcuts } from '../shortcuts';

const kEvidenceKind: Record<string, string> = {
  classification: 'document', ordinal_grade: 'document', outcome: 'document', span: 'span',
  segmentation: 'voxels', box: 'roi', polygon: 'roi', measurement: 'value',
};
const kDefaultSources = ['image_finding', 'clinical_note', 'lab_result', 'pathology_report', 'biopsy', 'outcome'];

export function evidenceKindOf(cls: LabelClass | undefined): string {
  return (cls && kEvidenceKind[cls.kind]) ?? 'document';
}

export interface LabelFormProps {
  classes: LabelClass[];
  // What the viewer points at (a span, a mask, a measurement); merged into evidence.data.
  evidence: Record<string, unknown> | null;
  evidenceSummary: string;
  // A label to start from: one being changed, or a pre-label being corrected.
  initial?: LabelStart | undefined;
  // Ask for the finding's temporality and experiencer too (labels on notes).
  withContext?: boolean;
  submitLabel: string;
  onClassChange?: (cls: LabelClass | undefined) => void;
  onSubmit: (body: LabelBody) => Promise<void>;
}

export type LabelStart = Pick<Annotation, 'label' | 'uncertainty' | 'evidence'> & { context?: Annotation['context'] | undefined };

export function LabelForm({ classes, evidence, evidenceSummary, initial, withContext = false, submitLabel, onClassChange, onSubmit }: LabelFormProps) {
  const id = useId();
  const [classId, setClassId] = useState(initial?.label.class ?? classes[0]?.id ?? '');
  const cls = classes.find((c) => c.id === classId);
  const [codeIndex, setCodeIndex] = useState(0);
  const [confidence, setConfidence] = useState(initial?.uncertainty.confidence ?? 0.8);
  const [assertion, setAssertion] = useState<Assertion>(initial?.uncertainty.assertion ?? 'present');
  const [temporality, setTemporality] = useState<Temporality>(initial?.context?.temporality ?? 'current');
  const [experiencer, setExperiencer] = useState<Experiencer>(initial?.context?.experiencer ?? 'patient');
  const [source, setSource] = useState(String(initial?.evidence.data['source'] ?? ''));
  const [rationale, setRationale] = useState(String(initial?.evidence.data['rationale'] ?? ''));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => onClassChange?.(cls), [classId]);

  const sources = cls?.evidence_sources?.length ? cls.evidence_sources : kDefaultSources;
  // A Likert scale's levels (its labels, lowest first) map evenly onto confidence 0..1.
  const levels = cls?.confidence_scale?.kind === 'likert' ? cls.confidence_scale.levels ?? ['1', '2', '3', '4', '5'] : [];
  const likert = levels.length;
  // On a Likert scale a confidence between its levels (a model's score prefilled when a
  // pre-label is corrected) is shown, and sent, as the nearest level.
  const shown = likert > 1 ? Math.round(confidence * (likert - 1)) / (likert - 1) : confidence;
  const code = cls?.codes?.[codeIndex];
  // The values the class allows (docs/spans.md: context_attributes; all when it says nothing).
  const allowed = cls?.context_attributes;
  const assertions = allowed?.assertion?.length ? allowed.assertion : kAssertions;
  const temporalities = allowed?.temporality?.length ? allowed.temporality : kTemporalities;
  const experiencers = allowed?.experiencer?.length ? allowed.experiencer : kExperiencers;

  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (!cls) return setError('Choose a class.');
    const kind = evidenceKindOf(cls);
    if (kind !== 'document' && !evidence) return setError('Mark the evidence in the viewer first.');
    setBusy(true);
    setError('');
    const data: Record<string, unknown> = { ...(evidence ?? {}) };
    if (source) data['source'] = source;
    if (rationale.trim()) data['rationale'] = rationale.trim();
    const body: LabelBody = {
      evidence: { kind, data },
      label: { class: cls.id, ...(code ? { code_system: code.system, code: code.code } : {}) },
      uncertainty: { confidence: shown, assertion },
      ...(withContext ? { context: { temporality, experiencer } } : {}),
    };
    try {
      await onSubmit(body);
      setRationale('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  useShortcuts([
    ...classes.slice(0, 9).map((c, i) => ({ key: String(i + 1), description: `Class: ${c.name}`, run: () => setClassId(c.id) })),
    { key: 'ctrl+s', description: `${submitLabel}`, run: () => void submit() },
  ], [classes, submit]);

  return (
    <form class="label-form stack" onSubmit={submit} aria-label="Label">
      <label>Target class
        <select value={classId} onChange={(e) => { setClassId(e.currentTarget.value); setCodeIndex(0); }}>
          {classes.map((c, i) => <option key={c.id} value={c.id}>{i < 9 ? `${i + 1}. ` : ''}{c.name}</option>)}
        </select>
      </label>
      {cls && (cls.codes?.length ?? 0) > 1 ? (
        <label>Code
          <select value={codeIndex} onChange={(e) => setCodeIndex(Number(e.currentTarget.value))}>
            {cls.codes!.map((c, i) => <option key={i} value={i}>{c.system} {c.code}{c.display ? ` ${c.display}` : ''}</option>)}
          </select>
        </label>
      ) : (
        <p class="code" aria-label="Code">Code: {code ? <strong>{code.system} {code.code}</strong> : <em>none bound</em>}</p>
      )}
      {likert ? (
        <fieldset>
          <legend>Confidence ({likert}-point scale)</legend>
          <div class="likert">
            {Array.from({ length: likert }, (_, i) => {
              const value = i / (likert - 1);
              return (
                <label key={i} class="inline">
                  <input type="radio" name="confidence" checked={Math.abs(shown - value) < 1e-6}
                         onChange={() => setConfidence(value)} />{levels[i]}
                </label>
              );
            })}
          </div>
        </fieldset>
      ) : (
        <div class="field">
          <label for={`${id}-confidence`}>Confidence</label>{' '}
          <output for={`${id}-confidence`}>{Math.round(confidence * 100)}%</output>
          <input id={`${id}-confidence`} type="range" min={0} max={1} step={0.05} value={confidence}
                 aria-valuetext={`${Math.round(confidence * 100)}%`}
                 onInput={(e) => setConfidence(Number(e.currentTarget.value))} />
        </div>
      )}
      <Choice label="Assertion" value={assertion} options={assertions} onChange={setAssertion} />
      {withContext && (
        <div class="pair">
          <Choice label="Temporality" value={temporality} options={temporalities} onChange={setTemporality} />
          <Choice label="Experiencer" value={experiencer} options={experiencers} onChange={setExperiencer} />
        </div>
      )}
      <div class="evidence">
        <span class="field-name">Evidence ({evidenceKindOf(cls)})</span>
        <p aria-live="polite">{evidenceKindOf(cls) === 'document' && !evidence ? 'The whole item' : evidenceSummary || 'Nothing marked yet'}</p>
      </div>
      <label>Evidence source
        <select value={source} onChange={(e) => setSource(e.currentTarget.value)}>
          <option value="">(not stated)</option>
          {sources.map((s) => <option key={s} value={s}>{s.replace(/_/g, ' ')}</option>)}
        </select>
      </label>
      <label>Rationale
        <textarea rows={3} value={rationale} onInput={(e) => setRationale(e.currentTarget.value)}
                  placeholder="Why this label (optional)" />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit" class="primary" disabled={busy}>{submitLabel} <kbd>Ctrl+S</kbd></button>
    </form>
  );
}

// A labelled choice among a few words (the value is what is shown).
function Choice<T extends string>({ label, value, options, onChange }:
    { label: string; value: T; options: readonly T[]; onChange: (v: T) => void }) {
  return (
    <label>{label}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value as T)}>
        {options.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    </label>
  );
}

// One label as a reader, reviewer or adjudicator sees it.
export function LabelSummary({ a, classes }: { a: Annotation; classes: LabelClass[] }) {
  const cls = classes.find((c) => c.id === a.label.class);
  const data = a.evidence.data;
  return (
    <div class="label-summary">
      <strong>{cls?.name ?? a.label.class}</strong>
      {a.label.code && <span class="muted"> {a.label.code_system} {a.label.code}</span>}
      <dl>
        <dt>Assertion</dt><dd>{a.uncertainty.assertion}</dd>
        {a.evidence.kind === 'span' && a.context && <><dt>Context</dt><dd>{a.context.temporality} · {a.context.experiencer}</dd></>}
        <dt>Confidence</dt><dd>{a.uncertainty.confidence === null ? '—' : `${Math.round(a.uncertainty.confidence * 100)}%`}</dd>
        <dt>Evidence</dt><dd>{a.evidence.kind}{typeof data['version'] === 'number' ? ` version ${data['version']}` : ''}{typeof data['text'] === 'string' ? `: “${data['text']}”` : typeof data['start'] === 'number' ? `: characters ${data['start']}–${String(data['end'])}` : ''}{data['source'] ? ` (${String(data['source']).replace(/_/g, ' ')})` : ''}</dd>
        {data['rationale'] ? <><dt>Rationale</dt><dd>{String(data['rationale'])}</dd></> : null}
        <dt>Status</dt><dd>{a.status}{a.origin && a.origin !== 'human' ? ` · ${a.origin}` : ''}</dd>
      </dl>
    </div>
  );
}
