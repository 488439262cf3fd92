// Putting a sample file into the demo project: the file from CALIPER_SAMPLE_DATA, the item
// assigned to a reader, who opens it from the queue.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { newUser } from './harness.mjs';

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

export async function assign(user, item_id, user_id) {
  const res = await user.api('POST', `/api/v1/items/${item_id}/assignments`, { user_id });
  assert.equal(res.status, 201, JSON.stringify(res.json));
}

// The demo as its manager sees it: admin and manager signed in (their own browser contexts),
// the demo project and the user reader1.
export async function demoProject(env, suite) {
  const admin = await newUser(env.browser, env.server, suite, 'admin');
  await admin.signIn('admin');
  const reader1 = (await admin.api('GET', '/api/v1/users')).json.data.find((u) => u.username === 'reader1');
  const manager = await newUser(env.browser, env.server, suite, 'manager');
  await manager.signIn('manager');
  const project_id = (await manager.api('GET', '/api/v1/projects')).json.data[0].id;
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
