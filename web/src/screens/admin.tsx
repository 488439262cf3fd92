// Administration: users (create, disable, reset password, end sessions, qualifications),
// a project's members (roles and data-type scopes), active sessions, and the audit log with
// filters and the chain-verification status. The server allows these to administrators
// (members: to the project's managers) and audits each.

import { useState } from 'preact/hooks';
import { all, api, errorText } from '../api/client';
import { kDataTypes, kQualifications, kRoles } from '../api/models';
import type { AuditEvent, Membership, Role, SessionInfo, User } from '../api/models';
import { loadProject, shortId, useLoad } from '../project';
import { linkClick } from '../router';
import { Failure, Loading } from '../components/status';

// A set of checkboxes over `options`; `chosen` is the checked subset, in any order.
function CheckboxGroup<T extends string>({ legend, options, chosen, onChange }:
    { legend: string; options: readonly T[]; chosen: T[]; onChange: (v: T[]) => void }) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o} class="inline">
          <input type="checkbox" checked={chosen.includes(o)}
                 onChange={(e) => onChange(e.currentTarget.checked ? [...chosen, o] : chosen.filter((x) => x !== o))} />
          {o.replace(/_/g, ' ')}
        </label>
      ))}
    </fieldset>
  );
}

function useUsers() {
  return useLoad(() => all<User>((cursor) => api.get('/api/v1/users', {}, { cursor, limit: 500 })), []);
}

