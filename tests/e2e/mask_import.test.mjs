// Importing a mask file in the volume reading room (docs/web.md): the CT series a sample DICOM-SEG
// was drawn on (dicom-seg/source-ct-16x16 of CALIPER_SAMPLE_DATA: highdicom's SEG on pydicom's
// CT downsized to 16×16, its three regularly spaced slices) is sent over STOW-RS by the manager,
// who has published a Bone segmentation class with the SEG's segment code (SCT 272673000), and
// assigned to reader 1. In the room, Shift+I opens the file chooser: the SEG of the overlapping
// segments, which reaches a slice the item does not hold, is refused with the server's message;
// the binary SEG becomes the reader's mask version 1 (the room reads its first bytes: DICM at
// 128, sent as application/dicom), the drawing shows its voxels and a label of Bone rests on it;
// through the API the stored mask holds exactly as many Bone voxels as the SEG's frames have set
// bits. Then, with a stroke not saved, files dropped on the viewer: an empty one, two at once and
// one over 256 MiB are refused in the browser without a question; a NIfTI shifted by 3 mm (made
// here from the item's own volume header) asks first (dismissed: nothing is sent); accepted, the
// server's refusal naming the misaligned voxel is shown and the drawing is as it was. Once the
// reading is submitted the room offers no import.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { demoForThisFile, nextDialog, screenshotsOnFailure } from './harness.mjs';
import { assign, demoProject, openFromQueue, sampleFile, stow as stowAs, strokeOnCanvas } from './project_setup.mjs';

const env = demoForThisFile();
const kSeries = 'dicom-seg/source-ct-16x16';
// The three slices the SEGs' frames lie on (17106 is off the series' spacing: docs/imaging.md).
const kSlices = ['17136.dcm', '17166.dcm', '17196.dcm'];

const stow = (user, project_id, instances) => stowAs(user, env.server, project_id, instances);

// The set bits of a BINARY segmentation's Pixel Data (7FE0,0010), the last element of the file:
// one bit a voxel, frames packed one after another (the end padded with zero bits). Implicit or
// explicit VR little endian (OB: 2 reserved bytes, then a 4-byte length).
function segVoxels(bytes) {
  const at = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  assert.ok(at > 132, 'the SEG has Pixel Data');
  const explicit = bytes.toString('latin1', at + 4, at + 6) === 'OB';
  const length = explicit ? bytes.readUInt32LE(at + 8) : bytes.readUInt32LE(at + 4);
  const start = at + (explicit ? 12 : 8);
  assert.equal(start + length, bytes.length, 'Pixel Data ends the file');
  let n = 0;
  for (let i = start; i < start + length; ++i) for (let v = bytes[i]; v; v >>= 1) n += v & 1;
  return n;
}

// How many voxels of a NIfTI-1 label map (.nii.gz, uint8) hold `label`, and its dimensions.
function niftiCount(gz, label) {
  const b = gunzipSync(gz);
  assert.equal(b.readInt16LE(70), 2, 'uint8 label map');
  const offset = b.readFloatLE(108);
  let n = 0;
  for (let i = offset; i < b.length; ++i) n += b[i] === label ? 1 : 0;
  return { count: n, dims: [1, 2, 3].map((i) => b.readInt16LE(40 + 2 * i)) };
}

// A uint8 label map on the grid of the NIfTI volume `volumeGz` moved `mm` along x (its sform
// and qform offsets), every voxel `label`.
function shiftedLabelMap(volumeGz, mm, label) {
  const v = gunzipSync(volumeGz);
  const header = Buffer.from(v.subarray(0, 352));
  const [nx, ny, nz] = [1, 2, 3].map((i) => header.readInt16LE(40 + 2 * i));
  header.writeInt16LE(2, 70);        // datatype uint8
  header.writeInt16LE(8, 72);        // bitpix
  header.writeFloatLE(352, 108);     // vox_offset
  header.writeFloatLE(1, 112);       // scl_slope
  header.writeFloatLE(0, 116);       // scl_inter
  header.writeFloatLE(header.readFloatLE(268) + mm, 268);  // qoffset_x
  header.writeFloatLE(header.readFloatLE(292) + mm, 292);  // srow_x[3]
  return gzipSync(Buffer.concat([header, Buffer.alloc(nx * ny * nz, label)]));
}

