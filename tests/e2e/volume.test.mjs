// The volume reading room on a 512×512×300 CT (a synthetic NIfTI made by nifti.mjs, uploaded
// as an item and assigned to reader 1): the time from opening the task to the first drawn
// slice (printed), the views, window/level presets, zoom, and the drawing tools — pen with
// undo and redo, filled pen, eraser, threshold-assisted fill — and a length measurement that
// becomes the label's evidence. Every view is saved as a screenshot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';
import { syntheticCtNifti } from './nifti.mjs';

const env = demoForThisFile();
const shortId = (id) => `${id.slice(0, 4)}…${id.slice(-5)}`;

test('volume reading room: first slice time, views, painting, measurement', () => screenshotsOnFailure(async () => {
  // The administrator looks reader 1 up; the manager adds the CT and assigns it.
  const admin = await newUser(env.browser, env.server, 'volume', 'admin');
  await admin.signIn('admin');
  const users = (await admin.api('GET', '/api/v1/users')).json.data;
  const reader1 = users.find((u) => u.username === 'reader1');
  const manager = await newUser(env.browser, env.server, 'volume', 'manager');
  await manager.signIn('manager');
  const project_id = (await manager.api('GET', '/api/v1/projects')).json.data[0].id;
  const nifti = syntheticCtNifti();
  const created = await manager.upload(`/api/v1/projects/${project_id}/items`, {
    metadata: { name: 'metadata.json', mimeType: 'application/json',
                buffer: Buffer.from(JSON.stringify({ data_type: 'imaging', modality: 'CT', patient_key: 'synthetic-ct-1' })) },
    content: { name: 'ct.nii.gz', mimeType: 'application/gzip', buffer: nifti },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const assigned = await manager.api('POST', `/api/v1/items/${created.json.id}/assignments`, { user_id: reader1.id });
  assert.equal(assigned.status, 201, JSON.stringify(assigned.json));

  const r = await newUser(env.browser, env.server, 'volume', 'reader1');
  const { page } = r;
  await r.signIn('reader1');
  await page.getByRole('link', { name: /Demo/ }).click();
  await page.getByRole('heading', { name: 'My queue' }).waitFor();
  const opened = Date.now();
  await page.getByRole('link', { name: new RegExp(`imaging CT · ${shortId(created.json.id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).click();
  const canvas = page.locator('canvas[data-first-slice-ms]');
  await canvas.waitFor({ timeout: 600_000 });
  const fromClick = Date.now() - opened;
  const inViewer = Number(await canvas.getAttribute('data-first-slice-ms'));
  console.log(`CT 512x512x300 (${(nifti.length / 1e6).toFixed(1)} MB gzipped): first drawn slice ${fromClick} ms after opening the task ` +
              `(${inViewer} ms from the viewer starting to its first frame)`);
  await r.shot('first-slice-axial');

  const status = page.locator('.volume [role="status"]');
  for (const [key, name] of [['c', 'coronal'], ['s', 'sagittal'], ['m', 'all-planes'], ['r', '3d']]) {
    await page.keyboard.press(key);
    await page.waitForTimeout(400);
    await r.shot(name);
  }
  await page.keyboard.press('a');
  await page.getByLabel('Window').selectOption({ label: 'Lung W1500 L-600' });
  await r.shot('lung-window');
  await page.getByLabel('Window').selectOption({ label: 'Liver W160 L60' });
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.keyboard.press('ArrowUp');
  await r.shot('liver-window-zoomed');

  // Pen: a stroke paints; undo removes it; redo brings it back.
  const box = await page.locator('.canvas-wrap canvas').boundingBox();
  const at = (fx, fy) => [box.x + box.width * fx, box.y + box.height * fy];
  const stroke = async (points) => {
    await page.mouse.move(...at(...points[0]));
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(...at(...p), { steps: 8 });
    await page.mouse.up();
  };
  // The painted voxel count once it is within [min, max] (no eval: the page's CSP forbids it).
  const painted = async (min, max = Infinity) => {
    await page.waitForFunction(([lo, hi]) => {
      const v = Number(document.querySelector('.canvas-wrap canvas')?.getAttribute('data-painted-voxels') ?? '-1');
      return v >= lo && v <= hi;
    }, [min, max], { timeout: 20_000 });
    return Number(await page.locator('.canvas-wrap canvas').getAttribute('data-painted-voxels'));
  };
  await page.keyboard.press('p');
  await stroke([[0.45, 0.45], [0.55, 0.45], [0.55, 0.55]]);
  const afterPen = await painted(1);
  await r.shot('pen');
  await page.keyboard.press('Control+z');
  assert.equal(await painted(0, 0), 0, 'undo removes the stroke');
  await page.keyboard.press('Control+y');
  assert.equal(await painted(afterPen, afterPen), afterPen, 'redo restores it');

  // Filled pen: a closed outline is filled, so it paints far more than its outline.
  await page.keyboard.press('f');
  await stroke([[0.40, 0.60], [0.48, 0.60], [0.48, 0.68], [0.40, 0.68], [0.40, 0.60]]);
  const afterFilled = await painted(afterPen + 201);
  await r.shot('filled-pen');
  // Eraser over the filled square.
  await page.keyboard.press('e');
  await stroke([[0.40, 0.64], [0.48, 0.64]]);
  const afterErase = await painted(0, afterFilled - 1);
  // Threshold-assisted fill from the crosshair (the volume's centre: liver, 60 HU), 50..70 HU.
  await page.getByLabel('min').fill('50');
  await page.getByLabel('max').fill('70');
  await page.keyboard.press('t');
  const afterFill = await painted(afterErase + 1001);
  await r.shot('threshold-fill');
  assert.match(await status.innerText(), /mask \d+ voxels \([\d.]+ mL\)/);

  // Length measurement in mm becomes the evidence of the label being written.
  await page.keyboard.press('l');
  await stroke([[0.30, 0.50], [0.70, 0.50]]);
  await page.getByText(/last length [\d.]+ mm/).waitFor();
  await page.locator('.evidence').getByText(/length [\d.]+ mm/).waitFor();
  await r.shot('measurement');
  console.log(`painted voxels: pen ${afterPen}, filled ${afterFilled}, after eraser ${afterErase}, after threshold fill ${afterFill}`);

  // Keyboard help lists the room's shortcuts.
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).getByText('Threshold fill from the crosshair').waitFor();
  await r.shot('shortcuts');
  await page.keyboard.press('Escape');
  r.assertNoErrors();
}));
