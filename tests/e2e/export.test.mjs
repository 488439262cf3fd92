// The export screens: the manager requests an export of the demo project; approving their own
// request is refused by the server and the screen shows the refusal; a data steward (another
// user) approves it and the snapshot is built; the subgroup report of the snapshot is shown in
// the app (a sandboxed frame, under the CSP; on the quality dashboard too) and its manifest too; the manager takes a one-time
// download link and downloads the tar, whose manifest.json is checked (its SHA-256 is the one the
// server recorded); the link does not work twice. A second request is denied with a note.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';

const env = demoForThisFile();

// The files of a POSIX tar (ustar): name -> bytes.
function untar(buffer) {
  const files = new Map();
  for (let at = 0; at + 512 <= buffer.length;) {
    const header = buffer.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from, length) => header.subarray(from, from + length).toString('latin1').replace(/\0.*$/s, '');
    const name = (field(345, 155) ? `${field(345, 155)}/` : '') + field(0, 100);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    files.set(name, buffer.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

async function openExports(user) {
  await user.page.getByRole('link', { name: /Demo/ }).click();
  await user.page.getByRole('link', { name: 'Dataset exports' }).click();
  await user.page.getByRole('heading', { name: 'Dataset exports' }).waitFor();
}

test('exports: request, self-approval refused, approval by another, subgroup report, one-time download', () => screenshotsOnFailure(async () => {
  const admin = await newUser(env.browser, env.server, 'export', 'admin');
  await admin.signIn('admin');
  const users = (await admin.api('GET', '/api/v1/users')).json.data;
  const project_id = (await admin.api('GET', '/api/v1/projects')).json.data[0].id;
  // The reviewer also becomes the project's data steward (export_approve).
  const steward = users.find((u) => u.username === 'reviewer');
  const members = (await admin.api('GET', `/api/v1/projects/${project_id}/members`)).json.data;
  const membership = members.find((m) => m.user_id === steward.id);
  const granted = await admin.api('PUT', `/api/v1/projects/${project_id}/members/${steward.id}`,
                                  { roles: [...membership.roles, 'data_steward'], scopes: membership.scopes });
  assert.equal(granted.status, 200, JSON.stringify(granted.json));

  // The manager requests.
  const m = await newUser(env.browser, env.server, 'export', 'manager');
  await m.signIn('manager');
  await openExports(m);
  await m.page.getByText('No export has been requested.').waitFor();
  await m.shot('exports-empty');
  await m.page.getByLabel(/^Reason/).fill('Training set for the nodule detector (e2e test).');
  await m.page.getByRole('button', { name: 'Request an export' }).click();
  await m.page.getByText('Export version 1 requested; another approver must approve it.').waitFor();
  const row = m.page.locator('table.exports tbody tr').first();
  assert.match(await row.innerText(), /requested/);
  await m.page.getByText('You requested it: another approver must decide.').waitFor();
  await m.shot('requested');

  // ... and cannot approve it: the server's refusal is shown.
  await m.page.getByRole('button', { name: 'Approve version 1' }).click();
  const refusal = m.page.getByRole('alert');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /^The server refused: the requester of an export cannot approve or deny it \(two-person rule\) \(permission_denied\)$/);
  await m.shot('self-approval-refused');
  let [exp] = (await m.api('GET', `/api/v1/projects/${project_id}/exports`)).json.data;
  assert.equal(exp.status, 'requested');
  assert.equal(exp.decided_by, null);

  // The data steward approves it: the snapshot is built.
  const s = await newUser(env.browser, env.server, 'export', 'steward');
  await s.signIn('reviewer');
  await openExports(s);
  await s.page.getByLabel('Decision note for version 1').fill('De-identification profile checked.');
  await s.shot('to-approve');
  await s.page.getByRole('button', { name: 'Approve version 1' }).click();
  await s.page.getByText('Version 1 built.').waitFor();
  [exp] = (await s.api('GET', `/api/v1/projects/${project_id}/exports`)).json.data;
  assert.equal(exp.status, 'built', JSON.stringify(exp));
  assert.equal(exp.decided_by, steward.id);
  assert.equal(exp.decision_note, 'De-identification profile checked.');
  await s.shot('built');

  // The subgroup report, in the app.
  await s.page.getByRole('button', { name: 'Subgroup report of version 1' }).click();
  const frame = s.page.frameLocator('iframe.report');
  await frame.getByRole('heading', { name: 'Subgroup report' }).waitFor();
  await frame.getByRole('heading', { name: 'Missing demographic data' }).waitFor();
  assert.equal(await s.page.locator('iframe.report').getAttribute('sandbox'), '', 'the report frame runs nothing');
  await s.shot('subgroup-report');
  await s.page.getByRole('button', { name: 'Manifest of version 1' }).click();
  const manifestView = s.page.getByRole('region', { name: 'Manifest of version 1' }).locator('pre.manifest');
  await manifestView.waitFor();
  assert.match(await manifestView.innerText(), /"dataset_id"/);
  await s.shot('manifest');

  // The manager takes it out with a one-time link.
  await m.page.reload();
  await m.page.getByRole('button', { name: 'Download link for version 1' }).click();
  const link = m.page.getByRole('link', { name: 'Download version 1 (one use)' });
  await link.waitFor();
  await m.shot('download-link');
  const [download] = await Promise.all([m.page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'caliper-dataset.tar');
  const tar = readFileSync(await download.path());
  const files = untar(tar);
  assert.ok(files.has('manifest.json'), `the archive holds ${[...files.keys()]}`);
  const manifestBytes = files.get('manifest.json');
  assert.equal(createHash('sha256').update(manifestBytes).digest('hex'), exp.manifest_sha256);
  const manifest = JSON.parse(manifestBytes.toString('utf8'));
  assert.equal(manifest.version, 1);
  assert.equal(manifest.project.id, project_id);
  for (const f of manifest.files) {
    assert.ok(files.has(f.path), `${f.path} listed in the manifest is in the archive`);
    assert.equal(createHash('sha256').update(files.get(f.path)).digest('hex'), f.sha256, f.path);
  }
  assert.ok(manifest.files.some((f) => f.path === 'subgroup_report.html'));
  // One use only.
  const again = await m.context.request.get(env.server.url + (await link.getAttribute('href')));
  assert.equal(again.status(), 409);
  await m.shot('downloaded');

  // A second request, denied by the steward with a note: nothing is built.
  await m.page.getByLabel(/^Reason/).fill('A copy for a vendor (e2e test).');
  await m.page.getByRole('button', { name: 'Request an export' }).click();
  await m.page.getByText('Export version 2 requested; another approver must approve it.').waitFor();
  await s.page.reload();
  await s.page.getByLabel('Decision note for version 2').fill('Not covered by the data use agreement.');
  await s.page.getByRole('button', { name: 'Deny version 2' }).click();
  await s.page.getByText('Version 2 denied.').waitFor();
  await s.page.getByText('“Not covered by the data use agreement.”').waitFor();
  await s.shot('denied');
  const second = (await s.api('GET', `/api/v1/projects/${project_id}/exports`)).json.data.find((x) => x.version === 2);
  assert.equal(second.status, 'denied');
  assert.equal(second.snapshot_bytes, 0);
  assert.equal(second.manifest_sha256, null);

  // The quality dashboard shows the manager the latest built snapshot's subgroup report.
  await m.page.goto(`${env.server.url}/projects/${project_id}/quality`);
  await m.page.getByRole('heading', { name: 'Subgroup report', exact: true }).waitFor();
  const dashboardFrame = m.page.frameLocator('iframe[title="Subgroup report of snapshot version 1"]');
  await dashboardFrame.getByRole('heading', { name: 'Missing demographic data' }).waitFor();
  assert.equal(await m.page.locator('iframe.report').getAttribute('sandbox'), '', 'the report frame runs nothing');
  await m.page.locator('iframe.report').scrollIntoViewIfNeeded();  // a frame off screen is not painted
  await m.shot('dashboard-subgroup-report');

  for (const u of [admin, m, s]) u.assertNoErrors();
}));

// Moves every file under `from` to the same place under `to` (directories made as needed).
function moveFiles(from, to) {
  for (const e of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const rel = relative(from, join(e.parentPath, e.name));
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    renameSync(join(from, rel), join(to, rel));
  }
}

// A failed build and "Build again": reader 2 submits a span label on a demo note (so the export
// reads the note's text), then the server's stored blobs are moved aside (as
// AppTest.AFailedExportIsRebuiltOnceItsCauseIsPutRight does with the note's blob), so the
// approved build fails; the screen shows why, offers the requester no rebuild (two-person rule; their
// POST is the server's 403) and the steward "Build version N again", which fails again while the
// cause stands and builds once the store is back; a stale page's click is the server's 409, shown
// as such.
test('exports: a failed build shows its error and is built again by another approver', () => screenshotsOnFailure(async () => {
  const admin = await newUser(env.browser, env.server, 'export', 'admin-rebuild');
  await admin.signIn('admin');
  const project_id = (await admin.api('GET', '/api/v1/projects')).json.data[0].id;
  const m = await newUser(env.browser, env.server, 'export', 'manager-rebuild');
  await m.signIn('manager');
  await openExports(m);
  await m.page.getByLabel(/^Reason/).fill('Rebuild check (e2e test).');
  await m.page.getByRole('button', { name: 'Request an export' }).click();
  const requested = await m.page.getByText(/^Export version \d+ requested/).innerText();
  const version = Number(requested.match(/version (\d+)/)[1]);
  // Reader 2's submitted reading with a span: the snapshot needs the note's text.
  const b = await newUser(env.browser, env.server, 'export', 'reader2-rebuild');
  await b.signIn('reader2');
  const note = (await b.api('GET', `/api/v1/projects/${project_id}/items`)).json.data.find((i) => i.data_type === 'notes');
  const labelled = await b.api('POST', `/api/v1/items/${note.id}/annotations`, {
    evidence: { kind: 'span', data: { start: 0, end: 4 } },
    label: { class: 'pulmonary_nodule', code_system: 'SNOMED CT', code: '427359005' },
    uncertainty: { confidence: 0.7, assertion: 'possible' },
  });
  assert.equal(labelled.status, 201, JSON.stringify(labelled.json));
  const task = (await b.api('GET', `/api/v1/projects/${project_id}/tasks`)).json.data.find((t) => t.item_id === note.id);
  const submitted = await b.api('POST', `/api/v1/projects/${project_id}/tasks/${task.id}/submit`);
  assert.equal(submitted.status, 200, JSON.stringify(submitted.json));
  const exportOf = async () => (await m.api('GET', `/api/v1/projects/${project_id}/exports`)).json.data.find((x) => x.version === version);

  const blobs = join(env.server.dataDir, 'blobs');
  const aside = join(env.server.dataDir, 'blobs-aside');
  assert.ok(existsSync(blobs), `the demo keeps its blobs in ${blobs}`);
  moveFiles(blobs, aside);  // the server may store new blobs meanwhile (they stay)
  try {
    const s = await newUser(env.browser, env.server, 'export', 'steward-rebuild');
    await s.signIn('reviewer');  // the project's data steward since the first test
    await openExports(s);
    await s.page.getByRole('button', { name: `Approve version ${version}` }).click();
    await s.page.getByText(new RegExp(`^Version ${version} failed: `)).waitFor();
    const row = s.page.locator('table.exports tbody tr').filter({ has: s.page.getByRole('button', { name: `Build version ${version} again` }) });
    const why = row.locator('.error').filter({ hasText: /^Why it failed: / });
    await why.waitFor();
    console.log(`failure shown: ${await why.innerText()}`);
    assert.match(await why.innerText(), new RegExp(`the text of note item ${note.id}.*not found`));
    await s.shot('failed');
    // Still broken: the rebuild fails again, and says why.
    await s.page.getByRole('button', { name: `Build version ${version} again` }).click();
    await s.page.getByText(new RegExp(`^Version ${version} failed again: .*not found`)).waitFor();
    assert.equal((await exportOf()).status, 'failed');

    // The requester sees why it failed and no button; the server refuses them (403).
    await m.page.reload();
    await m.page.getByText('You requested it: another approver must build it again.').waitFor();
    assert.equal(await m.page.getByRole('button', { name: `Build version ${version} again` }).count(), 0);
    await m.shot('failed-requester');
    const own = await m.api('POST', `/api/v1/projects/${project_id}/exports/${(await exportOf()).id}/rebuild`);
    assert.equal(own.status, 403, JSON.stringify(own.json));

    // Put right, it is built; a second page still showing the failure gets the server's 409.
    moveFiles(aside, blobs);
    const stale = await newUser(env.browser, env.server, 'export', 'steward-stale');
    await stale.signIn('reviewer');
    await openExports(stale);
    await s.page.getByRole('button', { name: `Build version ${version} again` }).click();
    await s.page.getByText(`Version ${version} built again.`).waitFor();
    await s.shot('rebuilt');
    const built = await exportOf();
    assert.equal(built.status, 'built', JSON.stringify(built));
    assert.equal(built.error, null);
    await stale.page.getByRole('button', { name: `Build version ${version} again` }).click();
    const refusal = stale.page.getByRole('alert');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), new RegExp(`^The server refused: version ${version} cannot be built again now: export \\S+ is built; only a failed or cut-off build is built again \\(conflict\\)$`));
    await stale.page.getByRole('button', { name: `Subgroup report of version ${version}` }).waitFor();  // the page catches up
    await stale.shot('rebuild-conflict');
    for (const u of [admin, b, m, s, stale]) u.assertNoErrors();
  } finally {
    if (existsSync(aside)) moveFiles(aside, blobs);
  }
}));
