// The ECG reading room on MIT-BIH record 100 (WFDB header, format-212 signal and .atr beat
// annotations from the sample data, uploaded through the API): the leads are drawn on the grid
// (dark trace pixels on the canvas), the reference annotations are listed as pre-labels at their
// sample times, a drag makes an interval with the class and confidence chosen, a click a beat
// label of the class chosen by its key, a reference annotation is accepted as a beat (A) and the
// next rejected (X), Ctrl+M saves them (checked through the API, the interval's onset and offset
// against the pixels dragged at 25 mm/s), keys move the window by the paper speed and zoom it,
// and the page opened again shows the labels.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { demoForThisFile, nextDialog, screenshotsOnFailure } from './harness.mjs';
import { assign, classKey, demoProject, openFromQueue, sampleFile } from './project_setup.mjs';

const env = demoForThisFile();
const kPxPerSecond = (96 / 25.4) * 25;  // zoom 1, device scale 1: 25 mm/s at 96 px per inch

const kClasses = [
  { id: 'st_depression', name: 'ST depression episode', kind: 'classification', data_types: ['waveforms'],
    codes: [{ system: 'SNOMED CT', code: '26141007' }], definition: 'An episode of ST depression (test class).' },
  { id: 'normal_beat', name: 'Normal beat', kind: 'classification', data_types: ['waveforms'],
    definition: 'A normal sinus beat (test class).' },
];

// Dark pixels (the traces) on the ECG canvas; the grid is pink and the paper white.
async function tracePixels(page) {
  return page.locator('.ecg-wrap canvas').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 90 && d[i + 1] < 90 && d[i + 2] < 90) ++dark;
    return dark;
  });
}

