// A project's DICOM settings (managers: permission task_assign): how instances are
// de-identified from now on (docs/deid-dicom.md "Options", "Per-project settings") — the PS3.15
// options, the private elements kept as safe, and the pixel blanking rules — and the calling AE
// titles the C-STORE receiver takes instances from for the project (docs/imaging.md "C-STORE
// receiver"). Each part is saved on its own. The server checks every entry; when its refusal
// quotes the bad one, that one is marked here. Leaving with changes not saved asks first.

import { useRef, useState } from 'preact/hooks';
import { api, errorText } from '../api/client';
import type { DicomSettings, DicomSource, DicomSources, SessionInfo } from '../api/models';
import { loadProject, useLoad } from '../project';
import { linkClick, useUnsavedWork } from '../router';
import { useShortcuts } from '../shortcuts';
import { Failure, Loading } from '../components/status';

// The options in the server's canonical names, each with what it keeps (docs/deid-dicom.md).
const kOptions: [string, string, string][] = [
  ['retain-dates', 'Keep dates, shifted',
   'Every date moves back by one offset per patient (1 to 3650 days); times of day are kept.'],
  ['retain-patient-characteristics', 'Keep patient characteristics', 'Age, sex, size, weight and the like are kept.'],
  ['retain-device-identity', 'Keep device identity', 'Serial numbers, station names and the like are kept.'],
  ['clean-descriptors', 'Clean descriptors',
   'Descriptions are kept without the words of any removed value (names, identifiers, institution) and without runs of 5 or more digits.'],
  ['retain-safe-private', 'Keep safe private elements',
   'The private elements listed below are kept; every other private element is removed. Listing one turns this on.'],
];

type Form = Pick<DicomSettings, 'options' | 'safe_private' | 'blanking'>;
const formOf = (s: DicomSettings): Form => ({ options: s.options, safe_private: s.safe_private, blanking: s.blanking });
// What is sent: entries trimmed, empty rows dropped.
const cleaned = (f: Form): Form => ({
  options: f.options,
  safe_private: f.safe_private.map((s) => s.trim()).filter(Boolean),
  blanking: f.blanking.map((s) => s.trim()).filter(Boolean),
});
const same = (a: Form, b: Form) => JSON.stringify(cleaned(a)) === JSON.stringify(cleaned(b));

