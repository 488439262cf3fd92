// A project's dataset exports (docs/export.md): the requests and snapshots with their state; a
// request (managers: export_request); approve or deny (export_approve: managers, data stewards —
// never the requester, which the server refuses and this screen shows); for a built snapshot a
// one-time download token and its link, the manifest, and the subgroup report viewed in the app.
// A failed build shows why; once its cause is put right (a missing blob restored, a bad label
// corrected) an approver other than the requester builds it again under the same approval
// (POST …/rebuild; 403 for the requester, 409 when it is no longer failed). So is a build cut
// off mid-way (still `approved` export.build_lease_minutes after it last renewed its lease;
// the server decides).
//
// The report is the snapshot's own self-contained HTML (inline CSS and SVG, no script), read
// through the API with the session and shown in an iframe `sandbox=""` by `srcdoc`: it runs no
// script, has no origin of its own, and stays under the app's Content-Security-Policy.

import { useState } from 'preact/hooks';
import { ApiError, all, api, errorText } from '../api/client';
import type { DatasetExport, SessionInfo } from '../api/models';
import { loadProject, shortId, useLoad } from '../project';
import { linkClick } from '../router';
import { Failure, Loading } from '../components/status';

type Shown = { id: string; what: 'report' | 'manifest'; body: string } | null;
interface Issued { token: string; expires_at: string; download_path: string }