test('ECG reading room: an interval, a beat, a pre-label accepted and one rejected, saved and shown again; keys', (t) => screenshotsOnFailure(async () => {
  const header = sampleFile(t, 'waveform/wfdb/100.hea');
  if (!header) return;
  const { manager, reader1, project_id } = await demoProject(env, 'ecg', 'waveforms', kClasses);
  const parts = {};
  for (const f of [header, header.replace(/\.hea$/, '.dat'), header.replace(/\.hea$/, '.atr')]) {
    parts[basename(f)] = { name: basename(f), mimeType: 'application/octet-stream', buffer: readFileSync(f) };
  }
  const created = await manager.upload(`/api/v1/projects/${project_id}/waveforms`, parts);
  assert.equal(created.status, 200, JSON.stringify(created.json));
  assert.equal(created.json.records.length, 1, JSON.stringify(created.json));
  const { item_id } = created.json.records[0];
  await assign(manager, item_id, reader1.id);

  const r = await openFromQueue(env, 'ecg', 'reader1', 'waveforms', item_id);
  const { page } = r;
  const canvas = page.locator('.ecg-wrap canvas');
  await page.waitForFunction(() => Number(document.querySelector('.ecg-wrap canvas')?.getAttribute('data-samples-drawn') ?? 0) > 1000,
                             null, { timeout: 60_000 });
  const dark = await tracePixels(page);
  console.log(`ECG drawn: ${await canvas.getAttribute('data-samples-drawn')} samples, ${dark} dark pixels`);
  assert.ok(dark > 2000, `the traces are drawn (${dark} dark pixels)`);
  await r.shot('ecg');

  const box = await canvas.boundingBox();
  const y = box.y + 60;  // over the first lead
  // The pre-labels: record 100's reference beats, listed for the window shown at sample / 360 Hz.
  const references = (await r.api('GET', `/api/v1/items/${item_id}/waveform/annotations`)).json;
  const firstN = references.find((a) => a.symbol === 'N');
  const firstNButton = page.getByRole('button', { name: `N ${firstN.label} at ${(firstN.sample / 360).toFixed(3)} s` });
  await firstNButton.waitFor();

  // A drag from 200 px to 300 px over the first lead: an interval of the first class.
  await page.locator('.markup-form').getByLabel('Interval or beat class').selectOption('st_depression');
  await page.locator('.markup-form').getByLabel('Interval or beat confidence').fill('0.9');
  await page.mouse.move(box.x + 200, y);
  await page.mouse.down();
  await page.mouse.move(box.x + 250, y, { steps: 5 });
  await page.mouse.move(box.x + 300, y, { steps: 5 });
  await page.mouse.up();
  await page.getByRole('button', { name: /^ST depression episode: / }).waitFor();
  // Its key (Shift+F1...) chooses the beat class; a click at 400 px makes a beat of it.
  await canvas.focus();
  const classPicker = page.locator('.markup-form').getByLabel('Interval or beat class');
  await page.keyboard.press(await classKey(classPicker, 'normal_beat'));
  assert.equal(await classPicker.inputValue(), 'normal_beat');
  await page.mouse.click(box.x + 400, y);
  await page.getByRole('button', { name: /^Beat: Normal beat at / }).waitFor();
  // A second beat at 500 px, picked from the list and deleted: only the first stays.
  await page.mouse.click(box.x + 500, y);
  await page.getByText(/^Your intervals \(1\) and beats \(2\)/).waitFor();
  const second = page.getByRole('button', { name: /^Beat: Normal beat at / }).nth(1);
  const secondText = await second.innerText();
  await second.click();
  await page.getByRole('button', { name: /^Delete the selected beat/ }).click();
  await page.getByText(/^Your intervals \(1\) and beats \(1\)/).waitFor();
  assert.equal(await page.getByRole('button', { name: secondText }).count(), 0, `${secondText} is gone`);
  // Unsaved work: leaving through a link asks first; staying keeps everything.
  const roomUrl = page.url();
  const asked = nextDialog(page, false);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects', exact: true }).click();
  assert.match((await asked).message, /ECG intervals and beats are not saved/);
  await page.getByText(/^Your intervals \(1\) and beats \(1\)/).waitFor();
  assert.equal(page.url(), roomUrl, 'still in the reading room');
  // The first reference "N" beat picked and accepted with A: a normal beat at the reference time;
  // the next pre-label (now picked) rejected with X: it leaves no beat.
  await firstNButton.click();
  await page.keyboard.press('a');
  await firstNButton.waitFor({ state: 'hidden' });
  await page.keyboard.press('x');
  await page.getByRole('heading', { name: new RegExp(`^Pre-labels in view \\(\\d+ of ${references.length - 2} open\\)$`) }).waitFor();
  await r.shot('labelled');
  await page.keyboard.press('Control+m');
  await page.getByRole('status').getByText('Labels version 1 saved (1 interval, 2 beats).').waitFor();
  await r.shot('saved');

  // Through the API.
  const saved = (await r.api('GET', `/api/v1/items/${item_id}/intervals`)).json;
  assert.equal(saved.version, 1);
  assert.equal(saved.intervals.length, 1);
  const [iv] = saved.intervals;
  assert.equal(iv.class, 'st_depression');
  assert.equal(iv.confidence, 0.9);
  assert.ok(Math.abs(iv.onset_s - 200 / kPxPerSecond) < 0.02, `onset ${iv.onset_s} s at 200 px`);
  assert.ok(Math.abs(iv.offset_s - 300 / kPxPerSecond) < 0.02, `offset ${iv.offset_s} s at 300 px`);
  const times = saved.beats.map((b) => b.time_s).sort((a, b) => a - b);
  assert.equal(saved.beats.length, 2);
  assert.ok(saved.beats.every((b) => b.class === 'normal_beat'));
  assert.ok(Math.abs(times[0] - firstN.sample / 360) < 0.002, `the accepted pre-label at sample ${firstN.sample} (360 Hz)`);
  assert.ok(Math.abs(times[1] - 400 / kPxPerSecond) < 0.02, `the clicked beat at 400 px: ${times[1]} s`);

  // Keys: the next window (0.9 of the 8.x s shown at 25 mm/s), zoom in.
  const windowText = () => page.locator('.ecg-room .toolbar .muted').innerText();
  assert.equal(await windowText(), `25 mm/s · ×1 · 0.000–${(box.width / kPxPerSecond).toFixed(3)} s`);
  await canvas.focus();
  await page.keyboard.press('Shift+ArrowRight');
  await page.waitForFunction((s) => document.querySelector('.ecg-room .toolbar .muted')?.textContent?.includes(`· ${s}–`),
                             (box.width / kPxPerSecond * 0.9).toFixed(3));
  await page.keyboard.press('+');
  await page.getByText(/25 mm\/s · ×1\.5 ·/).waitFor();
  await page.locator('.ecg-wrap canvas[data-window-drawn="true"]').waitFor();
  await r.shot('moved');

  // Opened again: the interval and the beats are back, the traces too.
  await page.reload();
  await page.getByRole('button', { name: /^ST depression episode: / }).waitFor({ timeout: 60_000 });
  await page.getByText(/Your intervals \(1\) and beats \(2\), saved as version 1/).waitFor();
  await page.waitForFunction(() => Number(document.querySelector('.ecg-wrap canvas')?.getAttribute('data-samples-drawn') ?? 0) > 1000);
  assert.ok(await tracePixels(page) > 2000, 'the traces are drawn again');
  await r.shot('reopened');
  r.assertNoErrors();
}));
