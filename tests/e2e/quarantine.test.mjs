// The DICOM screens against a real `caliper demo`.
//
// Quarantine: two CT slices of the sample data, copied and marked Burned In Annotation = YES with
// DCMTK's dcmodify (nothing is committed), are uploaded over STOW-RS by the manager and held in
// the quarantine. A data steward opens the quarantine screen from the project home (which counts
// the pending entries), sees the entries and a frame (one of one), draws a rectangle with the
// mouse and blanks it with a reason; the screen moves on to the second entry, which is
// discarded. Through the API the first is "blanked" with the rectangle in image pixels and its
// item exists; the second is "discarded". A decision on a third entry that a second steward
// released meanwhile is refused with the server's message, and the list is read again; the home
// then counts none pending. A manager and a reader get no link and the server's refusal.
//
// Compressed ultrasound: a JPEG baseline US instance made here (a BMP written by the test, made
// DICOM by DCMTK's img2dcm, JPEG-compressed by dcmcjpeg) is quarantined; the steward enters a
// rectangle with the keyboard and blanks it; the released item's instance, read back through the
// API and decoded by dcmj2pnm, is native and has zeros inside the rectangle, its picture outside.
//
// Settings: the manager sets options and a safe private element, which are there after a reload;
// a bad blanking rule shows the server's message and marks the rule; leaving with it unsaved asks.
//
// Sources: the manager lists the calling AE title CT1, which is there after a reload; the same
// title in a second project shows the server's 409, a title with a backslash its 400.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoForThisFile, newUser, nextDialog, screenshotsOnFailure } from './harness.mjs';
import { demoProject, sampleFile, stow as stowAs } from './project_setup.mjs';

