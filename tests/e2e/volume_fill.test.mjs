// The fill (G) of the volume reading room on a small CT (96×96×24, made by nifti.mjs, assigned
// to reader 1), with a second segmentation class published (Liver, drawing value 2). G on an
// unpainted voxel whose area reaches the slice's edge paints nothing and says why; a closed pen
// outline with G pressed inside has its interior filled on that slice only, as one undo step
// (Ctrl+Z takes the fill back, Ctrl+Y puts it again); G on a painted voxel with another segment
// chosen recolours the painted region (NiiVue's own fill). The stored mask is read back through
// the API: the outline and its interior in the segment's value, nothing outside, one slice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { demoForThisFile, screenshotsOnFailure } from './harness.mjs';
import { demoProject, openFromQueue, publishClasses, smallCtItem } from './project_setup.mjs';

const env = demoForThisFile();
const kDims = [96, 96, 24];

// The non-zero voxels of a NIfTI-1 label map (.nii.gz, uint8): [x, y, z, value] each.
function niftiVoxels(bytes) {
  const b = gunzipSync(bytes);
  assert.deepEqual([1, 2, 3].map((i) => b.readInt16LE(40 + 2 * i)), kDims);
  const offset = b.readFloatLE(108);
  const out = [];
  for (let i = offset; i < b.length; ++i) {
    if (b[i] === 0) continue;
    const n = i - offset;
    out.push([n % kDims[0], Math.floor(n / kDims[0]) % kDims[1], Math.floor(n / (kDims[0] * kDims[1])), b[i]]);
  }
  return out;
}

test('volume reading room: G fills the area a pen outline encloses, refuses an open one, recolours a painted one', () => screenshotsOnFailure(async () => {
  const { manager, reader1, project_id } = await demoProject(env, 'volume_fill');
  await publishClasses(manager, env.server, project_id, [
    { id: 'liver', name: 'Liver', kind: 'segmentation', definition: 'the liver', data_types: ['imaging'] },
  ]);
  const item_id = await smallCtItem(manager, project_id, 'synthetic-ct-fill', kDims, reader1);

  const r = await openFromQueue(env, 'volume_fill', 'reader1', 'imaging', item_id);
  const { page } = r;
  const canvas = page.locator('.canvas-wrap canvas');
  await page.locator('canvas[data-first-slice-ms]').waitFor({ timeout: 60_000 });
  const paintedIs = async (n) => {
    await page.waitForFunction((v) => document.querySelector('.canvas-wrap canvas')?.getAttribute('data-painted-voxels') === v,
                               String(n), { timeout: 60_000 });
  };
  const paintedNow = async () => Number(await canvas.getAttribute('data-painted-voxels'));
  await paintedIs(0);
  const status = page.locator('.volume p[role="status"]');
  const box = await canvas.boundingBox();
  const at = (fx, fy) => [box.x + box.width * fx, box.y + box.height * fy];

  // Nothing painted: the area around the crosshair is the whole slice, which G does not paint.
  await page.keyboard.press('v');
  await page.mouse.click(...at(0.5, 0.5));
  await page.keyboard.press('g');
  await status.getByText(/Nothing filled: the unpainted area around the crosshair reaches the edge of the axial slice/).waitFor();
  await page.waitForTimeout(400);  // the painted count is recounted 250 ms after a change
  assert.equal(await paintedNow(), 0, 'an open area is not painted');
  await r.shot('open-area-refused');

  // A closed outline with the pen, then G inside it.
  await page.keyboard.press('p');
  const corners = [[0.42, 0.42], [0.58, 0.42], [0.58, 0.58], [0.42, 0.58], [0.42, 0.42]];
  await page.mouse.move(...at(...corners[0]));
  await page.mouse.down();
  for (const c of corners.slice(1)) await page.mouse.move(...at(...c), { steps: 12 });
  await page.mouse.up();
  await page.waitForFunction(() => Number(document.querySelector('.canvas-wrap canvas')?.getAttribute('data-painted-voxels')) > 0,
                             null, { timeout: 60_000 });
  await page.waitForTimeout(400);
  const outline = await paintedNow();
  await r.shot('outline');
  await page.keyboard.press('v');
  await page.mouse.click(...at(0.5, 0.5));
  await page.keyboard.press('g');
  await status.getByText(/Filled \d+ voxels of the axial slice with Liver lesion\./).waitFor();
  const filled = Number((await status.innerText()).match(/Filled (\d+) voxels/)[1]);
  assert.ok(filled > 10, `the interior is filled (${filled} voxels)`);
  await paintedIs(outline + filled);
  await r.shot('filled');
  // One undo step takes the fill back; redo puts it again.
  await page.keyboard.press('Control+z');
  await paintedIs(outline);
  await page.keyboard.press('Control+y');
  await paintedIs(outline + filled);

  // Saved, read back: one slice; the interior painted (no hole inside the outline's box), nothing
  // outside the box, all of it Liver lesion (value 1).
  await page.keyboard.press('Control+m');
  await page.locator('.notice[role="status"]').getByText('Mask version 1 saved; your labels resting on it: Liver lesion (created).').waitFor();
  const maskNow = async () => {
    const res = await r.context.request.get(`${env.server.url}/api/v1/items/${item_id}/mask`);
    assert.equal(res.status(), 200, await res.text());
    return niftiVoxels(await res.body());
  };
  const stored = await maskNow();
  assert.equal(stored.length, outline + filled);
  assert.deepEqual([...new Set(stored.map((v) => v[2]))].length, 1, 'one slice');
  assert.deepEqual([...new Set(stored.map((v) => v[3]))], [1], 'the chosen segment\'s value');
  const xs = stored.map((v) => v[0]), ys = stored.map((v) => v[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  assert.ok(x1 - x0 > 5 && y1 - y0 > 5, `the outline spans ${x0}..${x1} × ${y0}..${y1}`);
  const inSlice = new Set(stored.map(([x, y]) => `${x},${y}`));
  for (const [x, y] of [[(x0 + x1) >> 1, (y0 + y1) >> 1], [x0 + 2, y0 + 2], [x1 - 2, y1 - 2]]) {
    assert.ok(inSlice.has(`${x},${y}`), `voxel ${x},${y} inside the outline is filled`);
  }
  // The outline is a square: every row of it is painted from its left edge to its right one.
  for (let y = y0 + 1; y < y1; ++y) {
    const row = stored.filter((v) => v[1] === y).map((v) => v[0]);
    assert.equal(row.length, Math.max(...row) - Math.min(...row) + 1, `row ${y} has no hole`);
  }

  // G on a painted voxel with the second segment chosen: the painted region takes its colour.
  await page.keyboard.press('Shift+F2');
  await page.keyboard.press('g');
  await page.waitForFunction(() => document.querySelector('.canvas-wrap canvas')?.getAttribute('data-unsaved') === 'true');
  await page.keyboard.press('Control+m');
  await page.locator('.notice[role="status"]').getByText(/^Mask version 2 saved; your labels resting on it: Liver \(created\)\./).waitFor();
  await r.shot('recoloured');
  const recoloured = await maskNow();
  assert.equal(recoloured.length, outline + filled);
  assert.deepEqual([...new Set(recoloured.map((v) => v[3]))], [2]);
  r.assertNoErrors();
}));
