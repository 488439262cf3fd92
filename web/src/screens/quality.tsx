// The quality dashboard: charts (Observable Plot) of what the API reports about a project's
// labelling. Until a quality API reports agreement per class, it shows where the readings are
// in the workflow and the review outcomes so far (rejection and adjudication rates).

import * as Plot from '@observablehq/plot';
import { useEffect, useRef } from 'preact/hooks';
import { all, api } from '../api/client';
import { kTaskStates } from '../api/models';
import type { SessionInfo, Task } from '../api/models';
import { loadProject, useLoad } from '../project';
import { linkClick } from '../router';
import { Failure, Loading } from '../components/status';

export function PlotFigure({ make, label }: { make: () => SVGSVGElement | HTMLElement; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const figure = make();
    figure.setAttribute('aria-label', label);
    ref.current?.replaceChildren(figure);
  }, [make]);
  return <div ref={ref} class="plot" role="img" aria-label={label} />;
}

export function QualityDashboard({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const project_id = params.project_id!;
  const [data, error] = useLoad(async () => {
    const ctx = await loadProject(project_id, session);
    const tasks = await all<Task>((cursor) => api.get('/api/v1/projects/{project_id}/tasks', { project_id }, { cursor, limit: 500 }));
    return { ctx, tasks };
  }, [project_id]);
  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const { ctx, tasks } = data;
  const byState = kTaskStates.map((state) => ({ state, count: tasks.filter((t) => t.state === state).length }));
  const reviewed = tasks.filter((t) => ['accepted', 'rejected', 'escalated', 'adjudicated'].includes(t.state));
  const rate = (n: number) => (reviewed.length ? `${Math.round((100 * n) / reviewed.length)}%` : '—');
  const rejected = reviewed.filter((t) => t.state === 'rejected').length;
  const adjudicated = reviewed.filter((t) => t.state === 'escalated' || t.state === 'adjudicated').length;
  const stateChart = () => Plot.plot({
    marginLeft: 90, height: 260, width: 560,
    x: { label: 'tasks', grid: true },
    y: { label: null, domain: kTaskStates },
    marks: [Plot.barX(byState, { x: 'count', y: 'state', fill: '#0b4f8a' }), Plot.text(byState, { x: 'count', y: 'state', text: 'count', dx: 10 }), Plot.ruleX([0])],
  });
  return (
    <main id="main">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{ctx.project.name}</a> › quality</p>
      <h1>Quality dashboard</h1>
      <dl class="kpis">
        <div><dt>Readings</dt><dd>{tasks.length}</dd></div>
        <div><dt>Reviewed</dt><dd>{reviewed.length}</dd></div>
        <div><dt>Rejection rate</dt><dd>{rate(rejected)}</dd></div>
        <div><dt>Adjudication rate</dt><dd>{rate(adjudicated)}</dd></div>
      </dl>
      <section aria-labelledby="states-h">
        <h2 id="states-h">Readings by workflow state</h2>
        <PlotFigure make={stateChart} label="Bar chart of readings by workflow state" />
      </section>
    </main>
  );
}
