// The note reading room: a note uploaded through notes ingest (de-identified, so its surrogates
// are marked), ConText run over it by the manager, then the reader: a span selected with the
// mouse gets a class, confidence, assertion, temporality and experiencer and is saved; of the
// three ConText pre-labels one is accepted (A), one corrected (C, the form opened on it) and one
// rejected (X); the reading is submitted. The end state is checked through the API: the span's
// code points (an emoji before it makes them differ from UTF-16 offsets), class, assertion and
// context, each pre-label's decision and the labels the accepted and corrected ones became.
// Then one of the demo's own notes (ingested and de-identified by `caliper demo`): its surrogates
// are marked, and beside it its patient's labs — the table (a row per result, the abnormal ones
// flagged) and a chart per test (the results as dots, the abnormal ones red, the reference range
// as a band), reached with the keyboard. Last, a labs item whose results had different reference
// ranges: every dot is drawn against its own result's range.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoForThisFile, newUser, screenshotsOnFailure } from './harness.mjs';
import { assign, demoProject, openFromQueue } from './project_setup.mjs';

const env = demoForThisFile();

const kClasses = [
  { id: 'pneumonia', name: 'Pneumonia', kind: 'span', data_types: ['notes'], terms: ['pneumonia'],
    codes: [{ system: 'SNOMED CT', code: '233604007' }], definition: 'A mention of pneumonia (test class).' },
  { id: 'asthma', name: 'Asthma', kind: 'span', data_types: ['notes'], terms: ['asthma'],
    codes: [{ system: 'SNOMED CT', code: '195967001' }], definition: 'A mention of asthma (test class).' },
  { id: 'fever', name: 'Fever', kind: 'span', data_types: ['notes'], terms: ['fever'],
    codes: [{ system: 'SNOMED CT', code: '386661006' }], definition: 'A mention of fever (test class).' },
];

const kNote = 'Discharge summary for John Smith, seen on 03/04/2025 \u{1FAC1}.\n' +
  'Chest CT shows a 6 mm pulmonary nodule in the right upper lobe.\n' +
  'No evidence of pneumonia.\n' +
  'She reports fever since Monday.\n' +
  'Her mother has asthma.\n';

// Code-point offset of `phrase` in `text` (what the server counts).
const codePoints = (text, phrase) => {
  const at = text.indexOf(phrase);
  assert.ok(at >= 0, `${phrase} in the note`);
  return { start: [...text.slice(0, at)].length, end: [...text.slice(0, at)].length + [...phrase].length };
};

// Drags the mouse across `phrase` in the note (a real text selection, as a reader makes it).
async function selectWithMouse(page, phrase) {
  const box = await page.locator('pre.note').evaluate((pre, phrase) => {
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.textContent.indexOf(phrase);
      if (at < 0) continue;
      const first = document.createRange();
      first.setStart(node, at);
      first.setEnd(node, at + 1);
      const last = document.createRange();
      last.setStart(node, at + phrase.length - 1);
      last.setEnd(node, at + phrase.length);
      const a = first.getBoundingClientRect(), b = last.getBoundingClientRect();
      return { x0: a.left + 1, y0: a.top + a.height / 2, x1: b.right - 1, y1: b.top + b.height / 2 };
    }
    return null;
  }, phrase);
  assert.ok(box, `${phrase} is one piece of text in the note`);
  await page.mouse.move(box.x0, box.y0);
  await page.mouse.down();
  await page.mouse.move((box.x0 + box.x1) / 2, box.y1, { steps: 4 });
  await page.mouse.move(box.x1, box.y1, { steps: 4 });
  await page.mouse.up();
}

