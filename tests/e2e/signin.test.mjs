// Sign-in: a wrong password is refused with a message; the project list after signing in; a
// new user's one-time password must be changed before anything else; the warning before the
// idle timeout (here 60 s, warned 55 s before) keeps the session when answered; the viewers'
// chunks are not loaded with the app. And the harness's watch for Content-Security-Policy
// violations sees one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';

const env = demoForThisFile(['--set', 'session.idle_timeout_minutes=1', '--set', 'session.idle_warning_seconds=55']);

test('sign in, one-time password change, idle warning', () => screenshotsOnFailure(async () => {
  const admin = await newUser(env.browser, env.server, 'signin', 'admin');
  const { page } = admin;
  const scripts = [];
  page.on('request', (req) => { if (req.resourceType() === 'script') scripts.push(new URL(req.url()).pathname); });
  await page.goto(env.server.url + '/');
  await page.getByRole('heading', { name: 'Sign in to Caliper' }).waitFor();
  await admin.shot('sign-in');

  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /invalid|password|credentials/i);
  await admin.shot('wrong-password');

  await admin.signIn('admin');
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await page.getByRole('link', { name: /Demo/ }).waitFor();
  await admin.shot('projects');
  // The reading rooms' viewers (NiiVue, OpenSeadragon with Annotorious, the ECG canvas) are
  // chunks of their own, loaded only with a room that needs them.
  assert.ok(scripts.some((p) => /^\/assets\/index-[\w-]+\.js$/.test(p)), `the app's script: ${scripts}`);
  assert.deepEqual(scripts.filter((p) => /(volume|slide|ecg)_viewer/.test(p)), [], 'no viewer chunk loaded');

  // A new user gets a one-time password, shown once.
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Username').fill('newreader');
  await page.getByLabel('Display name').fill('New Reader');
  await page.getByLabel('radiologist').check();
  await page.getByRole('button', { name: 'Create user' }).click();
  const notice = await page.getByRole('status').filter({ hasText: 'One-time password' }).innerText();
  const otp = notice.match(/shown once\): (\S+)/)?.[1];
  assert.ok(otp, notice);
  await admin.shot('user-created');

  const fresh = await newUser(env.browser, env.server, 'signin', 'newreader');
  await fresh.signIn('newreader', otp);
  await fresh.page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await fresh.shot('forced-password-change');
  // The server refuses everything else until then, whatever the UI shows.
  assert.equal((await fresh.api('GET', '/api/v1/projects')).json.error.code, 'password_change_required');
  await fresh.page.getByLabel('Current password').fill(otp);
  await fresh.page.getByLabel('New password (at least 12 characters)').fill('a long new passphrase 7');
  await fresh.page.getByLabel('New password again').fill('a long new passphrase 7');
  await fresh.page.getByRole('button', { name: 'Change password' }).click();
  await fresh.page.getByRole('heading', { name: 'Projects' }).waitFor();
  await fresh.shot('after-password-change');
  assert.equal((await fresh.api('GET', '/api/v1/projects')).status, 200);

  // Idle: the warning comes 55 s before the 60 s timeout, i.e. after about 5 s without requests.
  const dialog = fresh.page.getByRole('alertdialog');
  await dialog.waitFor({ timeout: 15_000 });
  assert.match(await dialog.innerText(), /signed out in \d+ s/);
  await fresh.shot('idle-warning');
  // The warning is modal for keys: "?" does not open the shortcut list behind it, Tab stays on
  // its button, and Escape answers it like the button (the button itself is clicked further on).
  await fresh.page.keyboard.press('?');
  await fresh.page.keyboard.press('Tab');
  assert.equal(await fresh.page.getByRole('dialog', { name: 'Keyboard shortcuts' }).count(), 0);
  assert.equal(await fresh.page.evaluate(() => document.activeElement?.textContent), 'Stay signed in');
  await fresh.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await fresh.api('GET', '/api/v1/auth/session')).status, 200);
  // Idle again: this time the button.
  await dialog.waitFor({ timeout: 15_000 });
  await dialog.getByRole('button', { name: 'Stay signed in' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await fresh.api('GET', '/api/v1/auth/session')).status, 200);

  // Signing out ends the session on the server.
  await fresh.page.getByRole('button', { name: 'Sign out' }).click();
  await fresh.page.getByRole('heading', { name: 'Sign in to Caliper' }).waitFor();
  assert.equal((await fresh.api('GET', '/api/v1/auth/session')).status, 401);
  await fresh.shot('signed-out');
  admin.assertNoErrors();
  fresh.assertNoErrors();
}));

// Every suite fails on a Content-Security-Policy violation (harness.mjs); this shows the watch
// sees one: an inline script put into the page is refused by the app's CSP and reported.
test('a CSP violation is caught', () => screenshotsOnFailure(async () => {
  const probe = await newUser(env.browser, env.server, 'signin', 'csp-probe');
  await probe.page.goto(env.server.url + '/');
  await probe.page.getByRole('heading', { name: 'Sign in to Caliper' }).waitFor();
  probe.assertNoErrors();
  const ran = await probe.page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.cspProbeRan = true;';
    document.head.append(script);
    return window.cspProbeRan === true;
  });
  assert.equal(ran, false, 'the inline script was refused');
  for (let i = 0; i < 50 && !probe.errors.some((e) => e.startsWith('CSP violation: ')); ++i) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(probe.errors.some((e) => /^CSP violation: script-src(-elem)? refused inline/.test(e)), probe.errors.join('\n'));
}));