export function DicomSettingsScreen({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const project_id = params.project_id!;
  const [data, error] = useLoad(async () => {
    const [ctx, settings, sources] = await Promise.all([
      loadProject(project_id, session),
      api.get('/api/v1/projects/{project_id}/dicom-settings', { project_id }),
      api.get('/api/v1/projects/{project_id}/dicom-sources', { project_id }),
    ]);
    return { ctx, settings, sources };
  }, [project_id]);
  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  return (
    <main id="main">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{data.ctx.project.name}</a> › DICOM settings</p>
      <h1>DICOM settings</h1>
      <DeidSettings project_id={project_id} initial={data.settings} />
      <SourceList project_id={project_id} initial={data.sources} />
    </main>
  );
}

function DeidSettings({ project_id, initial }: { project_id: string; initial: DicomSettings }) {
  const [saved, setSaved] = useState(initial);
  const [form, setForm] = useState<Form>(formOf(initial));
  const [message, setMessage] = useState('');
  const [refusal, setRefusal] = useState('');
  const [busy, setBusy] = useState(false);
  const dirty = !same(form, formOf(saved));
  useUnsavedWork('DICOM de-identification settings', dirty);

  const save = async (e?: Event) => {
    e?.preventDefault();
    setMessage('');
    setRefusal('');
    setBusy(true);
    try {
      const s = await api.put('/api/v1/projects/{project_id}/dicom-settings', { project_id }, cleaned(form));
      setSaved(s);
      setForm(formOf(s));
      setMessage(`Saved. Uploads from now on are de-identified with ${s.options.length ? s.options.join(', ') : 'the Basic Profile alone'}.`);
    } catch (err) {
      setRefusal(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  useShortcuts([{ key: 'ctrl+s', description: 'Save the de-identification settings', run: () => void save() }], [form]);
  const quoted = (entry: string) => quotes(refusal, entry);

  return (
    <form class="stack narrow-form" onSubmit={save} aria-labelledby="deid-h">
      <h2 id="deid-h">De-identification</h2>
      <p class="muted">Every DICOM instance is de-identified with the PS3.15 Basic Profile before it is stored. A change applies to
        uploads from now on; instances already stored keep the form they were stored in (each names its options).</p>
      <fieldset>
        <legend>Options</legend>
        {kOptions.map(([name, title, what]) => (
          <label key={name} class="choice">
            <input type="checkbox" checked={form.options.includes(name)} aria-describedby={`opt-${name}`}
                   onChange={(e) => setForm({ ...form, options: e.currentTarget.checked
                     ? [...form.options, name] : form.options.filter((o) => o !== name) })} />
            <span><strong>{title}</strong> <code>{name}</code><br /><span id={`opt-${name}`} class="muted">{what}</span></span>
          </label>
        ))}
      </fieldset>
      <ListEditor legend="Safe private elements" what="safe private element" hint="CREATOR:GGGG:EE in hex, e.g. ACME CT 1.0:0009:10"
                  entries={form.safe_private} onChange={(safe_private) => setForm({ ...form, safe_private })} quoted={quoted} />
      <ListEditor legend="Pixel blanking rules" what="blanking rule"
                  hint="MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H in pixels, e.g. US/ACME/Sono 9:0,0,640,48 — zeroed in every frame of a matching instance at risk, instead of quarantining it"
                  entries={form.blanking} onChange={(blanking) => setForm({ ...form, blanking })} quoted={quoted} />
      {refusal && <p class="error" role="alert" id="deid-refusal">The server refused: {refusal}</p>}
      {message && <p class="notice" role="status">{message}</p>}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !dirty}>Save the de-identification settings <kbd>Ctrl+S</kbd></button>
        <button type="button" disabled={busy || !dirty} onClick={() => { setForm(formOf(saved)); setRefusal(''); }}>Undo the changes</button>
        <span class="muted" role="status">{dirty ? 'Not saved yet.' : saved.updated_at ? `Last saved ${new Date(saved.updated_at).toLocaleString()}.` : 'Never set: the Basic Profile alone.'}</span>
      </div>
    </form>
  );
}

// Moves the focus into a row just added: `added()` when adding it, `ref={focusIf(isLastRow)}` on
// the row's first field.
function useFocusAdded() {
  const pending = useRef(false);
  return {
    added: () => { pending.current = true; },
    focusIf: (last: boolean) => (el: HTMLInputElement | null) => {
      if (el && last && pending.current) {
        pending.current = false;
        el.focus();
      }
    },
  };
}

// The server's refusal, if it quotes `entry` ('...'): the entry to mark.
const quotes = (refusal: string, entry: string) => refusal !== '' && entry.trim() !== '' && refusal.includes(`'${entry.trim()}'`);

// An editable list of one-line entries: each a text field with a Remove button, and an Add button
// (which focuses the new row). An entry the server refused is marked invalid and points to its message.
function ListEditor({ legend, what, hint, entries, onChange, quoted }: {
  legend: string; what: string; hint: string; entries: string[]; onChange: (e: string[]) => void;
  quoted: (entry: string) => boolean;
}) {
  const focus = useFocusAdded();
  const id = legend.toLowerCase().replace(/\W+/g, '-');
  return (
    <fieldset aria-describedby={`${id}-hint`}>
      <legend>{legend}</legend>
      <p id={`${id}-hint`} class="muted">{hint}</p>
      {entries.length === 0 && <p>None.</p>}
      <ul class="plain list-editor">
        {entries.map((entry, i) => (
          <li key={i}>
            <input value={entry} aria-label={`${what} ${i + 1}`} aria-invalid={quoted(entry) ? 'true' : undefined}
                   aria-describedby={quoted(entry) ? 'deid-refusal' : undefined}
                   ref={focus.focusIf(i === entries.length - 1)}
                   onInput={(e) => onChange(entries.map((x, k) => (k === i ? e.currentTarget.value : x)))} />
            <button type="button" onClick={() => onChange(entries.filter((_, k) => k !== i))}>Remove {what} {i + 1}</button>
          </li>
        ))}
      </ul>
      <button type="button" onClick={() => { onChange([...entries, '']); focus.added(); }}>Add a {what}</button>
    </fieldset>
  );
}

// The calling AE titles the C-STORE receiver takes instances from for this project, one project
// per title: a title another project lists is refused (409), a malformed or repeated one too
// (400); the refused title is marked when the message quotes it.
function SourceList({ project_id, initial }: { project_id: string; initial: DicomSources }) {
  const [saved, setSaved] = useState(initial.sources);
  const [rows, setRows] = useState(initial.sources);
  const [message, setMessage] = useState('');
  const [refusal, setRefusal] = useState('');
  const [busy, setBusy] = useState(false);
  const focus = useFocusAdded();
  // What is sent: fields trimmed, empty rows dropped.
  const clean = (list: DicomSource[]) => list.map((s) => ({ ae_title: s.ae_title.trim(), description: s.description.trim() }))
    .filter((s) => s.ae_title || s.description);
  const dirty = JSON.stringify(clean(rows)) !== JSON.stringify(clean(saved));
  useUnsavedWork('DICOM sources', dirty);

  const save = async (e: Event) => {
    e.preventDefault();
    setMessage('');
    setRefusal('');
    setBusy(true);
    try {
      const s = await api.put('/api/v1/projects/{project_id}/dicom-sources', { project_id }, { sources: clean(rows) });
      setSaved(s.sources);
      setRows(s.sources);
      setMessage(`Saved: ${s.sources.length ? s.sources.map((x) => x.ae_title).join(', ') : 'no source'}.`);
    } catch (err) {
      setRefusal(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const set = (i: number, key: keyof DicomSource, value: string) =>
    setRows(rows.map((r, k) => (k === i ? { ...r, [key]: value } : r)));
  const { listen, ae_title } = initial.receiver;

  return (
    <form class="stack narrow-form" onSubmit={save} aria-labelledby="sources-h">
      <h2 id="sources-h">Sources (DICOM C-STORE)</h2>
      <p class="muted">{listen
        ? <>This server's DICOM receiver listens on <code>{listen}</code> as AE title <code>{ae_title}</code>. </>
        : <>This server's DICOM receiver is off (the setting <code>dicom_scp.listen</code> is empty); the titles listed here take
            effect once it is on. </>}
        A modality or PACS sends with its own (calling) AE title: the instances of the titles listed here come into this
        project, de-identified like any upload. A title can send to one project only.</p>
      {rows.length === 0 && <p>No source: the receiver takes nothing for this project.</p>}
      {rows.length > 0 && (
        <table class="grid sources">
          <thead><tr><th scope="col">calling AE title</th><th scope="col">description</th><th scope="col"></th></tr></thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td><input value={r.ae_title} maxLength={16} size={16} aria-label={`AE title ${i + 1}`}
                           aria-invalid={quotes(refusal, r.ae_title) ? 'true' : undefined}
                           aria-describedby={quotes(refusal, r.ae_title) ? 'sources-refusal' : undefined}
                           ref={focus.focusIf(i === rows.length - 1)} onInput={(e) => set(i, 'ae_title', e.currentTarget.value)} /></td>
                <td><input value={r.description} maxLength={200} aria-label={`Description ${i + 1}`}
                           onInput={(e) => set(i, 'description', e.currentTarget.value)} /></td>
                <td><button type="button" onClick={() => setRows(rows.filter((_, k) => k !== i))}>Remove source {i + 1}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="actions">
        <button type="button" onClick={() => { setRows([...rows, { ae_title: '', description: '' }]); focus.added(); }}>Add a source</button>
      </div>
      {refusal && <p class="error" role="alert" id="sources-refusal">The server refused: {refusal}</p>}
      {message && <p class="notice" role="status">{message}</p>}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !dirty}>Save the sources</button>
        <span class="muted" role="status">{dirty ? 'Not saved yet.' : ''}</span>
      </div>
    </form>
  );
}