export function AdminUsers(_: { params: Record<string, string>; session: SessionInfo }) {
  const [users, error, reload] = useUsers();
  const [message, setMessage] = useState('');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [quals, setQuals] = useState<string[]>([]);
  const [isAdmin, setIsAdmin] = useState(false);

  const act = async (what: () => Promise<string>) => {
    try {
      setMessage(await what());
      reload();
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  const create = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const u = await api.post('/api/v1/users', {}, { username, display_name: displayName, qualifications: quals, is_admin: isAdmin });
      setUsername(''); setDisplayName(''); setQuals([]); setIsAdmin(false);
      return `Created ${u.username}. One-time password (shown once): ${u.one_time_password ?? '(chosen)'}`;
    });
  };
  return (
    <main id="main">
      <h1>Users</h1>
      {message && <p class="notice" role="status">{message}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Users</caption>
        <thead><tr><th scope="col">User</th><th scope="col">Name</th><th scope="col">Qualifications</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {users?.map((u) => (
            <tr key={u.id}>
              <td>{u.username}{u.is_admin ? ' (admin)' : ''}</td>
              <td>{u.display_name}</td>
              <td>{u.qualifications.join(', ') || '—'}</td>
              <td>{u.disabled ? 'disabled' : u.locked_until ? 'locked' : u.must_change_password ? 'one-time password' : 'active'}</td>
              <td class="row-actions">
                {u.disabled
                  ? <button type="button" onClick={() => act(async () => (await api.post('/api/v1/users/{user_id}/enable', { user_id: u.id }), `Enabled ${u.username}.`))}>Enable</button>
                  : <button type="button" onClick={() => act(async () => (await api.post('/api/v1/users/{user_id}/disable', { user_id: u.id }), `Disabled ${u.username}; their sessions ended.`))}>Disable</button>}
                <button type="button" onClick={() => act(async () => `New one-time password for ${u.username}: ${(await api.post('/api/v1/users/{user_id}/reset-password', { user_id: u.id })).one_time_password}`)}>Reset password</button>
                <button type="button" onClick={() => act(async () => `Ended ${(await api.post('/api/v1/users/{user_id}/revoke-sessions', { user_id: u.id })).revoked} session(s) of ${u.username}.`)}>End sessions</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>New user</h2>
      <form class="stack narrow-form" onSubmit={create}>
        <label>Username <input required value={username} onInput={(e) => setUsername(e.currentTarget.value)} /></label>
        <label>Display name <input value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} /></label>
        <CheckboxGroup legend="Qualifications" options={kQualifications} chosen={quals} onChange={setQuals} />
        <label class="inline"><input type="checkbox" checked={isAdmin} onChange={(e) => setIsAdmin(e.currentTarget.checked)} /> Administrator</label>
        <button type="submit" class="primary">Create user</button>
      </form>
    </main>
  );
}

export function ProjectMembers({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const project_id = params.project_id!;
  const [data, error, reload] = useLoad(async () => {
    const ctx = await loadProject(project_id, session);
    const members = await all<Membership>((cursor) => api.get('/api/v1/projects/{project_id}/members', { project_id }, { cursor, limit: 500 }));
    // Names need user_manage (administrators); others see ids.
    const users = session.user.is_admin ? await all<User>((cursor) => api.get('/api/v1/users', {}, { cursor, limit: 500 })) : [];
    return { ctx, members, users };
  }, [project_id]);
  const [message, setMessage] = useState('');
  const [userId, setUserId] = useState('');
  const [roles, setRoles] = useState<Role[]>(['annotator']);
  const [scopes, setScopes] = useState<string[]>(['imaging']);

  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const name = (id: string) => data.users.find((u) => u.id === id)?.username ?? shortId(id);
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await api.put('/api/v1/projects/{project_id}/members/{user_id}', { project_id, user_id: userId }, { roles, scopes });
      setMessage(`Saved the roles of ${name(userId)}.`);
      reload();
    } catch (err) {
      setMessage(errorText(err));
    }
  };
  const edit = (m: Membership) => { setUserId(m.user_id); setRoles(m.roles); setScopes(m.scopes); };
  return (
    <main id="main">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{data.ctx.project.name}</a> › members</p>
      <h1>Members and roles</h1>
      {message && <p class="notice" role="status">{message}</p>}
      <table class="grid">
        <thead><tr><th scope="col">Member</th><th scope="col">Roles</th><th scope="col">Data-type scopes</th><th scope="col"></th></tr></thead>
        <tbody>
          {data.members.map((m) => (
            <tr key={m.user_id}>
              <td>{name(m.user_id)}</td><td>{m.roles.join(', ')}</td><td>{m.scopes.join(', ') || '—'}</td>
              <td><button type="button" onClick={() => edit(m)}>Edit</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Set a member's roles</h2>
      <form class="stack narrow-form" onSubmit={save}>
        <label>User
          {data.users.length ? (
            <select required value={userId} onChange={(e) => setUserId(e.currentTarget.value)}>
              <option value="">(choose)</option>
              {data.users.map((u) => <option key={u.id} value={u.id}>{u.username}</option>)}
            </select>
          ) : <input required value={userId} onInput={(e) => setUserId(e.currentTarget.value)} placeholder="user id" />}
        </label>
        <CheckboxGroup legend="Roles" options={kRoles} chosen={roles} onChange={setRoles} />
        <CheckboxGroup legend="Data-type scopes" options={kDataTypes} chosen={scopes} onChange={setScopes} />
        <button type="submit" class="primary">Save roles</button>
      </form>
    </main>
  );
}

export function AdminSessions(_: { params: Record<string, string>; session: SessionInfo }) {
  const [users, error] = useUsers();
  const [message, setMessage] = useState('');
  const revoke = async (u: User) => {
    try {
      const r = await api.post('/api/v1/users/{user_id}/revoke-sessions', { user_id: u.id });
      setMessage(`Ended ${r.revoked} session(s) of ${u.username}.`);
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  return (
    <main id="main">
      <h1>Sessions</h1>
      {message && <p class="notice" role="status">{message}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <ul class="rows">
        {users?.map((u) => (
          <li key={u.id}>{u.username}<button type="button" onClick={() => revoke(u)}>End all sessions</button></li>
        ))}
      </ul>
    </main>
  );
}

function isoDaysAgo(days: number): string {
  return new Date(Date.now() - days * 86400_000).toISOString().slice(0, 16);
}

export function AdminAudit(_: { params: Record<string, string>; session: SessionInfo }) {
  const [from, setFrom] = useState(isoDaysAgo(1));
  const [to, setTo] = useState('');
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [range, setRange] = useState({ from: isoDaysAgo(1), to: '' });
  const [verify] = useLoad(() => api.get('/api/v1/audit/verify', {}), []);
  const [events, error] = useLoad(() => api.get('/api/v1/audit/events', {}, {
    from: new Date(range.from).toISOString().replace(/\.\d+Z$/, 'Z'),
    to: range.to ? new Date(range.to).toISOString().replace(/\.\d+Z$/, 'Z') : undefined,
  }), [range]);
  const rows = (events?.data ?? []).filter((e: AuditEvent) =>
    (!actor || e.actor.includes(actor)) && (!action || e.action.includes(action)) && (!outcome || e.outcome === outcome));
  return (
    <main id="main">
      <h1>Audit log</h1>
      <p class={verify ? (verify.ok ? 'ok-banner' : 'error') : 'muted'} role="status" aria-label="Chain verification">
        {verify ? (verify.ok
          ? `Chain verified: ${verify.events} events, ${verify.checkpoints_checked} signed checkpoints intact.`
          : `Chain broken at event ${verify.first_bad_seq}: ${verify.problem}`) : 'Verifying the chain…'}
      </p>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setRange({ from, to }); }} aria-label="Filters">
        <label>From <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} /></label>
        <label>To <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} /></label>
        <button type="submit">Load</button>
        <label>Actor <input value={actor} onInput={(e) => setActor(e.currentTarget.value)} /></label>
        <label>Action <input value={action} onInput={(e) => setAction(e.currentTarget.value)} placeholder="e.g. task." /></label>
        <label>Outcome
          <select value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)}>
            <option value="">any</option><option value="success">success</option><option value="denied">denied</option><option value="failure">failure</option>
          </select>
        </label>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="muted">{rows.length} of {events?.data.length ?? 0} events shown.</p>
      <div class="table-wrap" tabIndex={0} aria-label="Audit events">
        <table class="grid audit">
          <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Outcome</th><th scope="col">Address</th></tr></thead>
          <tbody>
            {rows.slice().reverse().map((e) => (
              <tr key={e.seq} class={e.outcome !== 'success' ? 'warn' : ''}>
                <td>{e.seq}</td><td>{new Date(e.time).toLocaleString()}</td><td>{shortId(e.actor)}</td>
                <td>{e.action}</td><td>{e.object_type} {shortId(e.object_id)}</td><td>{e.outcome}</td><td>{e.source_address}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </main>
  );
}
