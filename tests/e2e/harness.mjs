// Plumbing for the browser suites: a real `caliper demo` server on loopback with a fresh data
// directory, Debian's Chromium driven by playwright-core (WebGL2 through SwiftShader), sign-in
// helpers, screenshots of every screen into build/test-artifacts/<suite>/, and a check that no
// page logged an error (an exception, a console error) or violated the Content-Security-Policy.
//
// Environment: CALIPER_E2E_BINARY (a binary to test) else CALIPER_BUILT_BINARY (set by ctest)
// else build/caliper; CALIPER_WEB_ROOT (default web/dist); CALIPER_TEST_ARTIFACTS (default
// build/test-artifacts); CALIPER_CHROMIUM (default /usr/bin/chromium).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
const require = createRequire(join(repo, 'web', 'package.json'));
const { chromium } = require('playwright-core');

export const binary = process.env.CALIPER_E2E_BINARY || process.env.CALIPER_BUILT_BINARY || join(repo, 'build', 'caliper');
export const webRoot = process.env.CALIPER_WEB_ROOT || join(repo, 'web', 'dist');
const artifactsRoot = process.env.CALIPER_TEST_ARTIFACTS || join(repo, 'build', 'test-artifacts');

// `caliper demo` in a new data directory on a free loopback port (TLS with its self-signed
// certificate, as a deployment would run). Resolves with the URL and the demo passwords.
export async function startDemo(extraArgs = []) {
  assert.ok(existsSync(binary), `no caliper binary at ${binary}`);
  assert.ok(existsSync(join(webRoot, 'index.html')), `the web app is not built in ${webRoot} (npm run build in web/)`);
  const data = mkdtempSync(join(tmpdir(), 'caliper_browser_'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CALIPER_')));
  const child = spawn(binary, ['demo', '--data', join(data, 'd'), '--listen', '127.0.0.1:0',
                               '--set', `web.root=${webRoot}`, ...extraArgs],
                      { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const ready = new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`caliper demo did not start in 60 s:\n${out}\n${err}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (https?:\/\/[^\s]+)\//);
      if (m) { clearTimeout(timer); resolveReady(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`caliper demo exited ${code}:\n${out}\n${err}`)); });
  });
  const url = await ready;
  const passwords = {};
  for (const m of out.matchAll(/^ {2}(\w+)\s+(\S+)$/gm)) passwords[m[1]] = m[2];
  return {
    url, passwords,
    dataDir: join(data, 'd'),  // the server's data directory (blobs/ ...), for tests that break it on purpose
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CALIPER_CHROMIUM || '/usr/bin/chromium',
    headless: false,  // the flag below selects the new headless mode
    args: ['--headless=new', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
           '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// One demo server and one browser for the calling test file: `env.server` and `env.browser`
// are set before its tests run, and both end after them.
export function demoForThisFile(extraArgs = []) {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startDemo(extraArgs);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

const allUsers = [];
const cleanedSuites = new Set();

// Runs a test body; when it fails, every user's page is saved as a "FAILED" screenshot first.
// The next dialog `page` opens (confirm, alert or the browser's beforeunload prompt), answered:
// `accept` true accepts it, false dismisses it. Resolves to {message, type} once answered.
export function nextDialog(page, accept) {
  return new Promise((resolve) => page.once('dialog', async (d) => {
    const seen = { message: d.message(), type: d.type() };
    await (accept ? d.accept() : d.dismiss());
    resolve(seen);
  }));
}

export async function screenshotsOnFailure(body) {
  try {
    await body();
  } catch (e) {
    await Promise.allSettled(allUsers.map((u) => u.shot('FAILED')));
    throw e;
  }
}

// A browser context of its own (own cookies) for one user, with error collection and numbered
// screenshots.
export async function newUser(browser, server, suite, who) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Refused requests (401/403/404) are the server saying no, which tests provoke on purpose.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  // Every Content-Security-Policy violation of the context's pages (the browser reports them as
  // securitypolicyviolation events, whether or not it also logs them).
  await context.exposeBinding('caliperCspViolation', (_source, text) => errors.push(`CSP violation: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.caliperCspViolation(`${e.effectiveDirective} refused ${e.blockedURI || '(inline)'} at ${e.sourceFile || '?'}:${e.lineNumber}`);
    });
  });
  const dir = join(artifactsRoot, suite);
  if (!cleanedSuites.has(suite)) {
    rmSync(dir, { recursive: true, force: true });  // only this run's screens
    cleanedSuites.add(suite);
  }
  mkdirSync(dir, { recursive: true });
  let n = 0;
  const user = {
    page, context, errors,
    async shot(name) {
      n += 1;
      await page.screenshot({ path: join(dir, `${who}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
    },
    async signIn(username, password = server.passwords[username]) {
      await page.goto(server.url + '/');
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Signed in: the project list, or the forced change of a one-time password.
      await page.getByRole('heading', { name: /^(Projects|Choose a new password)$/ }).waitFor();
    },
    // The API as this user (same cookies); state-changing calls carry the tab's CSRF token.
    async api(method, path, body) {
      const csrf = await page.evaluate(() => sessionStorage.getItem('caliper.csrf') || '');
      const res = await context.request.fetch(server.url + path, {
        method, headers: { 'X-CSRF-Token': csrf, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        data: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status(), json };
    },
    // multipart/form-data upload as this user: `parts` maps a part name to {name, mimeType, buffer}.
    async upload(path, parts) {
      const csrf = await page.evaluate(() => sessionStorage.getItem('caliper.csrf') || '');
      const res = await context.request.post(server.url + path, { headers: { 'X-CSRF-Token': csrf }, multipart: parts });
      return { status: res.status(), json: await res.json().catch(() => null) };
    },
    assertNoErrors() {
      assert.deepEqual(errors, [], `${who}'s pages logged errors`);
    },
  };
  allUsers.push(user);
  return user;
}
