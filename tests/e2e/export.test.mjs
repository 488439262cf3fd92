// The export screens: the manager requests an export of the demo project; approving their own
// request is refused by the server and the screen shows the refusal; a data steward (another
// user) approves it and the snapshot is built; the subgroup report of the snapshot is shown in
// the app (a sandboxed frame, under the CSP) and its manifest too; the manager takes a one-time
// download link and downloads the tar, whose manifest.json is checked (its SHA-256 is the one the
// server recorded); the link does not work twice. A second request is denied with a note.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

  for (const u of [admin, m, s]) u.assertNoErrors();
}));
