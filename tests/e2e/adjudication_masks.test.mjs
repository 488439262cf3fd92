// The adjudication room for a volume: two readers' masks of one small CT (96×96×24, nifti.mjs)
// are put, labelled and submitted through the API; the adjudicator opens the item and sees the
// volume with each reading's mask in the reader's colour and the STAPLE consensus of both, the
// disagreement figures per class (the masks' Dice, the Dawid–Skene suggestion) and the STAPLE
// fit; the keys 1-3 hide and show the layers. The masks come from the server's
// /readings/{task_id}/mask and /fused-mask, which a reader may not call (checked against the API).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';
import { boxLabelNifti } from './nifti.mjs';
import { assign, csrfOf, smallCtItem } from './project_setup.mjs';

const env = demoForThisFile();
const dims = [96, 96, 24], spacing = [3, 3, 5];  // smallCtItem's voxels
// Reader 1 draws a 20×20×8 box; reader 2 the same box 4 voxels to the right: 16×20×8 in common.
const boxes = [[30, 50, 30, 50, 8, 16], [34, 54, 30, 50, 8, 16]];
const boxVoxels = 20 * 20 * 8, common = 16 * 20 * 8;

test('adjudication of masks: each reading in its colour, the STAPLE consensus, the figures', () => screenshotsOnFailure(async () => {
  const started = new Date(Date.now() - 1000).toISOString();
  const admin = await newUser(env.browser, env.server, 'adjudication_masks', 'admin');
  await admin.signIn('admin');
  const users = (await admin.api('GET', '/api/v1/users')).json.data;
  const manager = await newUser(env.browser, env.server, 'adjudication_masks', 'manager');
  await manager.signIn('manager');
  const project_id = (await manager.api('GET', '/api/v1/projects')).json.data[0].id;
  const reader = (name) => users.find((u) => u.username === name);
  const item_id = await smallCtItem(manager, project_id, 'synthetic-ct-adjudication', dims, reader('reader1'));
  await assign(manager, item_id, reader('reader2').id);
  const taskOf = async (name) => (await manager.api('GET', `/api/v1/projects/${project_id}/tasks`)).json.data
    .find((t) => t.item_id === item_id && t.assignee === reader(name).id);

  const tasks = [];
  for (const [n, name] of ['reader1', 'reader2'].entries()) {
    const task = await taskOf(name);
    assert.ok(task, `${name} has a task on the item`);
    const r = await newUser(env.browser, env.server, 'adjudication_masks', name);
    await r.signIn(name);
    const put = await r.context.request.fetch(`${env.server.url}/api/v1/items/${item_id}/mask`, {
      method: 'PUT', headers: { 'X-CSRF-Token': await csrfOf(r), 'Content-Type': 'application/gzip' },
      data: boxLabelNifti(...dims, spacing, boxes[n]),
    });
    assert.equal(put.status(), 200, await put.text());
    const label = await r.api('POST', `/api/v1/items/${item_id}/annotations`, {
      evidence: { kind: 'mask', data: { version: 1 } }, label: { class: 'liver_lesion' },
    });
    assert.equal(label.status, 201, JSON.stringify(label.json));
    const submitted = await r.api('POST', `/api/v1/projects/${project_id}/tasks/${task.id}/submit`);
    assert.equal(submitted.status, 200, JSON.stringify(submitted.json));
    tasks.push(task.id);
    // A reader may not see another reading's mask or the consensus.
    assert.equal((await r.api('GET', `/api/v1/items/${item_id}/readings/${tasks[0]}/mask`)).status, 403);
    assert.equal((await r.api('GET', `/api/v1/items/${item_id}/fused-mask`)).status, 403);
  }

  const a = await newUser(env.browser, env.server, 'adjudication_masks', 'reviewer');
  await a.signIn('reviewer');
  const { page } = a;
  await page.goto(`${env.server.url}/projects/${project_id}/adjudicate/${item_id}`);
  await page.getByRole('heading', { name: /^Adjudication/ }).waitFor();
  const canvas = page.locator('.canvas-wrap canvas');
  await page.locator('canvas[data-layers]').waitFor({ timeout: 120_000 });
  const layers = JSON.parse(await canvas.getAttribute('data-layers'));
  console.log(`layers: ${JSON.stringify(layers)}`);
  assert.deepEqual(layers[`reading-${tasks[0]}`], boxVoxels);
  assert.deepEqual(layers[`reading-${tasks[1]}`], boxVoxels);
  // Two raters: STAPLE keeps every voxel both drew and none that neither drew.
  assert.ok(layers.staple >= common && layers.staple <= 2 * boxVoxels - common, `consensus of ${layers.staple} voxels`);
  const shown = page.getByRole('group', { name: 'Masks shown' });
  for (const name of ["Reader 1's mask", "Reader 2's mask", 'STAPLE consensus']) {
    assert.equal(await shown.getByRole('checkbox', { name: new RegExp(name) }).isChecked(), true, name);
  }
  // The figures: the two boxes' Dice (2 × 3200 / 6400 = 0.8) and the fused suggestion.
  const row = page.getByRole('table', { name: 'Disagreement per class' }).getByRole('row', { name: /Liver lesion/ });
  const cells = await row.getByRole('cell').allInnerTexts();
  console.log(`figures: ${cells.join(' | ')}`);
  assert.equal(cells[0], '2 of 2');
  assert.equal(cells[2], '0.800');
  assert.match(await page.getByTestId('staple-fit').innerText(), /^STAPLE consensus of 2 masks \(\d+ iterations\): reader 1 label 1 \d\.\d\d · reader 2 label 1 \d\.\d\d/);
  await a.shot('adjudication-masks');

  // Key 1 hides reader 1's mask; pressed again it is back.
  const readerOne = shown.getByRole('checkbox', { name: /Reader 1's mask/ });
  const until = async (want) => {
    for (let i = 0; i < 100 && (await readerOne.isChecked()) !== want; ++i) await page.waitForTimeout(100);
    assert.equal(await readerOne.isChecked(), want);
  };
  await canvas.focus();
  await page.keyboard.press('1');
  await until(false);
  await a.shot('reader-1-hidden');
  await page.keyboard.press('1');
  await until(true);

  // Each read is audited as the adjudicator's.
  const reviewer = users.find((u) => u.username === 'reviewer');
  const events = (await admin.api('GET', `/api/v1/audit/events?from=${encodeURIComponent(started)}`)).json.data
    .filter((e) => e.action === 'mask.read' && e.actor === reviewer.id);
  assert.ok(events.length >= 3, `${events.length} mask.read events by the adjudicator`);
  a.assertNoErrors();
}));