test('note room: a span labelled by the reader, ConText pre-labels accepted, corrected and rejected, submitted', () => screenshotsOnFailure(async () => {
  const { manager, reader1, project_id } = await demoProject(env, 'notes', 'notes', kClasses);
  const uploaded = await manager.upload(`/api/v1/projects/${project_id}/notes`, {
    metadata: { name: 'metadata.json', mimeType: 'application/json',
                buffer: Buffer.from(JSON.stringify({ format: 'txt', id: 'e2e-note-1', patient: 'MRN-E2E-0001' })) },
    content: { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from(kNote) },
  });
  assert.equal(uploaded.status, 200, JSON.stringify(uploaded.json));
  const [record] = uploaded.json.records;
  assert.equal(record.outcome, 'stored', JSON.stringify(record));
  const item_id = record.item_id;
  await assign(manager, item_id, reader1.id);
  const run = await manager.api('POST', `/api/v1/projects/${project_id}/prelabels/context`, { item_ids: [item_id] });
  assert.equal(run.status, 200, JSON.stringify(run.json));
  assert.equal(run.json.stored.length, 3, JSON.stringify(run.json));

  const r = await openFromQueue(env, 'notes', 'reader1', 'notes', item_id);
  const { page } = r;
  await page.getByRole('heading', { name: 'Pre-labels (3 to decide)' }).waitFor();
  const stored = (await r.api('GET', `/api/v1/items/${item_id}/note`)).json;
  const text = stored.text;
  assert.ok(!text.includes('John Smith'), 'the name was replaced before storage');
  // The surrogates de-identification put in are marked on the text, as are the suggestions.
  assert.ok(stored.phi.length >= 2, JSON.stringify(stored.phi));
  assert.equal(await page.locator('pre.note mark.surrogate').count(), stored.phi.length);
  assert.equal(await page.locator('pre.note mark.prelabel').count(), 3);
  await r.shot('note-room');
  // The uploaded note's patient has no labs: one muted line says so.
  await page.getByRole('region', { name: 'Patient\'s labs' }).getByText('No lab results for this patient.').waitFor();

  // The reader's own span: selected with the mouse, then class, confidence, assertion, context.
  await selectWithMouse(page, 'pulmonary nodule');
  await page.getByText('characters', { exact: false }).filter({ hasText: '“pulmonary nodule”' }).first().waitFor();
  const form = page.getByRole('form', { name: 'Label' });
  await form.getByLabel('Target class').selectOption('pulmonary_nodule');
  await form.getByLabel(/^Confidence/).fill('0.7');
  await form.getByLabel('Assertion').selectOption('possible');
  await form.getByLabel('Temporality').selectOption('historical');
  await form.getByLabel('Experiencer').selectOption('patient');
  await r.shot('span-label-form');
  await form.getByRole('button', { name: /Save label/ }).click();
  await page.getByText('Label saved.').waitFor();
  await page.getByRole('heading', { name: 'Your labels (1)' }).waitFor();
  await r.shot('span-saved');

  // Pre-labels: pneumonia (negated by ConText) accepted with A.
  await page.getByRole('button', { name: /^Pneumonia: “pneumonia” · absent/ }).click();
  assert.equal(await page.locator('pre.note mark.prelabel.current').innerText(), 'pneumonia');
  await page.keyboard.press('a');
  await page.getByText('Pre-label accepted: your label pneumonia (absent, current, patient).').waitFor();
  await page.getByRole('heading', { name: 'Your labels (2)' }).waitFor();
  await r.shot('prelabel-accepted');
  // Fever corrected with C: the form opens on it, the reader makes it "possible".
  await page.getByRole('button', { name: /^Fever: “fever” · present/ }).click();
  await page.keyboard.press('c');
  await page.getByRole('heading', { name: 'Correct the pre-label' }).waitFor();
  assert.equal(await form.getByLabel('Target class').inputValue(), 'fever');
  await form.getByLabel('Assertion').selectOption('possible');
  await r.shot('prelabel-correcting');
  await form.getByRole('button', { name: /Save the correction/ }).click();
  await page.getByText('Pre-label corrected: your label was saved.').waitFor();
  await page.getByRole('heading', { name: 'Your labels (3)' }).waitFor();
  // Asthma, the one left (picked), rejected with X.
  await page.getByRole('heading', { name: 'Pre-labels (1 to decide, 2 decided)' }).waitFor();
  await page.keyboard.press('x');
  await page.getByText('Pre-label rejected.').waitFor();
  await page.getByRole('heading', { name: 'Pre-labels (0 to decide, 3 decided)' }).waitFor();
  assert.equal(await page.locator('pre.note mark.prelabel').count(), 0);
  assert.equal(await page.getByRole('heading', { name: 'Your labels (3)' }).count(), 1, 'rejecting made no label');
  // The keys are in the shortcut help.
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  for (const line of ['Accept the picked pre-label as your label', 'Reject the picked pre-label', 'Pick the next pre-label']) {
    await help.getByText(line).waitFor();
  }
  await r.shot('help');
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden' });
  await r.shot('decided');
  await page.getByRole('button', { name: 'Submit', exact: true }).click();
  await page.getByRole('heading', { name: 'My queue' }).waitFor();
  await r.shot('submitted');

  // Through the API.
  const labels = (await r.api('GET', `/api/v1/items/${item_id}/annotations`)).json.data;
  assert.equal(labels.length, 3, JSON.stringify(labels));
  const span = labels.find((a) => a.label.class === 'pulmonary_nodule');
  const expected = codePoints(text, 'pulmonary nodule');
  assert.notEqual(text.indexOf('pulmonary nodule'), expected.start, 'the emoji makes code points differ from UTF-16');
  assert.deepEqual({ start: span.evidence.data.start, end: span.evidence.data.end }, expected);
  assert.equal(span.evidence.kind, 'span');
  assert.equal(span.label.code, '427359005');
  assert.equal(span.uncertainty.assertion, 'possible');
  assert.equal(span.uncertainty.confidence, 0.7);
  assert.deepEqual(span.context, { temporality: 'historical', experiencer: 'patient' });
  assert.equal(span.origin, 'human');

  const prelabels = (await r.api('GET', `/api/v1/items/${item_id}/prelabels`)).json.data;
  const byClass = Object.fromEntries(prelabels.map((p) => [p.label.class, p]));
  assert.deepEqual(Object.fromEntries(prelabels.map((p) => [p.label.class, p.status])),
                   { pneumonia: 'accepted', fever: 'corrected', asthma: 'rejected' });
  const accepted = labels.find((a) => a.id === byClass.pneumonia.decisions[0].annotation_id);
  assert.ok(accepted, JSON.stringify(byClass.pneumonia));
  assert.deepEqual(accepted.label, byClass.pneumonia.label);  // a copy of the suggestion's class (and code, if any)
  assert.equal(accepted.label.class, 'pneumonia');
  assert.equal(accepted.uncertainty.assertion, 'absent');
  assert.equal(accepted.origin, 'prelabel:context@1');
  assert.deepEqual(accepted.evidence.data, { start: codePoints(text, 'pneumonia').start, end: codePoints(text, 'pneumonia').end });
  assert.deepEqual(accepted.context, { temporality: byClass.pneumonia.attributes.temporality,
                                       experiencer: byClass.pneumonia.attributes.experiencer });
  const corrected = labels.find((a) => a.id === byClass.fever.decisions[0].annotation_id);
  assert.ok(corrected, JSON.stringify(byClass.fever));
  assert.equal(corrected.label.class, 'fever');
  assert.equal(corrected.uncertainty.assertion, 'possible');
  assert.deepEqual({ start: corrected.evidence.data.start, end: corrected.evidence.data.end }, codePoints(text, 'fever'));
  assert.equal(byClass.asthma.decisions[0].annotation_id, null);
  const task = (await r.api('GET', `/api/v1/projects/${project_id}/tasks`)).json.data.find((t) => t.item_id === item_id);
  assert.equal(task.state, 'submitted');
  r.assertNoErrors();
}));

