// Pre-labels in the volume reading room on a small CT (96×96×24, made by nifti.mjs, assigned to
// reader 1), with three model suggestions uploaded by the manager: a classification of the whole
// item (listed in the panel; rejected with Shift+X, which records the decision), and two
// segmentations of the liver lesion (voxels). The picked segmentation is drawn over the volume as
// a layer of its own (the reader's drawing stays empty); accepting one (Shift+A) makes it the
// reader's mask version 1, which the viewer then shows as the drawing and the API holds voxel for
// voxel; correcting the other (Shift+C) paints it into the drawing, and saving the mask (Ctrl+M)
// records the correction with version 2: the reader's one label of the class, the accepted one
// changed (its former content in its history), not a second. Accepting carries the model's
// score as the label's confidence, and correcting prefills it in the label form. Six arrow-key
// steps of the overlay's opacity slider rebuild NiiVue's textures once, not six times. The help
// overlay lists the keys. Accepting while the
// drawing has unsaved strokes is refused on screen (the reload would lose them), and leaving the
// room with them asks first (a link: the app's confirm; a reload: the browser's prompt).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { demoForThisFile, newUser, nextDialog, screenshotsOnFailure } from './harness.mjs';
import { demoProject, publishClasses, smallCtItem, strokeOnCanvas } from './project_setup.mjs';

const env = demoForThisFile();
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const shortId = (id) => `${id.slice(0, 4)}…${id.slice(-5)}`;
const kDims = [96, 96, 24];

// The runs (linear indices, x fastest) of the box [x0, x1) × [y0, y1) × [z0, z1), and its size.
function box([x0, x1], [y0, y1], [z0, z1]) {
  const runs = [];
  for (let z = z0; z < z1; ++z) {
    for (let y = y0; y < y1; ++y) runs.push([(z * kDims[1] + y) * kDims[0] + x0, x1 - x0]);
  }
  return { runs, count: (x1 - x0) * (y1 - y0) * (z1 - z0) };
}

// The non-zero voxels of a NIfTI-1 label map (.nii.gz, uint8) as a set of linear indices.
function niftiForeground(bytes) {
  const b = gunzipSync(bytes);
  assert.deepEqual([1, 2, 3].map((i) => b.readInt16LE(40 + 2 * i)), kDims);
  const offset = b.readFloatLE(108);
  const out = new Set();
  for (let i = offset; i < b.length; ++i) if (b[i] !== 0) out.add(i - offset);
  return out;
}
const runsSet = (runs) => new Set(runs.flatMap(([s, n]) => Array.from({ length: n }, (_, k) => s + k)));

