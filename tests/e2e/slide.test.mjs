// The slide reading room on a real whole-slide image (CMU-1-Small-Region.svs from the sample
// data, uploaded through the API): the Deep Zoom tiles are drawn (pixels that are not blank), a
// polygon drawn with the polygon tool gets the class, confidence and borderline flag chosen in
// the form, a point is added with the point tool, undo and redo take steps back and forth in the
// order they were taken (points and shapes alike), Ctrl+M saves both as the reader's regions
// (W3C Web Annotations in level-0 pixels, checked through the API), and the page opened again
// shows them. No page error may be logged: Annotorious's PixiJS must run under the app's CSP
// (no 'unsafe-eval').

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { demoForThisFile, screenshotsOnFailure } from './harness.mjs';
import { assign, classKey, csrfOf, demoProject, openFromQueue, sampleFile } from './project_setup.mjs';

const env = demoForThisFile();

// The demo's guideline has the pathology class tumour_region (a polygon); the test adds one.
const kClasses = [
  { id: 'mitosis', name: 'Mitotic figure', kind: 'box', data_types: ['pathology'],
    definition: 'A mitotic figure (test class).' },
];

// How many pixels of a canvas's middle differ from its first pixel: tiles drawn, not blank.
async function drawnPixels(page) {
  return page.locator('.slide-wrap .openseadragon-canvas canvas').first().evaluate((c) => {
    const g = c.getContext('2d');
    const w = Math.floor(c.width / 2), h = Math.floor(c.height / 2);
    const d = g.getImageData(Math.floor(w / 2), Math.floor(h / 2), w, h).data;
    let differ = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 30) ++differ;
    }
    return { differ, of: w * h };
  });
}