test('note room: a demo note shows its surrogates and its patient\'s labs as a table and charts', () => screenshotsOnFailure(async () => {
  const r = await newUser(env.browser, env.server, 'notes', 'reader1-demo');
  await r.signIn('reader1');
  const { page } = r;
  const project_id = (await r.api('GET', '/api/v1/projects')).json.data[0].id;
  const tasks = (await r.api('GET', `/api/v1/projects/${project_id}/tasks`)).json.data;
  const items = (await r.api('GET', `/api/v1/projects/${project_id}/items`)).json.data;
  // A demo note, not the first test's upload (whose patient has no labs): ids are random, so
  // the list's order does not tell them apart; the demo's patients have labs items.
  const labPatients = new Set(items.filter((i) => i.data_type === 'labs').map((i) => i.patient_key));
  const note = items.find((i) => i.data_type === 'notes' && labPatients.has(i.patient_key) && tasks.some((t) => t.item_id === i.id));
  assert.ok(note, 'a demo note is assigned to reader1');
  const stored = (await r.api('GET', `/api/v1/items/${note.id}/note`)).json;
  assert.ok(stored.phi.length > 0, 'the demo note was de-identified');
  const labs = (await r.api('GET', `/api/v1/items/${note.id}/labs`)).json;
  assert.equal(labs.patient_key, note.patient_key);
  assert.ok(labs.results.length > 0, 'the demo note\'s patient has labs');
  const flagged = labs.results.filter((x) => x.flag !== null).length;
  const tests = new Set(labs.results.map((x) => `${x.loinc} ${x.unit}`));

  await page.getByRole('link', { name: /Demo/ }).click();
  await page.getByRole('heading', { name: 'My queue' }).waitFor();
  await page.getByRole('link', { name: new RegExp(`notes .*${note.id.slice(-5)}`) }).click();
  await page.locator('pre.note').waitFor();
  assert.equal(await page.locator('pre.note mark.surrogate').count(), stored.phi.length);

  const panel = page.getByRole('region', { name: 'Patient\'s labs' });
  const table = panel.getByRole('region', { name: 'Patient\'s lab results' });
  await table.waitFor();
  assert.equal(await table.locator('tbody tr').count(), labs.results.length);
  assert.equal(await table.locator('tbody tr.abnormal').count(), flagged);
  const first = labs.results[0];
  const cells = await table.locator('tbody tr').first().locator('td').allInnerTexts();
  assert.equal(cells[0], first.time.slice(0, 16).replace('T', ' '));
  assert.ok(cells[1].startsWith(first.name), cells[1]);
  assert.equal(cells[2], `${first.value} ${first.unit}`);
  assert.equal(cells[3], `${first.ref_low}–${first.ref_high}`);
  assert.equal(cells[4], first.flag === 'high' ? 'H' : first.flag === 'low' ? 'L' : '');
  await panel.getByText(`${labs.results.length} results, ${flagged} outside their reference range`).waitFor();

  // One chart per test (Plot loads lazily), labelled; every result a dot, the abnormal ones red;
  // the reference range a band.
  await panel.locator('.lab-chart svg').first().waitFor();
  assert.equal(await panel.locator('.lab-chart svg').count(), tests.size);
  const figure = panel.getByRole('img', { name: new RegExp(`^${first.name} \\(${first.unit.replace(/[*]/g, '\\*')}\\) over time: `) });
  assert.equal(await figure.count(), 1);
  assert.equal(await panel.locator('.lab-chart svg circle').count(), labs.results.filter((x) => x.value !== null).length);
  assert.equal(await panel.locator('.lab-chart svg circle[fill="#a4161a"]').count(), flagged);
  assert.equal(await panel.locator('.lab-chart svg [fill="#1b6b34"] rect').count(), tests.size);
  await r.shot('demo-note-labs');

  // The table is reached with Tab from the note text.
  await page.locator('pre.note').focus();
  let reached = false;
  for (let i = 0; i < 20 && !reached; ++i) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Patient\'s lab results');
  }
  assert.ok(reached, 'Tab from the note reaches the lab table');
  r.assertNoErrors();
}));

