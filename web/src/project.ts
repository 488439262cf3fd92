// What every project screen needs: the project, the signed-in user's roles in it and the
// guideline version in force (the newest published one).

import { useEffect, useState } from 'preact/hooks';
import { all, api, errorText } from './api/client';
import type { Annotation, Guideline, Item, LabelClass, Membership, Project, Role, SessionInfo, Task } from './api/models';

export interface ProjectContext {
  project: Project;
  roles: Role[];
  scopes: string[];
  guideline: Guideline | null;
}

export async function loadProject(projectId: string, session: SessionInfo): Promise<ProjectContext> {
  const project_id = projectId;
  const [project, members, guidelines] = await Promise.all([
    api.get('/api/v1/projects/{project_id}', { project_id }),
    all<Membership>((cursor) => api.get('/api/v1/projects/{project_id}/members', { project_id }, { cursor, limit: 500 })),
    all<Guideline>((cursor) => api.get('/api/v1/projects/{project_id}/guidelines', { project_id }, { cursor, limit: 500 })),
  ]);
  const mine = members.find((m) => m.user_id === session.user.id);
  const published = guidelines.filter((g) => g.status === 'published')
    .sort((a, b) => (b.version ?? 0) - (a.version ?? 0));
  return { project, roles: mine?.roles ?? [], scopes: mine?.scopes ?? [], guideline: published[0] ?? null };
}

// Loads something for a screen: [value, error, reload].
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [T | null, string, () => void] {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then((v) => live && (setValue(v), setError(''))).catch((e) => live && setError(errorText(e)));
    return () => { live = false; };
  }, [...deps, tick]);
  return [value, error, () => setTick((t) => t + 1)];
}

// The guideline's classes that apply to an item of `dataType` (and `modality`, when listed).
export function classesFor(guideline: Guideline | null, dataType: string, modality: string): LabelClass[] {
  if (!guideline) return [];
  return guideline.schema.classes.filter((c) =>
    (!c.data_types || c.data_types.length === 0 || c.data_types.includes(dataType)) &&
    (!c.modalities || c.modalities.length === 0 || !modality || c.modalities.includes(modality)));
}

export function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 4)}…${id.slice(-5)}` : id;
}

export interface TaskContext { ctx: ProjectContext; task: Task; item: Item; labels: Annotation[] }

// A task with its project, item and the labels of the task's reader (the caller sees only its
// own as an annotator; reviewers see all and get the reader's).
export async function loadTask(projectId: string, taskId: string, session: SessionInfo): Promise<TaskContext> {
  const project_id = projectId, task_id = taskId;
  const [ctx, task] = await Promise.all([
    loadProject(project_id, session),
    api.get('/api/v1/projects/{project_id}/tasks/{task_id}', { project_id, task_id }),
  ]);
  const item_id = task.item_id;
  const [item, labels] = await Promise.all([
    api.get('/api/v1/items/{item_id}', { item_id }),
    all<Annotation>((cursor) => api.get('/api/v1/items/{item_id}/annotations', { item_id }, { cursor, limit: 500 })),
  ]);
  return { ctx, task, item, labels: labels.filter((a) => a.author === task.assignee) };
}
