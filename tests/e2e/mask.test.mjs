// The mask round trip of the volume reading room on a small CT (96×96×24, made by nifti.mjs,
// uploaded as an item and assigned to reader 1): the volume comes from volume.nii.gz, a pen
// stroke is saved (Ctrl+M) as the reader's mask, the label of the segmentation class rests on
// it (evidence kind mask), the stored NIfTI holds exactly the painted voxels, the page opened
// again shows the saved mask, a misaligned upload is refused with the server's reason on
// screen, and a second save makes version 2 under the same label.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';
import { emptyLabelNifti, syntheticCtNifti } from './nifti.mjs';

const env = demoForThisFile();
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const shortId = (id) => `${id.slice(0, 4)}…${id.slice(-5)}`;

// Dimensions and the number of non-zero voxels of a NIfTI-1 (.nii or .nii.gz, uint8 labels).
function niftiVoxels(bytes) {
  const b = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  assert.equal(b.readInt32LE(0), 348, 'a NIfTI-1 header');
  const dims = [1, 2, 3].map((i) => b.readInt16LE(40 + 2 * i));
  assert.equal(b.readInt16LE(70), 2, 'datatype uint8');
  const offset = b.readFloatLE(108);
  let painted = 0;
  for (let i = offset; i < b.length; ++i) if (b[i] !== 0) ++painted;
  return { dims, painted };
}

