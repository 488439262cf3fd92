// The labelling flow on classification labels, through the screens: reader A and reader B
// label the same lab item (different assertions) and submit; the reviewer rejects A's reading
// with a reason code and a note, and escalates B's; the adjudicator sees both readings side by side and makes
// B's label final with a rationale; A finds the rejected reading back in the queue; the
// quality dashboard counts the outcomes. The end state is checked against the API.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';

const env = demoForThisFile();

const shortId = (id) => `${id.slice(0, 4)}…${id.slice(-5)}`;

async function openProject(user) {
  await user.page.getByRole('link', { name: /Demo/ }).click();
  await user.page.getByRole('heading', { name: 'Progress' }).waitFor();
}

async function labelAndSubmit(user, itemLink, assertion, rationale) {
  const { page } = user;
  await page.getByRole('link', { name: itemLink }).click();
  await page.getByRole('heading', { name: 'New label' }).waitFor();
  await page.getByRole('table').first().waitFor();  // the lab results
  await page.getByLabel('Target class').selectOption({ label: '1. Abnormal lab result' });
  assert.match(await page.getByLabel('Code').innerText(), /SNOMED CT 263654008/);
  await page.getByLabel(/^Confidence/).fill('0.9');
  await page.getByLabel('Assertion').selectOption(assertion);
  await page.getByLabel('Evidence source').selectOption('lab_result');
  await page.getByLabel('Rationale').fill(rationale);
  // The guideline panel shows the class's definition and criteria of the version in force.
  await page.getByRole('heading', { name: /Guideline v1: Abnormal lab result/ }).waitFor();
  await user.shot(`label-form-${assertion}`);
  await page.getByRole('button', { name: /Save label/ }).click();
  await page.getByText('Label saved.').waitFor();
  await page.getByRole('heading', { name: 'Your labels (1)' }).waitFor();
  await user.shot('label-saved');
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.getByRole('heading', { name: 'My queue' }).waitFor();
}

