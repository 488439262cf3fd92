// The project list: the projects the signed-in user is a member of (administrators: all).

import { all, api } from '../api/client';
import type { Project, SessionInfo } from '../api/models';
import { useLoad } from '../project';
import { linkClick } from '../router';

export function ProjectList({ session }: { params: Record<string, string>; session: SessionInfo }) {
  const [projects, error] = useLoad(() => all<Project>((cursor) => api.get('/api/v1/projects', {}, { cursor, limit: 100 })), []);
  return (
    <main id="main">
      <h1>Projects</h1>
      <p class="muted">Signed in as {session.user.username}{session.user.is_admin ? ' (administrator)' : ''}.</p>
      {error && <p class="error" role="alert">{error}</p>}
      {projects && projects.length === 0 && <p>You are not a member of any project yet.</p>}
      <ul class="cards">
        {projects?.map((p) => (
          <li key={p.id} class="card">
            <h2><a href={`/projects/${p.id}`} onClick={linkClick}>{p.name}</a></h2>
            <p>{p.description}</p>
            <p class="muted">Created {new Date(p.created_at).toLocaleDateString()}</p>
          </li>
        ))}
      </ul>
    </main>
  );
}