test('labs item: every result is drawn against its own reference range', () => screenshotsOnFailure(async () => {
  const { manager, reader1, project_id } = await demoProject(env, 'notes');
  // Potassium from labs whose ranges differ: 5.3 is inside the first range (3.5–5.5) and
  // outside the second (3.5–5.1); the last result's range (3.2–4.5) would put the first one
  // outside, and the third (3.4, low for its own range) inside.
  const rows = [['2024-03-01T06:00:00Z', 5.3, 3.5, 5.5, null], ['2024-03-02T06:00:00Z', 5.3, 3.5, 5.1, 'high'],
                ['2024-03-03T06:00:00Z', 3.4, 3.5, 5.1, 'low'], ['2024-03-04T06:00:00Z', 4.0, 3.2, 4.5, null]];
  const csv = 'patient,time,loinc,name,value,unit,ref_low,ref_high\n' +
    rows.map(([time, value, low, high]) => `MRN-E2E-LABS,${time},2823-3,Potassium,${value},mmol/L,${low},${high}\n`).join('');
  const uploaded = await manager.upload(`/api/v1/projects/${project_id}/labs`, {
    metadata: { name: 'metadata.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ format: 'csv' })) },
    content: { name: 'labs.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) },
  });
  assert.equal(uploaded.status, 200, JSON.stringify(uploaded.json));
  assert.equal(uploaded.json.stored, rows.length, JSON.stringify(uploaded.json));
  const item_id = uploaded.json.records[0].item_id;
  await assign(manager, item_id, reader1.id);

  const r = await openFromQueue(env, 'notes', 'reader1', 'labs', item_id);
  const { page } = r;
  const figure = page.getByRole('img', { name: 'Potassium (mmol/L) over time: 4 results, 2 outside the reference range, ' +
    'reference range 3.5 to 5.5, then reference range 3.5 to 5.1, then reference range 3.2 to 4.5' });
  await figure.waitFor();
  const svg = page.locator('.lab-chart svg');
  // A band per stretch of one range (the second and third results share theirs).
  const bands = await svg.locator('[fill="#1b6b34"] rect').evaluateAll((rects) => rects.map((e) => ({
    x: Number(e.getAttribute('x')), y: Number(e.getAttribute('y')),
    width: Number(e.getAttribute('width')), height: Number(e.getAttribute('height')) })));
  assert.equal(bands.length, 3, JSON.stringify(bands));
  const dots = await svg.locator('circle').evaluateAll((circles) => circles.map((e) => ({
    x: Number(e.getAttribute('cx')), y: Number(e.getAttribute('cy')), red: e.getAttribute('fill') === '#a4161a',
    title: e.querySelector('title')?.textContent ?? '' })));
  assert.equal(dots.length, rows.length);
  dots.sort((a, b) => a.x - b.x);
  rows.forEach(([, value, low, high, flag], i) => {
    const dot = dots[i];
    assert.equal(dot.red, flag !== null, `result ${i + 1}: ${dot.title}`);
    assert.ok(dot.title.startsWith(`${value} mmol/L`) && dot.title.endsWith(`reference range ${low} to ${high}`), dot.title);
    // The band behind the dot is its own result's range: the dot is inside it exactly when normal.
    const band = bands.find((b) => b.x <= dot.x && dot.x <= b.x + b.width);
    assert.ok(band, `a band behind result ${i + 1}`);
    const inside = band.y - 0.5 <= dot.y && dot.y <= band.y + band.height + 0.5;
    assert.equal(inside, flag === null, `result ${i + 1} (${value}, ${flag ?? 'normal'}) against its band ${JSON.stringify(band)}`);
  });
  await r.shot('labs-item-own-ranges');
  r.assertNoErrors();
}));
