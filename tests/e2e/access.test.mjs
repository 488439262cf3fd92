// An annotator can reach neither the admin screens nor another reader's labels — checked in
// the UI and, more importantly, against the API with the annotator's own session.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';

const env = demoForThisFile();

test('an annotator cannot reach admin screens or another reader\'s labels', () => screenshotsOnFailure(async () => {
  // Reader 2 labels a note item through the API (what the UI does), so there is a label to hide.
  const b = await newUser(env.browser, env.server, 'access', 'reader2');
  await b.signIn('reader2');
  const projects = (await b.api('GET', '/api/v1/projects')).json.data;
  const project_id = projects[0].id;
  const items = (await b.api('GET', `/api/v1/projects/${project_id}/items`)).json.data;
  const note = items.find((i) => i.data_type === 'notes');
  const created = await b.api('POST', `/api/v1/items/${note.id}/annotations`, {
    evidence: { kind: 'span', data: { start: 0, end: 4 } },
    label: { class: 'pulmonary_nodule', code_system: 'SNOMED CT', code: '427359005' },
    uncertainty: { confidence: 0.7, assertion: 'possible' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const bTasks = (await b.api('GET', `/api/v1/projects/${project_id}/tasks`)).json.data;
  const bTask = bTasks.find((t) => t.item_id === note.id);

  const a = await newUser(env.browser, env.server, 'access', 'reader1');
  await a.signIn('reader1');
  const { page } = a;
  // No admin links, and the admin screens show the server's refusal.
  assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Audit log' }).count(), 0);
  for (const path of ['/admin/users', '/admin/audit', '/admin/sessions']) {
    await page.goto(env.server.url + path);
    await page.getByRole('alert').first().waitFor();
    assert.match(await page.getByRole('alert').first().innerText(), /forbidden|permission|not allowed|denied/i);
    await a.shot(path.replaceAll('/', '-').slice(1));
  }
  // The API refuses the annotator whatever the UI shows.
  for (const path of ['/api/v1/users', '/api/v1/audit/verify', '/api/v1/audit/events']) {
    assert.equal((await a.api('GET', path)).status, 403, path);
  }
  assert.equal((await a.api('POST', '/api/v1/users', { username: 'mallory' })).status, 403);
  assert.equal((await a.api('PUT', `/api/v1/projects/${project_id}/members/${bTask.assignee}`, { roles: ['manager'] })).status, 403);
  // Blinding: reader 1 sees none of reader 2's labels, task or readings on the same item.
  const seen = (await a.api('GET', `/api/v1/items/${note.id}/annotations`));
  assert.equal(seen.status, 200);
  const me = (await a.api('GET', '/api/v1/auth/session')).json.user.id;
  assert.ok(seen.json.data.every((l) => l.author === me), 'only reader 1\'s own labels');
  assert.equal(seen.json.data.filter((l) => l.id === created.json.id).length, 0, 'reader 2\'s label is hidden');
  assert.equal((await a.api('GET', `/api/v1/items/${note.id}/annotations/${created.json.id}`)).status, 404);
  assert.equal((await a.api('GET', `/api/v1/projects/${project_id}/tasks/${bTask.id}`)).status, 404);
  assert.equal((await a.api('GET', `/api/v1/items/${note.id}/readings`)).status, 403);
  // Nor through the screens: reader 2's task is not found for reader 1.
  await page.goto(`${env.server.url}/projects/${project_id}/tasks/${bTask.id}`);
  await page.getByRole('alert').waitFor();
  await a.shot('other-readers-task');
  await page.goto(`${env.server.url}/projects/${project_id}/adjudicate/${note.id}`);
  await page.getByRole('alert').waitFor();
  await a.shot('adjudication-refused');
  a.assertNoErrors();
  b.assertNoErrors();
}));
