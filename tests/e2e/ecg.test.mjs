// The ECG reading room on MIT-BIH record 100 (WFDB header, format-212 signal and .atr beat
// annotations from the sample data, uploaded through the API): the leads are drawn on the grid
// (dark trace pixels on the canvas), the reference annotations are listed as pre-labels at their
// sample times, keys move the window by the paper speed and zoom it, and the page opened again
// draws the record again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { demoForThisFile, screenshotsOnFailure } from './harness.mjs';
import { assign, demoProject, openFromQueue, sampleFile } from './project_setup.mjs';

const env = demoForThisFile();
const kPxPerSecond = (96 / 25.4) * 25;  // zoom 1, device scale 1: 25 mm/s at 96 px per inch

// Dark pixels (the traces) on the ECG canvas; the grid is pink and the paper white.
async function tracePixels(page) {
  return page.locator('.ecg-wrap canvas').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 90 && d[i + 1] < 90 && d[i + 2] < 90) ++dark;
    return dark;
  });
}

test('ECG reading room: the record on the grid, its pre-labels, moving and zooming, opened again', (t) => screenshotsOnFailure(async () => {
  const header = sampleFile(t, 'waveform/wfdb/100.hea');
  if (!header) return;
  const { manager, reader1, project_id } = await demoProject(env, 'ecg');
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
  // The pre-labels: record 100's reference beats, listed for the window shown at sample / 360 Hz.
  const references = (await r.api('GET', `/api/v1/items/${item_id}/waveform/annotations`)).json;
  const firstN = references.find((a) => a.symbol === 'N');
  await page.getByRole('button', { name: `N ${firstN.label} at ${(firstN.sample / 360).toFixed(3)} s` }).waitFor();
  // Keys: the next window (0.9 of the 8.x s shown at 25 mm/s), zoom in.
  const windowText = () => page.locator('.ecg-room .toolbar .muted').innerText();
  const seconds = (box.width / kPxPerSecond).toFixed(3);
  assert.equal(await windowText(), `25 mm/s · ×1 · 0.000–${seconds} s`);
  await canvas.focus();
  await page.keyboard.press('Shift+ArrowRight');
  await page.waitForFunction((s) => document.querySelector('.ecg-room .toolbar .muted')?.textContent?.includes(`· ${s}–`),
                             (box.width / kPxPerSecond * 0.9).toFixed(3));
  await page.keyboard.press('+');
  await page.getByText(/25 mm\/s · ×1\.5 ·/).waitFor();
  await page.locator('.ecg-wrap canvas[data-window-drawn="true"]').waitFor();
  await r.shot('moved');

  // Opened again: the traces are drawn again.
  await page.reload();
  await page.waitForFunction(() => Number(document.querySelector('.ecg-wrap canvas')?.getAttribute('data-samples-drawn') ?? 0) > 1000,
                             null, { timeout: 60_000 });
  assert.ok(await tracePixels(page) > 2000, 'the traces are drawn again');
  await r.shot('reopened');
  r.assertNoErrors();
}));