test('volume reading room: a segmentation pre-label over the volume, accepted, corrected; a classification rejected', () => screenshotsOnFailure(async () => {
  const { manager, reader1, project_id } = await demoProject(env, 'volume_prelabels');
  await publishClasses(manager, env.server, project_id, [
    { id: 'hepatic_steatosis', name: 'Hepatic steatosis', kind: 'classification', definition: 'fatty liver', data_types: ['imaging'] },
  ]);
  const item_id = await smallCtItem(manager, project_id, 'synthetic-ct-prelabels', kDims, reader1);

  const accepted = box([30, 46], [30, 46], [10, 14]);  // 1024 voxels, through the middle slice (12)
  const corrected = box([50, 60], [50, 60], [11, 14]); // 300 voxels
  const voxels = (b) => ({ kind: 'voxels', data: { dims: kDims, spacing_mm: [3, 3, 5], runs: b.runs } });
  const uploaded = await manager.api('POST', `/api/v1/projects/${project_id}/prelabels`, { prelabels: [
    { item_id, model: { name: 'steatonet', version: '1' }, evidence: { kind: 'document', data: {} },
      label: { class: 'hepatic_steatosis' }, score: 0.71 },
    { item_id, model: { name: 'lesionnet', version: '1' }, evidence: voxels(accepted), label: { class: 'liver_lesion' }, score: 0.9 },
    { item_id, model: { name: 'lesionnet', version: '2' }, evidence: voxels(corrected), label: { class: 'liver_lesion' }, score: 0.6 },
  ] });
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.json));
  assert.deepEqual(uploaded.json.errors, []);
  const [classification, segmentation, toCorrect] = uploaded.json.stored.map((p) => p.id);

  const r = await newUser(env.browser, env.server, 'volume_prelabels', 'reader1');
  const { page } = r;
  await r.signIn('reader1');
  await page.getByRole('link', { name: /Demo/ }).click();
  await page.getByRole('heading', { name: 'My queue' }).waitFor();
  await page.getByRole('link', { name: new RegExp(`imaging CT · ${escape(shortId(item_id))}`) }).click();
  const canvas = page.locator('.canvas-wrap canvas');
  await page.locator('canvas[data-first-slice-ms]').waitFor({ timeout: 60_000 });
  const attributeIs = async (name, value) => {
    await page.waitForFunction(([n, v]) => document.querySelector('.canvas-wrap canvas')?.getAttribute(n) === v,
                               [name, String(value)], { timeout: 60_000 });
  };
  await page.getByRole('heading', { name: 'Pre-labels (3 to decide)' }).waitFor();
  // The classification is listed with its score; no overlay for it.
  const panel = page.getByRole('region', { name: /^Pre-labels/ });
  await panel.getByRole('button', { name: 'Hepatic steatosis: document · present · score 0.71' }).click();
  await attributeIs('data-overlay-voxels', 0);
  await r.shot('classification-picked');
  // The keys are in the help overlay.
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  for (const [key, what] of [['Shift+a', 'Accept the picked pre-label as your label'], ['Shift+x', 'Reject the picked pre-label'],
                             ['Shift+c', 'Correct the picked pre-label'], ['n', 'Pick the next pre-label']]) {
    assert.match(await help.innerText(), new RegExp(`${escape(key)}\\s+${escape(what)}`));
  }
  await r.shot('help');
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
  // Correcting it opens the label form with the model's score as the confidence (the reader can
  // change it); Escape leaves the correction.
  await page.keyboard.press('Shift+C');
  await page.getByRole('heading', { name: 'Correct the pre-label' }).waitFor();
  const form = page.getByRole('form', { name: 'Label' });
  assert.equal(await form.locator('output').innerText(), '71%');
  assert.equal(await form.getByRole('slider', { name: 'Confidence' }).getAttribute('aria-valuetext'), '71%');
  await r.shot('correction-form');
  await page.keyboard.press('Escape');
  await page.getByRole('heading', { name: 'New label' }).waitFor();
  await page.keyboard.press('Shift+X');
  await page.getByText('Pre-label rejected.').waitFor();
  await page.getByRole('heading', { name: 'Pre-labels (2 to decide, 1 decided)' }).waitFor();

  // The segmentation over the volume: a layer of its own, the reader's drawing still empty.
  await panel.getByRole('button', { name: 'Liver lesion: 1024 voxels · present · score 0.90' }).click();
  await attributeIs('data-overlay-voxels', accepted.count);
  await attributeIs('data-painted-voxels', 0);
  await page.getByRole('group', { name: 'Pre-label overlay' }).getByText('Pre-label overlay: Liver lesion (lesionnet@1) (1024 voxels)').waitFor();
  await r.shot('segmentation-overlay');

  // Accepting with unsaved strokes is refused before anything is sent.
  await strokeOnCanvas(page, canvas, 'p', [0.3, 0.3], [0.35, 0.35]);
  await attributeIs('data-unsaved', true);
  await page.keyboard.press('Shift+A');
  await page.getByText(/^Save your mask first \(Ctrl\+M\)/).waitFor();
  let decided = (await r.api('GET', `/api/v1/items/${item_id}/prelabels`)).json.data;
  assert.equal(decided.find((p) => p.id === segmentation).status, 'pending');
  await r.shot('accept-refused');
  // Leaving with the stroke unsaved asks first: through a link the app's confirm (staying keeps
  // the stroke), on a reload the browser's own prompt; opened again (the stroke dropped), the
  // pre-label is accepted.
  const roomUrl = page.url();
  const confirmed = nextDialog(page, false);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects', exact: true }).click();
  assert.match((await confirmed).message, /Your mask strokes are not saved/);
  assert.equal(page.url(), roomUrl, 'still in the reading room');
  await attributeIs('data-unsaved', true);
  const asked = nextDialog(page, true);
  await page.reload();
  assert.equal((await asked).type, 'beforeunload');
  await page.locator('canvas[data-first-slice-ms]').waitFor({ timeout: 60_000 });
  await page.getByRole('heading', { name: 'Pre-labels (2 to decide, 1 decided)' }).waitFor();
  await panel.getByRole('button', { name: 'Liver lesion: 1024 voxels · present · score 0.90' }).click();
  await attributeIs('data-overlay-voxels', accepted.count);
  await page.keyboard.press('Shift+A');
  await page.getByText('Pre-label accepted: the model\'s Liver lesion is your mask version 1, and your label of it rests on that version.').waitFor();
  // The viewer shows the new version as the drawing: exactly the model's voxels.
  await attributeIs('data-painted-voxels', accepted.count);
  await r.shot('accepted');
  const maskNow = async () => {
    const res = await r.context.request.get(`${env.server.url}/api/v1/items/${item_id}/mask`);
    assert.equal(res.status(), 200, await res.text());
    return niftiForeground(await res.body());
  };
  assert.deepEqual(await maskNow(), runsSet(accepted.runs), 'the stored mask is the pre-label voxel for voxel');
  const maskLabels = async () => (await r.api('GET', `/api/v1/items/${item_id}/annotations`)).json.data
    .filter((a) => a.author === reader1.id && a.evidence.kind === 'mask');
  let labels = await maskLabels();
  assert.equal(labels.length, 1);
  assert.equal(labels[0].origin, 'prelabel:lesionnet@1');
  assert.deepEqual(labels[0].evidence.data, { version: 1 });
  assert.equal(labels[0].uncertainty.confidence, 0.9, 'the model\'s score is the reader\'s confidence');
  const acceptedLabel = labels[0].id;

  // Correcting the other: painted into the drawing (the class's voxels become the model's), the
  // overlay still shown; saving the mask records the correction.
  await page.getByRole('heading', { name: 'Pre-labels (1 to decide, 2 decided)' }).waitFor();
  await attributeIs('data-overlay-voxels', corrected.count);
  // The overlay's opacity slider, moved with the keyboard: its value shows at once, NiiVue's
  // textures are rebuilt once it rests, not for every step.
  const updates = async () => Number(await canvas.getAttribute('data-overlay-updates') ?? '0');
  const before = await updates();
  const opacity = page.getByRole('group', { name: 'Pre-label overlay' }).getByRole('slider', { name: 'opacity' });
  await opacity.focus();
  for (let i = 0; i < 6; ++i) await page.keyboard.press('ArrowRight');
  assert.equal(await opacity.getAttribute('aria-valuetext'), '80%');
  await attributeIs('data-overlay-opacity', 0.8);
  await page.waitForTimeout(500);
  const rebuilds = (await updates()) - before;
  console.log(`opacity: 6 steps, ${rebuilds} texture rebuild(s)`);
  assert.ok(rebuilds >= 1 && rebuilds <= 2, `6 steps of the slider rebuilt the textures ${rebuilds} times`);
  await page.locator('.canvas-wrap canvas').focus();
  await page.keyboard.press('Shift+C');
  await page.getByText(/^The model's Liver lesion is painted into your drawing/).waitFor();
  await attributeIs('data-painted-voxels', corrected.count);
  await attributeIs('data-unsaved', true);
  await r.shot('correcting');
  await page.keyboard.press('Control+m');
  await page.locator('.notice[role="status"]').getByText('Mask version 2 saved; your labels resting on it: Liver lesion (the corrected pre-label).').waitFor();
  await page.getByRole('heading', { name: 'Pre-labels (0 to decide, 3 decided)' }).waitFor();
  await attributeIs('data-overlay-voxels', 0);
  await r.shot('corrected');
  assert.deepEqual(await maskNow(), runsSet(corrected.runs));

  // Through the API: the three decisions, each the reader's own.
  decided = (await r.api('GET', `/api/v1/items/${item_id}/prelabels`)).json.data;
  assert.deepEqual(Object.fromEntries(decided.map((p) => [p.id, p.status])),
                   { [classification]: 'rejected', [segmentation]: 'accepted', [toCorrect]: 'corrected' });
  for (const p of decided) {
    assert.equal(p.decisions.length, 1, p.id);
    assert.equal(p.decisions[0].reader, reader1.id);
  }
  assert.equal(decided.find((p) => p.id === classification).decisions[0].annotation_id, null, 'a rejection makes no label');
  labels = await maskLabels();
  // One label of the class: the accepted one, now resting on the corrected version (its former
  // content in its history), with the corrected pre-label's origin and score.
  assert.equal(labels.length, 1, 'the correction replaced the label of its class, not joined it');
  const fix = labels.find((a) => a.id === decided.find((p) => p.id === toCorrect).decisions[0].annotation_id);
  assert.equal(fix?.id, acceptedLabel);
  assert.deepEqual(fix.evidence.data, { version: 2 });
  assert.equal(fix.origin, 'prelabel:lesionnet@2');
  assert.equal(fix.uncertainty.confidence, 0.6);
  const history = await r.api('GET', `/api/v1/annotations/${fix.id}/history`);
  assert.equal(history.status, 200, JSON.stringify(history.json));
  const former = history.json.data.find((e) => e.annotation.revision === 1);
  assert.deepEqual(former?.annotation.evidence.data, { version: 1 });
  assert.equal(former.annotation.origin, 'prelabel:lesionnet@1');
  assert.ok(history.json.data.some((e) => e.reason === `pre-label ${toCorrect} corrected`), JSON.stringify(history.json.data));
  // A second decision on the same pre-label is the server's 409.
  const again = await r.api('POST', `/api/v1/items/${item_id}/prelabels/${segmentation}/decision`, { decision: 'rejected' });
  assert.equal(again.status, 409, JSON.stringify(again.json));
  r.assertNoErrors();
}));
