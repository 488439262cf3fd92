// Project home: progress by task state, "my queue" (claim the next task, open, release),
// the review and adjudication queues for those who hold those roles, and for data stewards how
// many DICOM instances wait in the quarantine.

import { all, api, errorText } from '../api/client';
import { kTaskStates } from '../api/models';
import type { Item, SessionInfo, Task } from '../api/models';
import { loadProject, shortId, useLoad } from '../project';
import { linkClick, navigate } from '../router';
import { useShortcuts } from '../shortcuts';
import { useState } from 'preact/hooks';
import { Failure, Loading } from '../components/status';

export function ProjectHome({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const project_id = params.project_id!;
  const [data, error, reload] = useLoad(async () => {
    const ctx = await loadProject(project_id, session);
    const canList = ctx.roles.some((r) => r !== 'auditor');
    // Data stewards (permission quarantine_review): the count the quarantine list carries (a
    // refused read leaves the link without a count; the screen then shows the refusal).
    const quarantined: Promise<number | 'unknown' | null> = ctx.roles.includes('data_steward')
      ? api.get('/api/v1/projects/{project_id}/quarantine', { project_id }, { status: 'pending', limit: 1 })
          .then((q) => q.pending, () => 'unknown' as const)
      : Promise.resolve(null);
    const [tasks, items, pending] = await Promise.all([
      canList ? all<Task>((cursor) => api.get('/api/v1/projects/{project_id}/tasks', { project_id }, { cursor, limit: 500 })) : [],
      canList ? all<Item>((cursor) => api.get('/api/v1/projects/{project_id}/items', { project_id }, { cursor, limit: 500 })) : [],
      quarantined,
    ]);
    return { ctx, tasks, items: new Map(items.map((i) => [i.id, i])), pending };
  }, [project_id]);
  const [message, setMessage] = useState('');

  const claimNext = async () => {
    try {
      const task = await api.post('/api/v1/projects/{project_id}/tasks/next', { project_id });
      if (!task) return setMessage('Nothing left to do in this project.');
      navigate(`/projects/${project_id}/tasks/${task.id}`);
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  const release = async (task_id: string) => {
    try {
      await api.post('/api/v1/projects/{project_id}/tasks/{task_id}/release', { project_id, task_id });
      reload();
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  const isAnnotator = data?.ctx.roles.includes('annotator') ?? false;
  useShortcuts(isAnnotator ? [{ key: 'n', description: 'Claim the next task', run: () => void claimNext() }] : [], [isAnnotator]);

  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const { ctx, tasks, items, pending } = data;
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const done = tasks.filter((t) => t.state === 'accepted' || t.state === 'adjudicated').length;
  const mine = tasks.filter((t) => t.assignee === session.user.id);
  const todo = mine.filter((t) => t.state === 'claimed' || t.state === 'rejected');
  const finished = mine.filter((t) => !(t.state === 'claimed' || t.state === 'rejected' || t.state === 'open'));
  const toReview = tasks.filter((t) => (t.state === 'submitted' || t.state === 'in_review') && t.assignee !== session.user.id);
  const escalatedItems = [...new Set(tasks.filter((t) => t.state === 'escalated').map((t) => t.item_id))];
  const itemLabel = (id: string) => {
    const i = items.get(id);
    return i ? `${i.data_type} ${i.modality} · ${shortId(i.id)}` : shortId(id);
  };
  const manages = ctx.roles.includes('manager') || session.user.is_admin;

  return (
    <main id="main">
      <p class="crumbs"><a href="/" onClick={linkClick}>Projects</a> ›</p>
      <h1>{ctx.project.name}</h1>
      <p>{ctx.project.description}</p>
      <p class="muted">
        Your roles: {ctx.roles.length ? ctx.roles.join(', ') : 'none'} · Guideline in force:{' '}
        {ctx.guideline ? `version ${ctx.guideline.version}` : 'none published'}
      </p>
      <nav class="subnav" aria-label="Project">
        {manages && <a href={`/projects/${project_id}/members`} onClick={linkClick}>Members and roles</a>}
        {ctx.roles.some((r) => ['manager', 'reviewer', 'adjudicator', 'auditor'].includes(r)) &&
          <a href={`/projects/${project_id}/quality`} onClick={linkClick}>Quality dashboard</a>}
        {ctx.roles.some((r) => r === 'manager' || r === 'data_steward') &&
          <a href={`/projects/${project_id}/exports`} onClick={linkClick}>Dataset exports</a>}
        {pending !== null &&
          <a href={`/projects/${project_id}/quarantine`} onClick={linkClick}>
            Quarantine review{pending === 'unknown' ? '' : ` (${pending} pending)`}</a>}
        {ctx.roles.includes('manager') &&
          <a href={`/projects/${project_id}/dicom`} onClick={linkClick}>DICOM settings</a>}
      </nav>
      {message && <p class="notice" role="status">{message}</p>}

      <section aria-labelledby="progress-h">
        <h2 id="progress-h">Progress</h2>
        <p>{done} of {tasks.length} readings finished (accepted or adjudicated){isAnnotator && !manages ? ' — your own tasks' : ''}.</p>
        <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={tasks.length || 1} aria-valuenow={done}
             aria-label="Readings finished">
          <span style={{ width: `${tasks.length ? (100 * done) / tasks.length : 0}%` }} />
        </div>
        <table class="counts">
          <thead><tr>{kTaskStates.map((s) => <th key={s} scope="col">{s.replace('_', ' ')}</th>)}</tr></thead>
          <tbody><tr>{kTaskStates.map((s) => <td key={s}>{counts.get(s) ?? 0}</td>)}</tr></tbody>
        </table>
      </section>

      {isAnnotator && (
        <section aria-labelledby="queue-h">
          <h2 id="queue-h">My queue</h2>
          <button type="button" class="primary" onClick={claimNext}>Claim the next task <kbd>N</kbd></button>
          {todo.length === 0 && <p>No task is waiting for you.</p>}
          <ul class="rows">
            {todo.map((t) => (
              <li key={t.id}>
                <a href={`/projects/${project_id}/tasks/${t.id}`} onClick={linkClick}>{itemLabel(t.item_id)}</a>
                <span class={`state ${t.state}`}>{t.state === 'rejected' ? 'returned by the reviewer' : t.state}</span>
                {t.lease_expires_at && <span class="muted">lease until {new Date(t.lease_expires_at).toLocaleTimeString()}</span>}
                {t.lease_expires_at && <button type="button" onClick={() => release(t.id)}>Release</button>}
              </li>
            ))}
          </ul>
          {finished.length > 0 && <p class="muted">{finished.length} of your readings are submitted or finished.</p>}
        </section>
      )}

      {ctx.roles.includes('reviewer') && (
        <section aria-labelledby="review-h">
          <h2 id="review-h">To review</h2>
          {toReview.length === 0 && <p>No reading is waiting for review.</p>}
          <ul class="rows">
            {toReview.map((t) => (
              <li key={t.id}>
                <a href={`/projects/${project_id}/review/${t.id}`} onClick={linkClick}>Review {itemLabel(t.item_id)}</a>
                <span class={`state ${t.state}`}>{t.state.replace('_', ' ')}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {ctx.roles.includes('adjudicator') && (
        <section aria-labelledby="adj-h">
          <h2 id="adj-h">To adjudicate</h2>
          {escalatedItems.length === 0 && <p>No item is escalated.</p>}
          <ul class="rows">
            {escalatedItems.map((id) => (
              <li key={id}>
                <a href={`/projects/${project_id}/adjudicate/${id}`} onClick={linkClick}>Adjudicate {itemLabel(id)}</a>
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
