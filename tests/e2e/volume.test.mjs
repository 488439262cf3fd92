// The volume reading room on a 512×512×300 CT (a synthetic NIfTI made by nifti.mjs, uploaded
// as an item and assigned to reader 1): the time from opening the task to the first drawn
// slice, printed with the time of each phase on the way (the viewer's performance marks); the
// slice checked on the canvas's pixels (air, soft tissue and spine where the phantom has them,
// under the soft-tissue window); the views, window/level presets, zoom, and the drawing tools — pen with
// undo and redo, filled pen, eraser, threshold-assisted fill — and a length measurement that
// becomes the label's evidence. Every view is saved as a screenshot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';
import { syntheticCtNifti } from './nifti.mjs';
import { decodePng } from './png.mjs';

const env = demoForThisFile();
const shortId = (id) => `${id.slice(0, 4)}…${id.slice(-5)}`;

// The phantom's body on the canvas (the box of its grey pixels, checked to have the body's
// 0.42:0.32 proportions) and, for offsets from the volume's centre in fractions of its width and
// height (anterior up), the canvas pixel there (`onSlice`) and the page point (`toPage`).
async function bodyOnCanvas(page, canvas) {
  const box = await canvas.boundingBox();  // in the viewport; the clip is in the page
  const [sx, sy] = await page.evaluate(() => [window.scrollX, window.scrollY]);
  const shot = decodePng(await page.screenshot({ fullPage: true, clip: { ...box, x: box.x + sx, y: box.y + sy } }));
  const grey = ([r, g, b]) => Math.abs(r - g) < 8 && Math.abs(g - b) < 8;
  const rows = [], cols = [];
  for (let y = 0; y < shot.height; ++y) {
    let n = 0;
    for (let x = 0; x < shot.width; ++x) if (grey(shot.pixel(x, y)) && shot.pixel(x, y)[0] > 60) ++n;
    if (n > shot.width * 0.05) rows.push(y);
  }
  for (let x = 0; x < shot.width; ++x) {
    let n = 0;
    for (let y = 0; y < shot.height; ++y) if (grey(shot.pixel(x, y)) && shot.pixel(x, y)[0] > 60) ++n;
    if (n > shot.height * 0.05) cols.push(x);
  }
  assert.ok(rows.length > 50 && cols.length > 50, `no body on the canvas (${cols.length}×${rows.length} px)`);
  const [x0, x1, y0, y1] = [cols[0], cols.at(-1), rows[0], rows.at(-1)];
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, halfW = (x1 - x0) / 2, halfH = (y1 - y0) / 2;
  assert.ok(Math.abs(halfW / halfH - 0.42 / 0.32) < 0.1, `the body is ${x1 - x0}×${y1 - y0} px on a ${shot.width}×${shot.height} canvas (corner ${shot.pixel(2, 2)}), not the phantom's 0.42:0.32 ellipse`);
  const at = (fx, fy) => [cx + (fx / 0.42) * halfW, cy - (fy / 0.32) * halfH];
  return { grey, onSlice: (fx, fy) => shot.pixel(...at(fx, fy)), toPage: (fx, fy) => [box.x + at(fx, fy)[0], box.y + at(fx, fy)[1]] };
}

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
  // The clock starts at the click that opens the task (the page's clock, so the figure does not
  // depend on when Playwright gets to look) and stops at the viewer's first frame with the volume
  // (its performance mark); the phases in between are the viewer's marks (volume_viewer.tsx).
  const clicked = await page.evaluate(() => performance.now());
  const opened = Date.now();
  await page.getByRole('link', { name: new RegExp(`imaging CT · ${shortId(created.json.id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).click();
  const canvas = page.locator('.canvas-wrap canvas');
  await page.locator('canvas[data-first-slice-ms]').waitFor({ timeout: 240_000 });
  const seen = Date.now() - opened;
  const marks = Object.fromEntries(await page.evaluate(() => performance.getEntriesByType('mark')
    .filter((m) => m.name.startsWith('caliper.volume.')).map((m) => [m.name.slice('caliper.volume.'.length), m.startTime])));
  for (const phase of ['start', 'attached', 'fetched', 'parsed', 'uploaded', 'first-frame']) assert.ok(phase in marks, `no ${phase} mark`);
  const firstSlice = Math.round(marks['first-frame'] - clicked);
  const phases = [['viewer code loaded', clicked, marks.start], ['NiiVue attached', marks.start, marks.attached],
                  ['volume fetched and gunzipped', marks.attached, marks.fetched], ['parsed', marks.fetched, marks.parsed],
                  ['textures made', marks.parsed, marks.uploaded], ['drawn', marks.uploaded, marks['first-frame']]]
    .map(([name, from, to]) => `${name} ${Math.round(to - from)} ms`).join(', ');
  console.log(`CT 512x512x300 (${(nifti.length / 1e6).toFixed(1)} MB gzipped): first drawn slice ${firstSlice} ms after opening the task ` +
              `(${phases}; the test saw it after ${seen} ms)`);
  // The room is ready (the reader's drawing layer made) before anything else is pressed.
  await page.getByText(/^Volume shown in \d+ ms/).waitFor({ timeout: 240_000 });
  const drawing = await page.evaluate(() => performance.getEntriesByName('caliper.volume.drawing', 'mark').at(-1)?.startTime);
  console.log(`the reader's (empty) drawing layer made ${Math.round(drawing - marks['first-frame'])} ms after that first slice`);

  // The drawn slice is the volume's: on the canvas, under the soft-tissue window (W400 L40),
  // the air around the body is black, the body grey and the spine white, where nifti.mjs put
  // them. The body is found as the box of grey pixels; the spine is 0.2 of the volume's height
  // posterior of its centre (the axial view has anterior up).
  const body = await bodyOnCanvas(page, canvas);
  const onSlice = body.onSlice;
  const spine = onSlice(0.03, -0.2), soft = [onSlice(0.3, 0.05), onSlice(-0.3, 0.05)], air = [onSlice(0.45, 0.3), onSlice(-0.45, -0.3)];
  assert.ok(body.grey(spine) && spine[0] > 230, `spine ${spine}`);
  for (const p of soft) assert.ok(body.grey(p) && p[0] > 100 && p[0] < 160, `soft tissue ${p}`);
  for (const p of air) assert.ok(p[0] < 30 && p[1] < 30 && p[2] < 30, `air ${p}`);
  await r.shot('first-slice-axial');

  const status = page.locator('.volume [role="status"]');
  for (const [key, name] of [['c', 'coronal'], ['s', 'sagittal'], ['m', 'all-planes'], ['r', '3d']]) {
    await page.keyboard.press(key);
    await page.waitForTimeout(400);
    await r.shot(name);
  }
  await page.keyboard.press('a');
  // A new window rebuilds NiiVue's textures of the whole volume (tens of seconds through
  // SwiftShader, so one preset here, not each): the action may take longer than Playwright's
  // default, and the page is given two frames (the GPU's work done) before the screenshot.
  await page.getByLabel('Window').selectOption({ label: 'Liver W160 L60' }, { timeout: 180_000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true)))));
  // The page may still be busy with those textures on a loaded machine (a fresh-clone CI run
  // timed out here after Playwright's default 30 s).
  await page.getByRole('button', { name: 'Zoom in' }).click({ timeout: 180_000 });
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
    }, [min, max], { timeout: 120_000 });  // a fill walks 78 M voxels in the page: seconds, more under load
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
  // Threshold-assisted fill from the crosshair, 50..70 HU. The strokes moved the crosshair: a
  // click (navigate) puts it in the liver (60 HU, away from its lesion), the eraser is taken
  // again, and the fill paints the liver's connected voxels.
  await page.keyboard.press('v');
  await page.mouse.click(...(await bodyOnCanvas(page, canvas)).toPage(-0.2, -0.06));
  await page.keyboard.press('e');
  await page.getByLabel('min').fill('50');
  await page.getByLabel('max').fill('70');
  await page.getByLabel('max').blur();  // the key is a shortcut, not typing
  await page.keyboard.press('t');
  const afterFill = await painted(afterErase + 1001);
  await r.shot('threshold-fill');
  assert.match(await status.innerText(), /mask \d+ voxels \([\d.]+ mL\)/);

  // Length measurement in mm becomes the evidence of the label being written.
  await page.keyboard.press('l');
  await stroke([[0.30, 0.50], [0.70, 0.50]]);
  // After a fill the page redraws the drawing layer (78 M voxels through SwiftShader: up to a
  // minute here), so the measurement's drag is handled late.
  await page.getByText(/last length [\d.]+ mm/).waitFor({ timeout: 180_000 });
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