test('reader A, reader B, review (reject + escalate), adjudication, dashboard', () => screenshotsOnFailure(async () => {
  const a = await newUser(env.browser, env.server, 'workflow', 'readerA');
  await a.signIn('reader1');
  await openProject(a);
  await a.shot('project-home');
  const project_id = a.page.url().split('/projects/')[1];
  // The first lab item in A's queue.
  const tasks = (await a.api('GET', `/api/v1/projects/${project_id}/tasks`)).json.data;
  const items = (await a.api('GET', `/api/v1/projects/${project_id}/items`)).json.data;
  const lab = items.find((i) => i.data_type === 'labs');
  assert.ok(lab, 'the demo has a lab item');
  assert.ok(tasks.some((t) => t.item_id === lab.id), 'assigned to reader1');
  const itemLink = new RegExp(`labs LAB · ${shortId(lab.id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  await labelAndSubmit(a, itemLink, 'present', 'Potassium well above the reference range.');
  await a.shot('after-submit');

  const b = await newUser(env.browser, env.server, 'workflow', 'readerB');
  await b.signIn('reader2');
  await openProject(b);
  await labelAndSubmit(b, itemLink, 'absent', 'Values within range for this patient.');

  // Review: reject the reading that asserts "present", escalate the other.
  const r = await newUser(env.browser, env.server, 'workflow', 'reviewer');
  await r.signIn('reviewer');
  await openProject(r);
  await r.shot('review-queue');
  for (let done = 0; done < 2; ++done) {
    await r.page.getByRole('link', { name: /^Review labs LAB/ }).first().click();
    await r.page.getByRole('heading', { name: /The reading/ }).waitFor();
    const reading = await r.page.locator('.label-summary').first().innerText();
    if (/Assertion\s+present/.test(reading)) {
      await r.page.keyboard.press('r');
      await r.page.getByLabel('Reason').selectOption('insufficient_evidence');
      await r.page.getByLabel('Note to the reader').fill('The value is within range once corrected for haemolysis.');
      await r.shot('reject');
      await r.page.getByRole('button', { name: 'Reject the reading' }).click();
    } else {
      await r.page.getByRole('button', { name: /Escalate/ }).click();
      await r.page.getByLabel('Note for the adjudicator').fill('Readers disagree on whether this is abnormal.');
      await r.shot('escalate');
      await r.page.getByRole('button', { name: 'Escalate to adjudication' }).click();
    }
    await r.page.getByRole('heading', { name: 'To review' }).waitFor();
  }
  await r.page.getByRole('link', { name: /^Adjudicate labs LAB/ }).waitFor();
  await r.shot('after-review');

  // Adjudication (the reviewer account also holds the adjudicator role).
  await r.page.getByRole('link', { name: /^Adjudicate labs LAB/ }).click();
  await r.page.getByRole('heading', { name: /^Adjudication/ }).waitFor();
  assert.equal(await r.page.locator('section.reading').count(), 2, 'both readings side by side');
  await r.shot('adjudication');
  const absent = r.page.locator('label.choice').filter({ hasText: /Assertion\s*absent/ });
  await absent.getByRole('radio').check();
  await r.page.getByLabel('Rationale for the decision').fill('Within range after correction; reader B is right.');
  await r.page.getByRole('button', { name: 'Make the chosen label final' }).click();
  await r.page.getByRole('heading', { name: 'To adjudicate' }).waitFor();
  await r.page.getByText('No item is escalated.').waitFor();
  await r.shot('after-adjudication');

  // The server agrees: one reading rejected (back to A), one adjudicated, a final label.
  const readings = (await r.api('GET', `/api/v1/items/${lab.id}/readings`)).json.data;
  assert.deepEqual(readings.map((x) => x.task.state).sort(), ['adjudicated', 'rejected']);
  const rejection = readings.find((x) => x.task.state === 'rejected').reviews.at(-1);
  assert.equal(rejection.reason_code, 'insufficient_evidence');
  assert.equal(rejection.reason, 'The value is within range once corrected for haemolysis.');
  const labels = (await r.api('GET', `/api/v1/items/${lab.id}/annotations`)).json.data;
  const final = labels.find((l) => l.status === 'adjudicated');
  assert.ok(final, JSON.stringify(labels));
  assert.equal(final.uncertainty.assertion, 'absent');
  assert.equal(final.label.code, '263654008');

  // A sees the reading back in the queue.
  await a.page.reload();
  await a.page.getByText('returned by the reviewer').waitFor();
  await a.shot('returned-reading');
  // ... takes it back, changes the label (PUT with If-Match) and submits again.
  await a.page.getByRole('link', { name: itemLink }).click();
  // ... sees why (the reason code's text and the reviewer's note), takes it back (still shown),
  const sentBack = a.page.getByRole('region', { name: 'Sent back by the reviewer' });
  await sentBack.getByText('The evidence does not support the label').waitFor();
  await sentBack.getByText('corrected for haemolysis').waitFor();
  await a.page.getByRole('button', { name: 'Take it back to correct' }).click();
  await sentBack.getByText('The evidence does not support the label').waitFor();
  await a.page.getByRole('button', { name: /^Change label/ }).click();
  await a.page.getByLabel('Assertion').selectOption('absent');
  await a.page.getByLabel('Rationale').fill('Haemolysed sample; repeat value within range.');
  await a.shot('changing-label');
  await a.page.getByRole('button', { name: /Save the change/ }).click();
  await a.page.getByText('Label changed.').waitFor();
  await a.page.getByRole('button', { name: 'Submit', exact: true }).click();
  await a.page.getByRole('heading', { name: 'My queue' }).waitFor();
  const mine = (await a.api('GET', `/api/v1/items/${lab.id}/annotations`)).json.data;
  assert.equal(mine.length, 1);
  assert.equal(mine[0].uncertainty.assertion, 'absent');
  assert.equal(mine[0].revision, 2);
  const resubmitted = (await a.api('GET', `/api/v1/projects/${project_id}/tasks`)).json.data.find((t) => t.item_id === lab.id);
  assert.equal(resubmitted.state, 'submitted');

  // The dashboard counts it.
  await r.page.getByRole('link', { name: 'Quality dashboard' }).click();
  await r.page.getByRole('heading', { name: 'Quality dashboard' }).waitFor();
  await r.page.locator('.plot svg').first().waitFor();
  const kpis = await r.page.locator('.kpis').innerText();
  assert.match(kpis, /Adjudicated items\s*1\b/);
  assert.match(kpis, /Rejection rate\s*50%/);  // one reject among two review decisions
  const byReason = r.page.getByRole('table', { name: 'Rejections by reason' });
  assert.equal(await byReason.getByRole('row').count(), 8, 'a header and every code');
  assert.match(await byReason.getByRole('row', { name: /evidence does not support/ }).innerText(), /\b1\b/);
  assert.match(await byReason.getByRole('row', { name: /Wrong class/ }).innerText(), /\b0\b/);
  // The item's class shows in the agreement section, with what the API says about it.
  await r.page.getByRole('heading', { name: /Agreement per class/ }).waitFor();
  // Reviewer variance, per reference: against the adjudicated label A (rejected, then changed)
  // and B each have one reading of the adjudicated item; the table shows what the API says.
  const quality = (await r.api('GET', `/api/v1/projects/${project_id}/quality`)).json;
  await r.page.getByLabel('Reference').selectOption('adjudicated');
  const variance = r.page.getByRole('table', { name: 'Reviewer variance' });
  const scored = quality.reviewers.readers.filter((x) => x.n > 0);
  assert.ok(scored.length > 0, JSON.stringify(quality.reviewers));
  assert.equal(await variance.locator(':scope > tbody > tr').count(), scored.length);
  for (const x of scored) {
    assert.match(await variance.locator(':scope > tbody > tr', { hasText: shortId(x.reader) }).first().innerText(),
                 new RegExp(`\\b${x.n}\\b\\s+${Math.round(100 * x.accuracy)}%`));
  }
  await r.page.getByLabel('Reference').selectOption('gold');
  await r.page.getByText('No reading has this reference yet.').waitFor();
  await r.page.getByLabel('Reference').selectOption('fused');
  await r.shot('quality-dashboard');

  for (const u of [a, b, r]) u.assertNoErrors();
}));