test('volume reading room: a DICOM-SEG imported as the reader\'s mask; a misaligned NIfTI dropped on the viewer is refused', (t) => screenshotsOnFailure(async () => {
  const slices = kSlices.map((name) => sampleFile(t, `${kSeries}/${name}`));
  const segPath = sampleFile(t, 'dicom-seg/seg_image_ct_binary.dcm');
  const overlapPath = sampleFile(t, 'dicom-seg/seg_image_ct_binary_overlap.dcm');
  if (slices.includes(null) || !segPath || !overlapPath) return;
  const { manager, reader1, project_id } = await demoProject(env, 'mask_import', 'imaging', [
    { id: 'bone', name: 'Bone', kind: 'segmentation', definition: 'bone', data_types: ['imaging'],
      codes: [{ system: 'SNOMED CT', code: '272673000', display: 'Bone' }] },
  ]);
  // The server's label of Bone: its place among the guideline's segmentation classes, from 1.
  const guidelines = (await manager.api('GET', `/api/v1/projects/${project_id}/guidelines`)).json.data;
  const current = guidelines.filter((g) => g.status === 'published').sort((a, b) => b.version - a.version)[0];
  const boneLabel = current.schema.classes.filter((c) => c.kind === 'segmentation').findIndex((c) => c.id === 'bone') + 1;
  assert.ok(boneLabel > 0);

  const stowed = await stow(manager, project_id, slices.map((p) => readFileSync(p)));
  assert.equal(stowed.status, 200, JSON.stringify(stowed.json));
  assert.equal(stowed.json.series.length, 1, JSON.stringify(stowed.json));
  assert.deepEqual(stowed.json.series[0].volume, { dims: [16, 16, 3] }, JSON.stringify(stowed.json));
  const item_id = stowed.json.series[0].item_id;
  const task = await assign(manager, item_id, reader1.id);

  const r = await openFromQueue(env, 'mask_import', 'reader1', 'imaging', item_id);
  const { page } = r;
  const canvas = page.locator('.canvas-wrap canvas');
  await page.locator('canvas[data-first-slice-ms]').waitFor({ timeout: 60_000 });
  const attributeIs = async (name, value) => {
    await page.waitForFunction(([n, v]) => document.querySelector('.canvas-wrap canvas')?.getAttribute(n) === v,
                               [name, String(value)], { timeout: 60_000 });
  };
  await attributeIs('data-painted-voxels', 0);
  const maskPuts = async () => (await r.api('GET', `/api/v1/items/${item_id}/mask`)).status;
  // The key is in the help overlay.
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  assert.match(await help.innerText(), /Shift\+i\s+Import a mask file \(NIfTI or DICOM-SEG\) as your next mask version/);
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
  const importFile = async (path) => {
    const chooser = page.waitForEvent('filechooser');
    await canvas.focus();
    await page.keyboard.press('Shift+I');
    await (await chooser).setFiles(path);
  };
  const refusal = page.getByRole('alert').filter({ hasText: /^The mask file was not imported/ });

  // A SEG with a frame on a slice the item does not hold: the server's reason, nothing stored.
  await importFile(overlapPath);
  await refusal.waitFor();
  assert.match(await refusal.innerText(),
               /^The mask file was not imported: the DICOM-SEG: .*lies on no slice of the volume.*\(invalid_argument\)$/);
  await page.getByText('seg_image_ct_binary_overlap.dcm was not imported; the drawing is unchanged.').waitFor();
  assert.equal(await maskPuts(), 404, 'no mask version was stored');
  await r.shot('seg-refused');

  // The binary SEG: the reader's mask version 1, shown as the drawing, Bone's label on it.
  const segBytes = readFileSync(segPath);
  const expected = segVoxels(segBytes);
  assert.ok(expected > 0);
  await importFile(segPath);
  await page.locator('.notice[role="status"]')
    .getByText('seg_image_ct_binary.dcm imported as your mask version 1; your labels resting on it: Bone (created).').waitFor();
  await refusal.waitFor({ state: 'detached' });
  await attributeIs('data-painted-voxels', expected);
  assert.notEqual(await canvas.getAttribute('data-unsaved'), 'true', 'the imported mask is saved');
  await r.shot('seg-imported');
  const mask = await r.context.request.get(`${env.server.url}/api/v1/items/${item_id}/mask`);
  assert.equal(mask.status(), 200, await mask.text());
  const stored = niftiCount(await mask.body(), boneLabel);
  assert.deepEqual(stored.dims, [16, 16, 3]);
  console.log(`DICOM-SEG imported: ${stored.count} Bone voxels stored, ${expected} set in the SEG`);
  assert.equal(stored.count, expected, 'the stored mask holds the SEG\'s voxels as Bone');
  const labels = (await r.api('GET', `/api/v1/items/${item_id}/annotations`)).json.data
    .filter((a) => a.author === reader1.id && a.evidence.kind === 'mask');
  assert.equal(labels.length, 1);
  assert.equal(labels[0].label.class, 'bone');
  assert.deepEqual(labels[0].evidence.data, { version: 1 });

  // A stroke not saved (the eraser across the middle of the slice: most of it is Bone), then a
  // NIfTI 3 mm off the volume's grid dropped on the viewer.
  await canvas.focus();
  await strokeOnCanvas(page, canvas, 'e', [0.3, 0.5], [0.7, 0.5], 12);
  await attributeIs('data-unsaved', true);
  // The painted count follows the stroke's frames: wait for it to drop (a fixed 400 ms was too
  // short on a loaded machine).
  await page.waitForFunction((n) => Number(document.querySelector('.canvas-wrap canvas')
    ?.getAttribute('data-painted-voxels')) < n, expected, { timeout: 10000 }).catch(() => {});
  const withStroke = await canvas.getAttribute('data-painted-voxels');
  assert.ok(Number(withStroke) < expected, `the stroke erased voxels (${withStroke} of ${expected} left)`);
  const volume = await r.context.request.get(`${env.server.url}/api/v1/items/${item_id}/volume.nii.gz`);
  assert.equal(volume.status(), 200);
  const shifted = shiftedLabelMap(await volume.body(), 3, boneLabel);
  // Files dropped on the viewer: each {name, bytes} (a Buffer) or {name, size} (zeros made in
  // the page).
  const dropFiles = async (files) => {
    const dataTransfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) {
        const bytes = f.b64 !== undefined ? Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0)) : new Uint8Array(f.size);
        dt.items.add(new File([bytes], f.name));
      }
      return dt;
    }, files.map((f) => (f.bytes ? { name: f.name, b64: f.bytes.toString('base64') } : f)));
    const wrap = page.locator('.canvas-wrap');
    await wrap.dispatchEvent('dragover', { dataTransfer });
    await wrap.dispatchEvent('drop', { dataTransfer });
    await dataTransfer.dispose();
  };
  const drop = () => dropFiles([{ name: 'shifted.nii.gz', bytes: shifted }]);
  // Refused in the browser, before any question or request: an empty file, two files, a file
  // over the limit (256 MiB).
  let dialogs = 0;
  const countDialogs = () => { dialogs += 1; };
  page.on('dialog', countDialogs);
  for (const [files, why] of [
    [[{ name: 'empty.nii', bytes: Buffer.alloc(0) }], 'empty.nii is empty.'],
    [[{ name: 'a.nii.gz', bytes: shifted }, { name: 'b.nii.gz', bytes: shifted }],
     '2 files were dropped; drop one mask file (NIfTI or DICOM-SEG).'],
    [[{ name: 'huge.nii', size: 256 * 1024 * 1024 + 1 }],
     'huge.nii is 268,435,457 bytes, larger than the 256 MiB a mask file may have. Nothing was sent.'],
  ]) {
    await dropFiles(files);
    await page.waitForFunction((text) => [...document.querySelectorAll('[role="alert"]')].some((e) => e.textContent === text),
                               `The mask file was not imported: ${why}`);
  }
  await r.shot('refused-in-browser');
  page.off('dialog', countDialogs);
  assert.equal(dialogs, 0, 'nothing asked');
  assert.equal(await canvas.getAttribute('data-painted-voxels'), withStroke);
  // Asked first; staying keeps the stroke and sends nothing.
  let asked = nextDialog(page, false);
  await drop();
  assert.match((await asked).message, /^Your drawing has strokes that are not saved\. Replace it with shifted\.nii\.gz\?/);
  await attributeIs('data-unsaved', true);
  // Accepted: the server refuses the grid, says where, and the drawing keeps the stroke.
  asked = nextDialog(page, true);
  await drop();
  await asked;
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /^The mask file was not imported: mask voxel \(0,0,0\) is at .* mm LPS but the volume's is at .*\(invalid_argument\)$/);
  await page.getByText('shifted.nii.gz was not imported; the drawing is unchanged.').waitFor();
  assert.equal(await page.locator('.notice[role="status"]').count(), 0, 'the import notice of the SEG is gone');
  assert.equal(await canvas.getAttribute('data-painted-voxels'), withStroke, 'the drawing is as it was');
  assert.equal(await canvas.getAttribute('data-unsaved'), 'true');
  await r.shot('nifti-refused');
  assert.equal(niftiCount(await (await r.context.request.get(`${env.server.url}/api/v1/items/${item_id}/mask`)).body(), boneLabel).count,
               expected, 'still version 1');
  const versions = (await r.api('GET', `/api/v1/items/${item_id}/annotations`)).json.data
    .filter((a) => a.author === reader1.id && a.evidence.kind === 'mask').map((a) => a.evidence.data.version);
  assert.deepEqual(versions, [1]);

  // Submitted, the reading can no longer change: no import (nor its key). Reloading asks about
  // the stroke first (the browser's prompt, accepted).
  const submitted = await r.api('POST', `/api/v1/projects/${project_id}/tasks/${task.id}/submit`);
  assert.equal(submitted.status, 200, JSON.stringify(submitted.json));
  asked = nextDialog(page, true);
  await page.reload();
  assert.equal((await asked).type, 'beforeunload');
  await page.locator('canvas[data-first-slice-ms]').waitFor({ timeout: 60_000 });
  await page.getByText(/^This reading is submitted/).waitFor();
  assert.equal(await page.getByRole('button', { name: /^Import mask/ }).count(), 0, 'no import in a read-only room');
  let chose = false;
  page.once('filechooser', () => { chose = true; });
  await canvas.focus();
  await page.keyboard.press('Shift+I');
  await page.waitForTimeout(300);
  assert.equal(chose, false, 'Shift+I opens no file chooser');
  await r.shot('read-only');
  r.assertNoErrors();
  manager.assertNoErrors();
}));
