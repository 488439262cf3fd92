// Setting the demo project up for a data type it does not have yet (pathology, waveforms):
// the sample file from CALIPER_SAMPLE_DATA, classes for the data type in a newly published
// guideline version, the data-type scope for the readers, the item assigned to a reader, who
// opens it from the queue.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { newUser } from './harness.mjs';
import { syntheticCtNifti } from './nifti.mjs';

// The path of `relative` under CALIPER_SAMPLE_DATA, or null after skipping the test `t` when it
// is missing — a failure instead when CALIPER_REQUIRE_SAMPLE_DATA=1 (as in CI).
export function sampleFile(t, relative) {
  const root = process.env.CALIPER_SAMPLE_DATA;
  const path = root ? join(root, relative) : '';
  if (path && existsSync(path)) return path;
  const why = `sample file ${relative} not found (CALIPER_SAMPLE_DATA=${root ?? 'unset'})`;
  assert.notEqual(process.env.CALIPER_REQUIRE_SAMPLE_DATA, '1', `${why}, and CALIPER_REQUIRE_SAMPLE_DATA=1 requires it`);
  t.skip(why);
  return null;
}

// `user` (a manager) publishes a new guideline version: the one in force plus `classes`.
export async function publishClasses(user, server, project_id, classes) {
  const guidelines = (await user.api('GET', `/api/v1/projects/${project_id}/guidelines`)).json.data;
  const current = guidelines.filter((g) => g.status === 'published').sort((a, b) => b.version - a.version)[0];
  const schema = { ...current.schema, classes: [...current.schema.classes, ...classes] };
  const draft = await user.api('PUT', `/api/v1/projects/${project_id}/guidelines/${current.id}`, { schema });
  assert.equal(draft.status, 201, JSON.stringify(draft.json));
  const url = `${server.url}/api/v1/projects/${project_id}/guidelines/${draft.json.id}`;
  const etag = (await user.context.request.get(url)).headers().etag;
  const published = await user.context.request.post(`${url}/publish`, { headers: { 'If-Match': etag, 'X-CSRF-Token': await csrfOf(user) } });
  assert.equal(published.status(), 200, await published.text());
}

// Every member of the project also gets the data-type scope `scope`.
export async function grantScope(user, project_id, scope) {
  const members = (await user.api('GET', `/api/v1/projects/${project_id}/members`)).json.data;
  for (const m of members) {
    if (m.scopes.includes(scope)) continue;
    const res = await user.api('PUT', `/api/v1/projects/${project_id}/members/${m.user_id}`,
                               { roles: m.roles, scopes: [...m.scopes, scope] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
  }
}

export async function assign(user, item_id, user_id) {
  const res = await user.api('POST', `/api/v1/items/${item_id}/assignments`, { user_id });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;  // the reader's task
}

// A small synthetic CT (nifti.mjs; `dims` voxels of 3×3×5 mm) uploaded by `user` (a manager)
// as an imaging item of patient `patient_key` and assigned to `reader`; resolves to its id.
export async function smallCtItem(user, project_id, patient_key, dims, reader) {
  const created = await user.upload(`/api/v1/projects/${project_id}/items`, {
    metadata: { name: 'metadata.json', mimeType: 'application/json',
                buffer: Buffer.from(JSON.stringify({ data_type: 'imaging', modality: 'CT', patient_key })) },
    content: { name: 'ct.nii.gz', mimeType: 'application/gzip', buffer: syntheticCtNifti(...dims, [3, 3, 5]) },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  await assign(user, created.json.id, reader.id);
  return created.json.id;
}

// The key that chooses class `id` in a reading room's class picker `select`: Shift+F1 for the
// first class offered, Shift+F2 for the second...
export async function classKey(select, id) {
  const offered = await select.locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(offered.includes(id) && offered.indexOf(id) < 9, `class ${id} among the first 9 offered: ${offered}`);
  return `Shift+F${offered.indexOf(id) + 1}`;
}

// STOW-RS (multipart/related, one application/dicom part per instance) as `user`: the status and
// the ingest report.
export async function stow(user, server, project_id, instances) {
  const boundary = 'caliper-e2e-boundary';
  const parts = instances.flatMap((bytes) => [
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), bytes, Buffer.from('\r\n')]);
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await user.context.request.post(`${server.url}/api/v1/projects/${project_id}/dicomweb/studies`, {
    headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
               'X-CSRF-Token': await csrfOf(user) },
    data: Buffer.concat(parts),
  });
  return { status: res.status(), json: await res.json() };
}

export async function csrfOf(user) {
  return user.page.evaluate(() => sessionStorage.getItem('caliper.csrf') || '');
}

// The demo as its manager sees it: admin and manager signed in (their own browser contexts),
// the demo project and the user reader1. With `scope`, the manager has published `classes`
// and given every member the scope first.
export async function demoProject(env, suite, scope, classes) {
  const admin = await newUser(env.browser, env.server, suite, 'admin');
  await admin.signIn('admin');
  const reader1 = (await admin.api('GET', '/api/v1/users')).json.data.find((u) => u.username === 'reader1');
  const manager = await newUser(env.browser, env.server, suite, 'manager');
  await manager.signIn('manager');
  const project_id = (await manager.api('GET', '/api/v1/projects')).json.data[0].id;
  if (scope) {
    await publishClasses(manager, env.server, project_id, classes);
    await grantScope(manager, project_id, scope);
  }
  return { admin, manager, reader1, project_id };
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const shortId = (id) => `${id.slice(0, 4)}…${id.slice(-5)}`;

// Signed in as `username`, opens the task of `item_id` (of `dataType`) from the demo project's
// queue; returns the user.
export async function openFromQueue(env, suite, username, dataType, item_id) {
  const r = await newUser(env.browser, env.server, suite, username);
  await r.signIn(username);
  await r.page.getByRole('link', { name: /Demo/ }).click();
  await r.page.getByRole('heading', { name: 'My queue' }).waitFor();
  await r.page.getByRole('link', { name: new RegExp(`${dataType} .*${escape(shortId(item_id))}`) }).click();
  return r;
}

// A stroke on the volume viewer's canvas with tool `key` (p pen, e eraser...): a left-button drag
// from `from` to `to`, each a fraction [x, y] of the canvas, in `steps` moves.
export async function strokeOnCanvas(page, canvas, key, from, to, steps = 8) {
  const box = await canvas.boundingBox();
  await page.keyboard.press(key);
  await page.mouse.move(box.x + box.width * from[0], box.y + box.height * from[1]);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to[0], box.y + box.height * to[1], { steps });
  await page.mouse.up();
}