const env = demoForThisFile();
const kSeries = 'dicom-series/ct-head-gantry-tilt-dcm_qa_ct';
const shortId = (id) => `${id.slice(0, 4)}…${id.slice(-5)}`;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The bytes of a copy of `path` with Burned In Annotation (0028,0301) = YES: an instance at
// burned-in risk, which ingest quarantines (the copy lives in a temporary folder).
function markedBurnedIn(path) {
  const dir = mkdtempSync(join(tmpdir(), 'caliper_quarantine_'));
  try {
    const copy = join(dir, 'instance.dcm');
    copyFileSync(path, copy);
    execFileSync('dcmodify', ['-nb', '-i', '(0028,0301)=YES', copy]);
    return readFileSync(copy);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const stow = (user, project_id, instances) => stowAs(user, env.server, project_id, instances);

async function grantRole(admin, project_id, user_id, role) {
  const members = (await admin.api('GET', `/api/v1/projects/${project_id}/members`)).json.data;
  const m = members.find((x) => x.user_id === user_id);
  if (m.roles.includes(role)) return;
  const res = await admin.api('PUT', `/api/v1/projects/${project_id}/members/${user_id}`,
                              { roles: [...m.roles, role], scopes: m.scopes });
  assert.equal(res.status, 200, JSON.stringify(res.json));
}

// On an open pending entry with one rectangle: B opens the blank form, `reason` is typed, the
// button pressed and the browser's confirmation accepted.
async function blankWithReason(page, reason) {
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('b');
  const blankForm = page.getByRole('form', { name: 'Blank this instance' });
  await blankForm.getByLabel(/^Reason/).fill(reason);
  const confirmed = nextDialog(page, true);
  await blankForm.getByRole('button', { name: 'Blank and release' }).click();
  assert.match((await confirmed).message, /^Blank 1 rectangle in every frame/);
}

// `user` has no link named `link` on the demo project's home, and the page at `path` shows the
// server's refusal of `permission`.
async function refused(user, link, path, permission) {
  await user.page.goto(env.server.url + '/');
  await user.page.getByRole('link', { name: /Demo/ }).click();
  await user.page.getByRole('heading', { name: 'Progress' }).waitFor();
  assert.equal(await user.page.getByRole('link', { name: link }).count(), 0, `no ${link} link`);
  await user.page.goto(env.server.url + path);
  await user.page.getByRole('heading', { name: 'This page cannot be shown' }).waitFor();
  assert.match(await user.page.getByRole('alert').innerText(), new RegExp(`'${permission}' permission.*\\(permission_denied\\)`));
  await user.shot(`refused-${link.replace(/\W+/g, '-')}`);
}

test('quarantine: a data steward blanks a drawn rectangle and discards another entry; others are refused', (t) => screenshotsOnFailure(async () => {
  const first = sampleFile(t, `${kSeries}/01.dcm`);
  const second = sampleFile(t, `${kSeries}/02.dcm`);
  const third = sampleFile(t, `${kSeries}/03.dcm`);
  if (!first || !second || !third) return;
  const { admin, manager, project_id } = await demoProject(env, 'quarantine');
  const users = (await admin.api('GET', '/api/v1/users')).json.data;
  const stewardUser = users.find((u) => u.username === 'auditor');
  await grantRole(admin, project_id, stewardUser.id, 'data_steward');

  const stored = await stow(manager, project_id, [markedBurnedIn(first), markedBurnedIn(second)]);
  assert.equal(stored.status, 202, JSON.stringify(stored.json));
  assert.equal(stored.json.quarantined, 2, JSON.stringify(stored.json));
  // Listed by id (the server's order): the first is blanked, the second discarded.
  const [id1, id2] = stored.json.files.map((f) => f.quarantine_id).sort();
  const base = `/api/v1/projects/${project_id}/quarantine`;

  // The steward finds the screen on the project home.
  const s = await newUser(env.browser, env.server, 'quarantine', 'steward');
  await s.signIn('auditor');
  await s.page.getByRole('link', { name: /Demo/ }).click();
  await s.page.getByRole('link', { name: 'Quarantine review (2 pending)', exact: true }).click();
  await s.page.getByRole('heading', { name: 'Quarantine review' }).waitFor();
  const rows = s.page.locator('table.quarantine tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2);
  for (const text of await rows.allInnerTexts()) assert.match(text, /^CT .*\tBurned In Annotation = YES\t.*\t\S+\tpending$/s);
  await s.shot('pending');

  // N opens the first pending entry: its frame, as stored (512 x 512).
  await s.page.keyboard.press('n');
  await s.page.getByRole('heading', { name: `CT ${shortId(id1)}: pending` }).waitFor();
  const img = s.page.getByRole('img', { name: 'Frame 1 as stored' });
  await img.waitFor();
  assert.deepEqual(await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]), [512, 512]);
  // The server says how many frames there are: one, so there is no next frame.
  await s.page.getByText('Frame 1 of 1').waitFor();
  await s.page.getByText('512 × 512 px').waitFor();
  assert.equal(await s.page.getByRole('button', { name: 'Next frame' }).isDisabled(), true);
  await s.page.keyboard.press('ArrowRight');
  await s.page.getByText('Frame 1 of 1').waitFor();

  // A rectangle dragged with the mouse, read in image pixels (the frame is shown smaller or larger).
  const overlay = s.page.locator('svg.frame-overlay');
  const box = await overlay.boundingBox();
  assert.ok(Math.abs(box.width - 512) > 1, `the frame is scaled on screen (${box.width} px wide), so scaling is tested`);
  const screen = (x, y) => [box.x + (x * box.width) / 512, box.y + (y * box.height) / 512];
  await s.page.mouse.move(...screen(40, 20));
  await s.page.mouse.down();
  await s.page.mouse.move(...screen(170, 50), { steps: 4 });
  await s.page.mouse.move(...screen(300, 80), { steps: 4 });
  await s.page.mouse.up();
  const rect1 = s.page.getByRole('group', { name: 'Rectangle 1' });
  await rect1.waitFor();
  const drawn = {};
  for (const k of ['x', 'y', 'width', 'height']) drawn[k] = Number(await rect1.getByLabel(k).inputValue());
  const near = (a, b) => Math.abs(a - b) <= 2;
  assert.ok(near(drawn.x, 40) && near(drawn.y, 20) && near(drawn.width, 260) && near(drawn.height, 60),
            `the drawn rectangle in image pixels: ${JSON.stringify(drawn)}`);
  await s.shot('rectangle-drawn');

  // B opens the blank decision; its reason field takes the keys; the confirmation is accepted.
  await blankWithReason(s.page, 'Patient name in the top band');
  await s.page.getByText(/blanked \(1 rectangle\) and stored in item .* The next pending entry is open\./).waitFor();
  await s.page.getByRole('heading', { name: `CT ${shortId(id2)}: pending` }).waitFor();
  await s.shot('blanked-next-open');

  const blanked = (await s.api('GET', `${base}/${id1}`)).json;
  assert.equal(blanked.status, 'blanked');
  assert.equal(blanked.decided_by, stewardUser.id);
  assert.equal(blanked.reason, 'Patient name in the top band');
  assert.deepEqual(blanked.rects, [drawn]);
  assert.ok(blanked.item_id, 'the blanked instance went into an item');
  const item = await manager.api('GET', `/api/v1/items/${blanked.item_id}`);
  assert.equal(item.status, 200, JSON.stringify(item.json));
  assert.equal(item.json.modality, 'CT');

  // D: discard the second; the reason is required (the button waits for it).
  await s.page.keyboard.press('d');
  const discardForm = s.page.getByRole('form', { name: 'Discard this instance' });
  const discard = discardForm.getByRole('button', { name: 'Discard the instance' });
  assert.equal(await discard.isDisabled(), true, 'no discard without a reason');
  await discardForm.getByLabel(/^Reason/).fill('Identifiers all over the image');
  s.page.once('dialog', (d) => d.accept());
  await discard.click();
  await s.page.getByText(/discarded: its pixels are deleted\. No pending entry is left\./).waitFor();
  await s.page.getByText('Nothing is waiting for review.').waitFor();
  const discarded = (await s.api('GET', `${base}/${id2}`)).json;
  assert.equal(discarded.status, 'discarded');
  assert.equal(discarded.reason, 'Identifiers all over the image');
  assert.equal(discarded.item_id, null);
  assert.equal((await s.api('GET', `${base}/${id2}/frames/0.png`)).status, 404, 'the pixels are gone');

  // Decided entries: who, when, why, the rectangles.
  await s.page.getByLabel('Status').selectOption('blanked');
  await s.page.getByRole('button', { name: `CT ${shortId(id1)}` }).click();
  const decided = s.page.getByRole('region', { name: `CT ${shortId(id1)}: blanked` });
  await decided.waitFor();
  const facts = await decided.innerText();
  assert.match(facts, /Decided by\s+you/);
  assert.match(facts, /Patient name in the top band/);
  assert.match(facts, new RegExp(`x ${drawn.x}, y ${drawn.y}, ${drawn.width} × ${drawn.height} px`));
  await s.shot('decided');

  // A decision the server refuses: a third entry is released by a second steward while the
  // first has it open. The server's message is shown as an alert, and the list is read again
  // (the entry is no longer pending).
  const stowed3 = await stow(manager, project_id, [markedBurnedIn(third)]);
  assert.equal(stowed3.json.quarantined, 1, JSON.stringify(stowed3.json));
  const id3 = stowed3.json.files[0].quarantine_id;
  const reviewerUser = users.find((u) => u.username === 'reviewer');
  await grantRole(admin, project_id, reviewerUser.id, 'data_steward');
  const other = await newUser(env.browser, env.server, 'quarantine', 'second-steward');
  await other.signIn('reviewer');
  await s.page.getByLabel('Status').selectOption('pending');
  await s.page.getByRole('button', { name: `CT ${shortId(id3)}` }).click();
  await s.page.getByRole('heading', { name: `CT ${shortId(id3)}: pending` }).waitFor();
  await s.page.getByRole('button', { name: /^Release/ }).click();
  const releaseForm = s.page.getByRole('form', { name: 'Release this instance' });
  await releaseForm.getByLabel(/^Reason/).fill('No text in the pixels');
  const byOther = await other.api('POST', `${base}/${id3}/release`, { reason: 'Checked first' });
  assert.equal(byOther.status, 200, JSON.stringify(byOther.json));
  await releaseForm.getByRole('button', { name: 'Release the instance' }).click();
  const refusal = s.page.getByRole('alert');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), new RegExp(
    `^CT ${escape(shortId(id3))} was not decided\\. The server refused: quarantined instance ${id3} was already ` +
    `released by ${reviewerUser.id} at \\S+ \\(conflict\\)\\. The list was read again\\.$`));
  await s.page.getByText('Nothing is waiting for review.').waitFor();
  assert.equal(await rows.count(), 0, 'the entry released meanwhile is no longer listed as pending');
  await s.shot('refused-decided-meanwhile');
  const released = (await s.api('GET', `${base}/${id3}`)).json;
  assert.equal(released.status, 'released');
  assert.equal(released.decided_by, reviewerUser.id, 'the first decision stands');
  assert.equal(released.reason, 'Checked first');
  // The project home counts what is left: nothing.
  await s.page.locator('p.crumbs').getByRole('link').click();
  await s.page.getByRole('link', { name: 'Quarantine review (0 pending)', exact: true }).waitFor();

  // The manager and a reader: no link, and the server's refusal.
  await refused(manager, 'Quarantine review', `/projects/${project_id}/quarantine`, 'quarantine_review');
  const reader = await newUser(env.browser, env.server, 'quarantine', 'reader1');
  await reader.signIn('reader1');
  await refused(reader, 'Quarantine review', `/projects/${project_id}/quarantine`, 'quarantine_review');

  for (const u of [admin, manager, s, reader, other]) u.assertNoErrors();
}));