export function ExportsScreen({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const project_id = params.project_id!;
  const [data, error, reload] = useLoad(async () => {
    const ctx = await loadProject(project_id, session);
    const rows = await all<DatasetExport>((cursor) => api.get('/api/v1/projects/{project_id}/exports', { project_id }, { cursor, limit: 100 }));
    return { ctx, rows };
  }, [project_id]);
  const [reason, setReason] = useState('');
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [refusal, setRefusal] = useState('');
  const [tokens, setTokens] = useState<Record<string, Issued>>({});
  const [shown, setShown] = useState<Shown>(null);

  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const { ctx, rows } = data;
  const me = session.user.id;
  const canRequest = ctx.roles.includes('manager');
  // export_approve: managers and data stewards (src/security/policy.cpp).
  const canApprove = ctx.roles.some((r) => r === 'manager' || r === 'data_steward');
  const who = (id: string | null) => (!id ? '—' : id === me ? 'you' : shortId(id));

  // Runs a call; the server's refusal is shown as it says it.
  const act = async (what: () => Promise<string>) => {
    setMessage('');
    setRefusal('');
    try {
      setMessage(await what());
    } catch (e) {
      setRefusal(errorText(e));
    }
    reload();
  };
  const request = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const x = await api.post('/api/v1/projects/{project_id}/exports', { project_id }, { reason: reason.trim() });
      setReason('');
      return `Export version ${x.version} requested; another approver must approve it.`;
    });
  };
  const decide = (x: DatasetExport, approve: boolean) => act(async () => {
    const params = { project_id, export_id: x.id };
    const body = { note: notes[x.id] ?? '' };
    const done = approve ? await api.post('/api/v1/projects/{project_id}/exports/{export_id}/approve', params, body)
                         : await api.post('/api/v1/projects/{project_id}/exports/{export_id}/deny', params, body);
    return `Version ${done.version} ${done.status}${done.error ? `: ${done.error}` : ''}.`;
  });
  // The server's 403 and 409 said in the screen's words, with its own message after them.
  const rebuild = (x: DatasetExport) => act(async () => {
    try {
      const done = await api.post('/api/v1/projects/{project_id}/exports/{export_id}/rebuild', { project_id, export_id: x.id });
      return done.status === 'built' ? `Version ${done.version} built again.`
                                     : `Version ${done.version} failed again: ${done.error ?? 'no reason given'}.`;
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) throw new Error(`you may not build version ${x.version} again: ${errorText(e)}`);
      if (e instanceof ApiError && e.status === 409) throw new Error(`version ${x.version} cannot be built again now: ${errorText(e)}`);
      throw e;
    }
  });
  const issueToken = (x: DatasetExport) => act(async () => {
    const issued = await api.post('/api/v1/projects/{project_id}/exports/{export_id}/tokens', { project_id, export_id: x.id }, { minutes: 15 });
    setTokens({ ...tokens, [x.id]: issued });
    return `A one-time download link for version ${x.version} is ready until ${new Date(issued.expires_at).toLocaleTimeString()}.`;
  });
  const view = (x: DatasetExport, what: 'report' | 'manifest') => act(async () => {
    const name = what === 'report' ? 'subgroup_report.html' : 'manifest.json';
    const res = await api.getRaw('/api/v1/projects/{project_id}/exports/{export_id}/files/{name}', { project_id, export_id: x.id, name });
    const text = await res.text();
    setShown({ id: x.id, what, body: what === 'manifest' ? JSON.stringify(JSON.parse(text), null, 2) : text });
    return '';
  });

  return (
    <main id="main">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{ctx.project.name}</a> › exports</p>
      <h1>Dataset exports</h1>
      <p class="muted">A dataset leaves only as an approved, immutable snapshot: one person requests it, another approves it,
        and it is taken out with a one-time link. Every step is in the audit log.</p>
      {message && <p class="notice" role="status">{message}</p>}
      {refusal && <p class="error" role="alert">The server refused: {refusal}</p>}
      {canRequest && (
        <form class="stack narrow-form" onSubmit={request} aria-labelledby="request-h">
          <h2 id="request-h">Request an export</h2>
          <label>Reason (kept in the audit log)
            <textarea rows={2} value={reason} required onInput={(e) => setReason(e.currentTarget.value)}
                      placeholder="Who needs the data and why" />
          </label>
          <p class="muted">Patient-level splits 0.7 / 0.15 / 0.15 (seed 1), subgroup report with the project's thresholds.</p>
          <button type="submit" class="primary" disabled={!reason.trim()}>Request an export</button>
        </form>
      )}
      <h2>Requests and snapshots ({rows.length})</h2>
      {rows.length === 0 && <p class="muted">No export has been requested.</p>}
      <div class="table-wrap">
        <table class="exports">
          <thead><tr>
            <th scope="col">version</th><th scope="col">state</th><th scope="col">reason</th><th scope="col">requested</th>
            <th scope="col">decided</th><th scope="col">snapshot</th><th scope="col">actions</th>
          </tr></thead>
          <tbody>
            {rows.map((x) => (
              <tr key={x.id}>
                <td>{x.version}</td>
                <td><span class={`state ${x.status}`}>{x.status}</span>{x.error && <div class="error">Why it failed: {x.error}</div>}</td>
                <td>{x.reason}</td>
                <td>{who(x.requested_by)}<br /><span class="muted">{new Date(x.requested_at).toLocaleString()}</span></td>
                <td>{who(x.decided_by)}{x.decided_at && <><br /><span class="muted">{new Date(x.decided_at).toLocaleString()}</span></>}
                  {x.decision_note && <div>“{x.decision_note}”</div>}</td>
                <td>{x.status === 'built' ? <>{(x.snapshot_bytes / 1024).toFixed(1)} KiB<br />
                  <span class="muted" title={x.manifest_sha256 ?? ''}>manifest {x.manifest_sha256?.slice(0, 12)}…</span></> : '—'}</td>
                <td class="actions-cell">
                  {x.status === 'requested' && (
                    <div class="stack">
                      {x.requested_by === me && <p class="muted">You requested it: another approver must decide.</p>}
                      <label>Decision note for version {x.version}
                        <input value={notes[x.id] ?? ''} onInput={(e) => setNotes({ ...notes, [x.id]: e.currentTarget.value })} />
                      </label>
                      <div class="actions">
                        <button type="button" class="primary" onClick={() => void decide(x, true)}>Approve version {x.version}</button>
                        <button type="button" onClick={() => void decide(x, false)}>Deny version {x.version}</button>
                      </div>
                    </div>
                  )}
                  {x.status === 'approved' && x.build_started_at && (
                    <p class="muted">Being built since {new Date(x.build_started_at).toLocaleString()}
                      {x.build_renewed_at && `, still running at ${new Date(x.build_renewed_at).toLocaleString()}`}. A build
                      cut off (the server stopped) can be built again once its lease has run out.</p>)}
                  {(x.status === 'failed' || x.status === 'approved') && canApprove && (x.requested_by === me
                    ? <p class="muted">You requested it: another approver must build it again.</p>
                    : <div class="actions">
                        <button type="button" class="primary" onClick={() => void rebuild(x)}>Build version {x.version} again</button>
                      </div>)}
                  {x.status === 'built' && (
                    <div class="actions">
                      {canRequest && <button type="button" onClick={() => void issueToken(x)}>Download link for version {x.version}</button>}
                      {tokens[x.id] && <a href={tokens[x.id]!.download_path} download={`caliper-dataset-v${x.version}.tar`}>
                        Download version {x.version} (one use)</a>}
                      <button type="button" onClick={() => void view(x, 'report')}>Subgroup report of version {x.version}</button>
                      <button type="button" onClick={() => void view(x, 'manifest')}>Manifest of version {x.version}</button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown && (() => {
        const x = rows.find((r) => r.id === shown.id);
        const title = `${shown.what === 'report' ? 'Subgroup report' : 'Manifest'} of version ${x?.version ?? '?'}`;
        return (
          <section aria-labelledby="shown-h">
            <h2 id="shown-h">{title}</h2>
            <button type="button" onClick={() => setShown(null)}>Close the {shown.what}</button>
            {shown.what === 'report'
              ? <iframe class="report" title={title} sandbox="" srcdoc={shown.body} />
              : <pre class="manifest" tabIndex={0} aria-label={title}>{shown.body}</pre>}
          </section>
        );
      })()}
    </main>
  );
}