test('slide reading room: tiles, a polygon and a point saved as regions, shown again', (t) => screenshotsOnFailure(async () => {
  const slide = sampleFile(t, 'wsi/CMU-1-Small-Region.svs');
  if (!slide) return;
  const { manager, reader1, project_id } = await demoProject(env, 'slide', 'pathology', kClasses);
  const uploaded = await manager.context.request.post(
    `${env.server.url}/api/v1/projects/${project_id}/slides?name=CMU-1-Small-Region.svs`,
    { headers: { 'X-CSRF-Token': await csrfOf(manager), 'Content-Type': 'application/octet-stream' }, data: readFileSync(slide) });
  assert.equal(uploaded.status(), 201, await uploaded.text());
  const item = await uploaded.json();
  const item_id = item.id ?? item.item_id;
  await assign(manager, item_id, reader1.id);

  const r = await openFromQueue(env, 'slide', 'reader1', 'pathology', item_id);
  const { page } = r;
  // Every Deep Zoom request (the .dzi and the tiles) must be answered 200.
  const dzRefused = [];
  page.on('response', (res) => {
    if (/\/dz\//.test(res.url()) && res.status() !== 200 && res.status() !== 201) dzRefused.push(`${res.status()} ${res.url()}`);
  });
  await page.waitForResponse((res) => /\/dz\/[^/]+\/slide_files\/\d+\/\d+_\d+\.jpeg$/.test(res.url()) && res.status() === 200);
  const wrap = page.locator('.slide-wrap');
  await page.locator('.slide-wrap[data-regions-loaded="0"]').waitFor({ timeout: 60_000 });
  const pixels = await drawnPixels(page);
  console.log(`slide shown in ${await wrap.getAttribute('data-shown-ms')} ms, ${await wrap.getAttribute('data-tiles-loaded')} tiles; ` +
              `${pixels.differ} of ${pixels.of} middle pixels differ from the corner`);
  assert.ok(pixels.differ > pixels.of / 20, 'the tiles are drawn (the slide is not blank)');
  await r.shot('slide');

  // A polygon of the first class, confidence 0.7, borderline.
  await page.locator('.markup-form').getByLabel('Region class').selectOption('tumour_region');
  await page.locator('.markup-form').getByLabel('Region confidence').fill('0.7');
  await page.locator('.markup-form').getByLabel(/Borderline/).check();
  await page.locator('.slide-wrap').focus();  // keys typed into the form stay in the form
  await page.keyboard.press('p');
  const box = await wrap.boundingBox();
  const at = (fx, fy) => [box.x + box.width * fx, box.y + box.height * fy];
  // Three corners clicked, the fourth double-clicked (which closes the polygon).
  for (const p of [[0.40, 0.35], [0.60, 0.35], [0.62, 0.60]]) {
    await page.mouse.move(...at(...p), { steps: 4 });
    await page.mouse.click(...at(...p));
  }
  await page.mouse.move(...at(0.42, 0.62), { steps: 4 });
  await page.mouse.dblclick(...at(0.42, 0.62));
  await page.getByRole('button', { name: /^polygon: Tumour region/ }).waitFor();
  // A point of the test class (chosen by its shortcut), default confidence.
  await page.keyboard.press('Escape');
  await page.keyboard.press('o');
  const classPicker = page.locator('.markup-form').getByLabel('Region class');
  await page.keyboard.press(await classKey(classPicker, 'mitosis'));
  assert.equal(await classPicker.inputValue(), 'mitosis');
  await page.locator('.markup-form').getByLabel(/Borderline/).uncheck();
  await page.mouse.click(...at(0.5, 0.78));
  await page.getByRole('button', { name: /^point: Mitotic figure/ }).waitFor();
  await r.shot('drawn');

  // Undo takes back the last step first, points as well as shapes: a second point, then the
  // first, then the polygon; redo (the button, then the key) brings back the polygon as it was
  // classified (checked in the saved regions below) and the first point; the second stays undone.
  const pointsShown = () => page.locator('.slide-point').count();
  const polygonListed = page.getByRole('button', { name: /^polygon: Tumour region/ });
  await page.mouse.click(...at(0.56, 0.84));
  await page.getByRole('button', { name: /^point: Mitotic figure/ }).nth(1).waitFor();
  assert.equal(await pointsShown(), 2);
  await page.keyboard.press('Control+z');
  assert.equal(await pointsShown(), 1, 'undo takes back the point added last');
  assert.equal(await polygonListed.count(), 1, 'and not the polygon');
  await page.keyboard.press('Control+z');
  assert.equal(await pointsShown(), 0, 'then the first point');
  await page.keyboard.press('Control+z');
  await polygonListed.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: /^Redo/ }).click();
  await polygonListed.waitFor();
  await page.locator('.slide-wrap').focus();
  await page.keyboard.press('Control+y');
  assert.equal(await pointsShown(), 1, 'redo brings the first point back');
  assert.equal(await page.getByRole('button', { name: /^Redo/ }).isEnabled(), true, 'the second point could come back too');
  // The polygon brought back is Annotorious's selection (its layer takes the clicks): Escape, then
  // the point picked from the list.
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: /^point: Mitotic figure/ }).click();
  await r.shot('undone-redone');

  // "?" lists the room's shortcuts; while the help is open the room gets no keys, and Escape
  // closes the help (not the room's Escape, which would deselect the point).
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.getByText('Save your regions').waitFor();
  await page.keyboard.press('p');
  assert.equal(await wrap.getAttribute('data-tool'), 'point', 'a key behind the help does not reach the room');
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden', timeout: 2_000 });
  assert.equal(await page.locator('.slide-point.selected').count(), 1, 'the point is still selected');
  await page.keyboard.press('Control+m');
  await page.getByRole('status').getByText('Regions version 1 saved (2 regions).').waitFor();
  await r.shot('saved');

  // Through the API: W3C annotations in level-0 pixels with the bodies chosen.
  const info = (await r.api('GET', `/api/v1/items/${item_id}/slide`)).json;
  assert.deepEqual([info.width, info.height], [2220, 2967]);
  const saved = (await r.api('GET', `/api/v1/items/${item_id}/regions`)).json;
  assert.equal(saved.version, 1);
  assert.equal(saved.annotations.length, 2);
  const body = (a, purpose) => a.body.find((b) => b.purpose === purpose)?.value;
  const polygon = saved.annotations.find((a) => a.target.selector.type === 'SvgSelector');
  assert.equal(body(polygon, 'classifying'), 'tumour_region');
  assert.equal(body(polygon, 'caliper:confidence'), '0.7');
  assert.equal(body(polygon, 'caliper:borderline'), 'true');
  const vertices = polygon.target.selector.value.match(/points="([^"]+)"/)[1].trim().split(/\s+/).map((p) => p.split(',').map(Number));
  assert.ok(vertices.length >= 4, `a polygon of the 4 corners clicked: ${polygon.target.selector.value}`);
  for (const [x, y] of vertices) assert.ok(x >= 0 && x <= 2220 && y >= 0 && y <= 2967, `vertex ${x},${y} on the slide`);
  const point = saved.annotations.find((a) => a.target.selector.type === 'FragmentSelector');
  assert.match(point.target.selector.value, /^xywh=pixel:\d+,\d+,0,0$/);
  assert.equal(body(point, 'classifying'), 'mitosis');
  assert.equal(body(point, 'caliper:borderline'), undefined);
  assert.equal(polygon.target.source, item_id);

  // Opened again: both regions are back, the tiles too.
  await page.reload();
  await page.locator('.slide-wrap[data-regions-loaded="2"]').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: /^polygon: Tumour region/ }).waitFor();
  await page.getByRole('button', { name: /^point: Mitotic figure/ }).waitFor();
  assert.equal(await page.locator('.slide-point').count(), 1, 'the point is drawn on the slide');
  assert.ok((await drawnPixels(page)).differ > pixels.of / 20, 'the tiles are drawn again');
  await r.shot('reopened');
  assert.deepEqual(dzRefused, [], 'Deep Zoom requests refused');
  r.assertNoErrors();
}));