test('volume reading room: a painted mask is saved, labelled, and opens again', () => screenshotsOnFailure(async () => {
  const started = new Date(Date.now() - 1000).toISOString();
  const admin = await newUser(env.browser, env.server, 'mask', 'admin');
  await admin.signIn('admin');
  const reader1 = (await admin.api('GET', '/api/v1/users')).json.data.find((u) => u.username === 'reader1');
  const manager = await newUser(env.browser, env.server, 'mask', 'manager');
  await manager.signIn('manager');
  const project_id = (await manager.api('GET', '/api/v1/projects')).json.data[0].id;
  const created = await manager.upload(`/api/v1/projects/${project_id}/items`, {
    metadata: { name: 'metadata.json', mimeType: 'application/json',
                buffer: Buffer.from(JSON.stringify({ data_type: 'imaging', modality: 'CT', patient_key: 'synthetic-ct-small' })) },
    content: { name: 'ct.nii.gz', mimeType: 'application/gzip', buffer: syntheticCtNifti(96, 96, 24, [3, 3, 5]) },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const item_id = created.json.id;
  const assigned = await manager.api('POST', `/api/v1/items/${item_id}/assignments`, { user_id: reader1.id });
  assert.equal(assigned.status, 201, JSON.stringify(assigned.json));

  const r = await newUser(env.browser, env.server, 'mask', 'reader1');
  const { page } = r;
  // A refused upload is provoked below by swapping the body of one PUT of the mask (armed by
  // `swapNextPut`). The route is in place before the first page loads: routing turned on later
  // reaches a busy renderer late, and a request sent in between is neither routed nor reported
  // (a save just after `page.route` went out as painted and was stored).
  let swapNextPut = false;
  await page.route('**/mask', (route) => {
    if (route.request().method() !== 'PUT' || !swapNextPut) return route.continue();
    swapNextPut = false;
    return route.continue({ postData: emptyLabelNifti(8, 8, 8, [3, 3, 5]) });
  });
  await r.signIn('reader1');
  await page.getByRole('link', { name: /Demo/ }).click();
  await page.getByRole('heading', { name: 'My queue' }).waitFor();
  const volumeRequest = page.waitForRequest((req) => req.url().endsWith(`/api/v1/items/${item_id}/volume.nii.gz`));
  await page.getByRole('link', { name: new RegExp(`imaging CT · ${escape(shortId(item_id))}`) }).click();
  await volumeRequest;
  const canvas = page.locator('.canvas-wrap canvas');
  // The viewer's painted voxel count once it is at least `min` (no eval: the page's CSP forbids it).
  const painted = async (min) => {
    await page.waitForFunction((m) => {
      const v = Number(document.querySelector('.canvas-wrap canvas')?.getAttribute('data-painted-voxels') ?? '-1');
      return v >= m;
    }, min, { timeout: 60_000 });
    return Number(await canvas.getAttribute('data-painted-voxels'));
  };
  await page.locator('canvas[data-first-slice-ms]').waitFor({ timeout: 60_000 });
  assert.equal(await painted(0), 0, 'no mask saved yet: an empty drawing');
  await r.shot('volume');
  // With no label yet, "Submit and next" (a primary button) is disabled and looks it: the panel
  // grey and grey text, not the primary blue (styles.css puts :disabled after button.primary).
  const submitNext = page.getByRole('button', { name: /^Submit and next/ });
  assert.equal(await submitNext.isDisabled(), true);
  assert.deepEqual(await submitNext.evaluate((b) => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]),
                   ['rgb(243, 245, 248)', 'rgb(92, 103, 115)']);

  const box = await canvas.boundingBox();
  const at = (fx, fy) => [box.x + box.width * fx, box.y + box.height * fy];
  const stroke = async (points) => {
    await page.mouse.move(...at(...points[0]));
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(...at(...p), { steps: 8 });
    await page.mouse.up();
  };
  await page.keyboard.press('p');
  await stroke([[0.45, 0.45], [0.55, 0.45], [0.55, 0.55]]);
  const first = await painted(1);
  await page.keyboard.press('Control+m');
  await page.locator('.notice[role="status"]').getByText('Mask version 1 saved; your labels resting on it: Liver lesion (created).').waitFor();
  await r.shot('saved-v1');

  // Through the API: the stored mask holds exactly the painted voxels on the volume's grid.
  const maskOf = async () => {
    const res = await r.context.request.get(`${env.server.url}/api/v1/items/${item_id}/mask`);
    assert.equal(res.status(), 200, await res.text());
    return niftiVoxels(await res.body());
  };
  assert.deepEqual(await maskOf(), { dims: [96, 96, 24], painted: first });
  const maskLabels = async () => (await r.api('GET', `/api/v1/items/${item_id}/annotations`)).json.data
    .filter((a) => a.author === reader1.id && a.evidence.kind === 'mask');
  const [label] = await maskLabels();
  assert.equal(label?.label.class, 'liver_lesion');
  assert.equal(label.label.code, '300331000');
  assert.deepEqual(label.evidence.data, { version: 1 });

  // Opened again, the saved mask is the drawing layer; a second stroke and save make version 2
  // under the same label.
  await page.reload();
  await page.locator('canvas[data-first-slice-ms]').waitFor({ timeout: 60_000 });
  assert.equal(await painted(1), first, 'the saved mask is shown again');
  await r.shot('reopened');
  await page.keyboard.press('p');
  await stroke([[0.35, 0.60], [0.50, 0.65]]);
  const second = await painted(first + 1);
  // A refusal is shown with the server's reason: here the upload is swapped for a mask on
  // another grid (8×8×8), which the server refuses as misaligned.
  swapNextPut = true;
  await page.keyboard.press('Control+m');
  const refusal = page.getByRole('alert').filter({ hasText: 'Could not save the mask' });
  await refusal.waitFor();
  console.log(`refusal shown: ${await refusal.innerText()}`);
  assert.match(await refusal.innerText(), /mask is 8x8x8 but the volume is 96x96x24 \(invalid_argument\)$/);
  await r.shot('refused');
  await page.getByRole('button', { name: /Save mask/ }).click();
  await page.locator('.notice[role="status"]').getByText('Mask version 2 saved; your labels resting on it: Liver lesion (changed).').waitFor();
  await r.shot('saved-v2');
  assert.equal(await refusal.count(), 0, 'the refusal goes with the next save');
  assert.deepEqual(await maskOf(), { dims: [96, 96, 24], painted: second });
  const labels = await maskLabels();
  assert.equal(labels.length, 1, 'the label was changed, not doubled');
  assert.equal(labels[0].id, label.id);
  assert.deepEqual(labels[0].evidence.data, { version: 2 });

  // Both uploads are in the audit log.
  const events = (await admin.api('GET', `/api/v1/audit/events?from=${encodeURIComponent(started)}`)).json.data;
  assert.equal(events.filter((e) => e.action === 'mask.put' && e.actor === reader1.id).length, 2);
  r.assertNoErrors();
}));