// A JPEG baseline ultrasound instance (Ultrasound Image Storage, YBR_FULL_422 after dcmcjpeg),
// `width` × `height` grey pixels of 80..179 (none zero), Burned In Annotation = YES. Made in a
// temporary folder by DCMTK from a 24-bit BMP written here; returns its bytes.
function jpegUltrasound(width, height) {
  const dir = mkdtempSync(join(tmpdir(), 'caliper_us_'));
  try {
    const row = Math.ceil((width * 3) / 4) * 4;
    const bmp = Buffer.alloc(54 + row * height);
    bmp.write('BM', 0);
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(width, 18);
    bmp.writeInt32LE(height, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    bmp.writeUInt32LE(row * height, 34);
    for (let y = 0; y < height; ++y) {
      for (let x = 0; x < width; ++x) bmp.fill(80 + ((x * 5 + y * 3) % 100), 54 + (height - 1 - y) * row + x * 3, 54 + (height - 1 - y) * row + x * 3 + 3);
    }
    writeFileSync(join(dir, 'us.bmp'), bmp);
    execFileSync('img2dcm', ['-i', 'BMP', '-k', '(0008,0060)=US', '-k', '(0028,0301)=YES', '-k', '(0010,0020)=US-E2E-1',
                             join(dir, 'us.bmp'), join(dir, 'native.dcm')]);
    execFileSync('dcmodify', ['-nb', '-m', '(0008,0016)=1.2.840.10008.5.1.4.1.1.6.1', join(dir, 'native.dcm')]);
    execFileSync('dcmcjpeg', ['+eb', join(dir, 'native.dcm'), join(dir, 'jpeg.dcm')]);
    return readFileSync(join(dir, 'jpeg.dcm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The transfer syntax of DICOM `bytes` and its first frame as 8-bit RGB (dcmj2pnm's PPM).
function decodeRgb(bytes) {
  const dir = mkdtempSync(join(tmpdir(), 'caliper_us_'));
  try {
    writeFileSync(join(dir, 'in.dcm'), bytes);
    const dump = execFileSync('dcmdump', ['-M', '-Un', join(dir, 'in.dcm')], { encoding: 'latin1' });
    const syntax = dump.match(/\(0002,0010\) UI \[([\d.]+)\]/)?.[1] ?? '';
    execFileSync('dcmj2pnm', ['+op', join(dir, 'in.dcm'), join(dir, 'out.ppm')]);
    const ppm = readFileSync(join(dir, 'out.ppm'));
    const header = ppm.toString('latin1', 0, 64).match(/^P6\s+(\d+)\s+(\d+)\s+255\s/);
    assert.ok(header, 'dcmj2pnm wrote an 8-bit PPM');
    return { syntax, width: Number(header[1]), height: Number(header[2]), rgb: ppm.subarray(header[0].length) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('quarantine: a JPEG-compressed ultrasound instance blanked with a rectangle entered by keyboard; the item\'s pixels zero inside it', () => screenshotsOnFailure(async () => {
  const [W, H] = [96, 64];
  const rect = { x: 10, y: 8, width: 30, height: 20 };
  const us = jpegUltrasound(W, H);
  assert.match(execFileSync('dcmdump', ['-M', '-Un', '-'], { input: us, encoding: 'latin1' }),
               /\(0002,0010\) UI \[1\.2\.840\.10008\.1\.2\.4\.50\]/, 'the instance is JPEG baseline');
  const { admin, manager, project_id } = await demoProject(env, 'quarantine');
  const stewardUser = (await admin.api('GET', '/api/v1/users')).json.data.find((u) => u.username === 'auditor');
  await grantRole(admin, project_id, stewardUser.id, 'data_steward');
  const stowed = await stow(manager, project_id, [us]);
  assert.equal(stowed.json.quarantined, 1, JSON.stringify(stowed.json));
  const id = stowed.json.files[0].quarantine_id;
  const base = `/api/v1/projects/${project_id}/quarantine`;

  const s = await newUser(env.browser, env.server, 'quarantine', 'steward-us');
  await s.signIn('auditor');
  await s.page.goto(`${env.server.url}/projects/${project_id}/quarantine`);
  await s.page.getByRole('heading', { name: 'Quarantine review' }).waitFor();
  await s.page.getByRole('button', { name: `US ${shortId(id)}` }).click();
  await s.page.getByRole('heading', { name: `US ${shortId(id)}: pending` }).waitFor();
  // The server decodes the JPEG frame for the screen.
  const img = s.page.getByRole('img', { name: 'Frame 1 as stored' });
  await img.waitFor();
  await s.page.waitForFunction(() => document.querySelector('img[alt="Frame 1 as stored"]')?.complete);
  assert.deepEqual(await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]), [W, H]);
  await s.page.getByText(`${W} × ${H} px`).waitFor();
  assert.equal(await s.page.getByRole('alert').count(), 0, 'no error about the compressed frame');

  // A adds a rectangle; its fields take the numbers.
  await s.page.locator('body').click({ position: { x: 5, y: 5 } });
  await s.page.keyboard.press('a');
  const rect1 = s.page.getByRole('group', { name: 'Rectangle 1' });
  await rect1.waitFor();
  for (const k of ['x', 'y', 'width', 'height']) await rect1.getByLabel(k).fill(String(rect[k]));
  await s.shot('us-rectangle-entered');
  await blankWithReason(s.page, 'Operator name in the top left');
  await s.page.getByText(/blanked \(1 rectangle\) and stored in item .*/).waitFor();
  await s.shot('us-blanked');

  const blanked = (await s.api('GET', `${base}/${id}`)).json;
  assert.equal(blanked.status, 'blanked', JSON.stringify(blanked));
  assert.deepEqual(blanked.rects, [rect]);
  assert.ok(blanked.item_id, 'released into an item');
  const sop = stowed.json.files[0].sop_instance_uid;
  assert.ok(sop, JSON.stringify(stowed.json.files[0]));
  const res = await manager.context.request.get(`${env.server.url}/api/v1/items/${blanked.item_id}/instances/${sop}`);
  assert.equal(res.status(), 200, await res.text());
  const stored = decodeRgb(await res.body());
  assert.equal(stored.syntax, '1.2.840.10008.1.2.1', `stored native (Explicit VR Little Endian), not ${stored.syntax}`);
  assert.deepEqual([stored.width, stored.height], [W, H]);
  let inside = 0, zeroInside = 0, nonZeroOutside = 0;
  for (let y = 0; y < H; ++y) {
    for (let x = 0; x < W; ++x) {
      const at = (y * W + x) * 3;
      const zero = stored.rgb[at] === 0 && stored.rgb[at + 1] === 0 && stored.rgb[at + 2] === 0;
      if (x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height) {
        inside += 1;
        zeroInside += zero ? 1 : 0;
      } else {
        nonZeroOutside += zero ? 0 : 1;
      }
    }
  }
  assert.equal(inside, rect.width * rect.height);
  assert.equal(zeroInside, inside, 'every pixel inside the rectangle is zero');
  assert.equal(nonZeroOutside, W * H - inside, 'no pixel outside the rectangle is zero (the picture is 80..179 grey)');
  for (const u of [admin, manager, s]) u.assertNoErrors();
}));

test('DICOM settings: options and a safe private element saved and reloaded; a bad blanking rule shows the server\'s message', () => screenshotsOnFailure(async () => {
  const m = await newUser(env.browser, env.server, 'quarantine', 'manager-settings');
  await m.signIn('manager');
  const project_id = (await m.api('GET', '/api/v1/projects')).json.data[0].id;
  await m.page.getByRole('link', { name: /Demo/ }).click();
  await m.page.getByRole('link', { name: 'DICOM settings' }).click();
  await m.page.getByRole('heading', { name: 'DICOM settings' }).waitFor();
  await m.page.getByRole('checkbox', { name: /Keep dates, shifted/ }).check();
  await m.page.getByRole('checkbox', { name: /Clean descriptors/ }).check();
  await m.page.getByRole('button', { name: 'Add a safe private element' }).click();
  await m.page.getByLabel('safe private element 1').fill('ACME CT 1.0:0009:10');
  await m.shot('settings-edited');
  await m.page.getByRole('button', { name: /^Save the de-identification settings/ }).click();
  await m.page.getByText(/^Saved\. Uploads from now on are de-identified with/).waitFor();
  // The server turned Retain Safe Private on for the listed element.
  assert.equal(await m.page.getByRole('checkbox', { name: /Keep safe private elements/ }).isChecked(), true);

  await m.page.reload();
  await m.page.getByRole('heading', { name: 'DICOM settings' }).waitFor();
  for (const name of [/Keep dates, shifted/, /Clean descriptors/, /Keep safe private elements/]) {
    assert.equal(await m.page.getByRole('checkbox', { name }).isChecked(), true, String(name));
  }
  assert.equal(await m.page.getByRole('checkbox', { name: /Keep device identity/ }).isChecked(), false);
  assert.equal(await m.page.getByLabel('safe private element 1').inputValue(), 'ACME CT 1.0:0009:10');
  const stored = (await m.api('GET', `/api/v1/projects/${project_id}/dicom-settings`)).json;
  assert.deepEqual(stored.options, ['retain-dates', 'clean-descriptors', 'retain-safe-private']);
  assert.deepEqual(stored.safe_private, ['ACME CT 1.0:0009:10']);
  await m.shot('settings-reloaded');

  // A rule with a negative width: the server's message names it, and the rule is marked.
  await m.page.getByRole('button', { name: 'Add a blanking rule' }).click();
  const rule = m.page.getByLabel('blanking rule 1');
  await rule.fill('US/ACME:0,0,-5,48');
  await m.page.getByRole('button', { name: /^Save the de-identification settings/ }).click();
  const alert = m.page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /^The server refused: 'US\/ACME:0,0,-5,48': a blanking rectangle needs a positive size \(invalid_argument\)$/);
  assert.equal(await rule.getAttribute('aria-invalid'), 'true');
  await m.shot('bad-rule');
  assert.deepEqual((await m.api('GET', `/api/v1/projects/${project_id}/dicom-settings`)).json.blanking, [], 'nothing changed');

  // Leaving with the rule unsaved asks; staying keeps it.
  const asked = nextDialog(m.page, false);
  await m.page.getByRole('link', { name: 'Demo' }).first().click();
  assert.match((await asked).message, /DICOM de-identification settings are not saved/);
  assert.equal(await rule.inputValue(), 'US/ACME:0,0,-5,48');
  await rule.fill('US/ACME:0,0,640,48');
  await m.page.getByRole('button', { name: /^Save the de-identification settings/ }).click();
  await m.page.getByText(/^Saved\./).waitFor();
  assert.deepEqual((await m.api('GET', `/api/v1/projects/${project_id}/dicom-settings`)).json.blanking, ['US/ACME:0,0,640,48']);

  // A reader has no link and is refused.
  const reader = await newUser(env.browser, env.server, 'quarantine', 'reader2');
  await reader.signIn('reader2');
  await refused(reader, 'DICOM settings', `/projects/${project_id}/dicom`, 'task_assign');
  for (const u of [m, reader]) u.assertNoErrors();
}));

test('DICOM sources: a calling AE title saved and reloaded; the same title in another project (409) and a malformed one (400) show the server\'s message', () => screenshotsOnFailure(async () => {
  const admin = await newUser(env.browser, env.server, 'quarantine', 'admin-sources');
  await admin.signIn('admin');
  const managerUser = (await admin.api('GET', '/api/v1/users')).json.data.find((u) => u.username === 'manager');
  const created = await admin.api('POST', '/api/v1/projects', { name: 'Second DICOM project', description: 'e2e' });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const other = created.json.id;
  const member = await admin.api('PUT', `/api/v1/projects/${other}/members/${managerUser.id}`, { roles: ['manager'], scopes: ['imaging'] });
  assert.equal(member.status, 200, JSON.stringify(member.json));

  const m = await newUser(env.browser, env.server, 'quarantine', 'manager-sources');
  await m.signIn('manager');
  const demo = (await m.api('GET', '/api/v1/projects')).json.data.find((p) => p.name.startsWith('Demo')).id;
  await m.page.goto(`${env.server.url}/projects/${demo}/dicom`);
  const sources = m.page.getByRole('form', { name: 'Sources (DICOM C-STORE)' });
  await sources.waitFor();
  assert.match(await sources.innerText(), /This server's DICOM receiver is off/);
  await sources.getByText('No source: the receiver takes nothing for this project.').waitFor();
  await sources.getByRole('button', { name: 'Add a source' }).click();
  // The new row's title field has the focus.
  await m.page.keyboard.type('CT1');
  await sources.getByLabel('Description 1').fill('CT scanner, room 3');
  await sources.getByRole('button', { name: 'Save the sources' }).click();
  await sources.getByText('Saved: CT1.').waitFor();
  await m.page.reload();
  await sources.waitFor();
  assert.equal(await sources.getByLabel('AE title 1').inputValue(), 'CT1');
  assert.equal(await sources.getByLabel('Description 1').inputValue(), 'CT scanner, room 3');
  assert.deepEqual((await m.api('GET', `/api/v1/projects/${demo}/dicom-sources`)).json.sources,
                   [{ ae_title: 'CT1', description: 'CT scanner, room 3' }]);
  await m.shot('sources-saved');

  // The same title in the second project: 409, the title marked, nothing stored.
  await m.page.goto(`${env.server.url}/projects/${other}/dicom`);
  await sources.waitFor();
  await sources.getByRole('button', { name: 'Add a source' }).click();
  const title = sources.getByLabel('AE title 1');
  await title.fill('CT1');
  await sources.getByRole('button', { name: 'Save the sources' }).click();
  const refusal = sources.getByRole('alert');
  await refusal.waitFor();
  assert.equal(await refusal.innerText(),
               "The server refused: the AE title 'CT1' already sends to another project; remove it there first (conflict)");
  assert.equal(await title.getAttribute('aria-invalid'), 'true');
  await m.shot('sources-409');
  // A backslash: 400.
  await title.fill('CT\\1');
  await sources.getByRole('button', { name: 'Save the sources' }).click();
  await m.page.waitForFunction(() => /invalid_argument/.test(document.querySelector('#sources-refusal')?.textContent ?? ''));
  assert.match(await refusal.innerText(), /^The server refused: an AE title must be 1-16 characters .*no backslash.*\(invalid_argument\)$/);
  await m.shot('sources-400');
  assert.deepEqual((await m.api('GET', `/api/v1/projects/${other}/dicom-sources`)).json.sources, []);
  for (const u of [admin, m]) u.assertNoErrors();
}));
