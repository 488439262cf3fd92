// Lab results, one way everywhere: a labs item's content (labs ingest's JSON {"results": [...]},
// or a CSV uploaded as a plain item) and the "Patient's labs" panel beside a note
// (GET /items/{id}/labs) are both LabResult lists, shown as one table (time, test, value and
// unit, reference range, H/L flag) under small charts of the numeric results per test
// (lab_chart.tsx, loaded with the first results to draw: Observable Plot stays out of the app).

import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, errorText } from '../api/client';
import type { LabResult } from '../api/models';
import { lazyComponent } from '../lazy';
import type { LabChartProps } from './lab_chart';

const LazyLabChart = lazyComponent<LabChartProps>(
  () => import('./lab_chart').then((m) => m.LabChart),
  () => <p class="loading" role="status">Loading the lab charts…</p>,
  (error) => <p class="error" role="alert">Could not load the lab charts: {error}</p>);

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells: string[] = [];
    let cur = '', quoted = false;
    for (let i = 0; i < line.length; ++i) {
      const c = line[i]!;
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') { cur += '"'; ++i; }
        else if (c === '"') quoted = false;
        else cur += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') { cells.push(cur); cur = ''; }
      else cur += c;
    }
    cells.push(cur);
    rows.push(cells);
  }
  return rows;
}

const numberOrNull = (text: string | undefined): number | null => {
  if (text === undefined || text.trim() === '') return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
};

// "low" below the reference range, "high" above it, null inside it or without a value or range
// (the rule of src/app/labs.cpp Flag).
function labFlag(r: Pick<LabResult, 'value' | 'ref_low' | 'ref_high'>): LabResult['flag'] {
  if (r.value === null) return null;
  if (r.ref_low !== null && r.value < r.ref_low) return 'low';
  if (r.ref_high !== null && r.value > r.ref_high) return 'high';
  return null;
}

// A Caliper labs CSV (the column names and synonyms of docs/labs.md) as results; columns it
// does not name are not shown.
function resultsOfCsv(text: string): LabResult[] {
  const [head, ...rows] = parseCsv(text);
  if (!head) return [];
  const names = head.map((h) => h.trim().toLowerCase());
  return rows.map((row) => {
    const cell = (...synonyms: string[]) => {
      const at = names.findIndex((n) => synonyms.includes(n));
      return at < 0 ? undefined : row[at]?.trim();
    };
    let ref_low = numberOrNull(cell('ref_low', 'range_low'));
    let ref_high = numberOrNull(cell('ref_high', 'range_high'));
    const range = cell('reference_range')?.match(/^\s*(?:([\d.]+)\s*-\s*([\d.]+)|<\s*([\d.]+)|>\s*([\d.]+))\s*$/);
    if (range) {
      ref_low ??= numberOrNull(range[1] ?? range[4]);
      ref_high ??= numberOrNull(range[2] ?? range[3]);
    }
    const valueText = cell('value') ?? '';
    const value = numberOrNull(valueText);
    const r: LabResult = {
      time: cell('time', 'collected_at') ?? '', loinc: cell('loinc', 'code') ?? '', name: cell('name', 'test_name') ?? '',
      value, value_text: value === null ? valueText : '', unit: cell('unit') ?? '', ref_low, ref_high, flag: null,
      normalised: null,
    };
    r.flag = labFlag(r);
    return r;
  });
}

// The results of a labs item's content, or why it cannot be read.
function labResultsOf(text: string, contentType: string): LabResult[] | string {
  if (!contentType.startsWith('application/json')) return resultsOfCsv(text);
  try {
    const doc = JSON.parse(text) as { results?: unknown };
    if (Array.isArray(doc.results)) return doc.results as LabResult[];
  } catch {
    // reported below
  }
  return 'The item is not a lab results document ({"results": [...]}).';
}

// "2024-03-03T06:12:00Z" as "2024-03-03 06:12" (UTC); other text as it is.
const timeText = (t: string) => t.match(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?Z$/)?.slice(1).join(' ') ?? t;

function rangeText(r: LabResult): string {
  if (r.ref_low !== null && r.ref_high !== null) return `${r.ref_low}–${r.ref_high}`;
  if (r.ref_high !== null) return `≤ ${r.ref_high}`;
  if (r.ref_low !== null) return `≥ ${r.ref_low}`;
  return '—';
}

// The results as a table, with how many are outside their reference range.
function LabTable({ results, label }: { results: LabResult[]; label: string }) {
  if (results.length === 0) return <p class="muted">No results.</p>;
  const outside = results.filter((r) => r.flag !== null).length;
  return (
    <>
      <p class="muted">{results.length} results, {outside} outside their reference range (flagged H or L).</p>
      <div class="table-wrap labs-wrap" tabIndex={0} role="region" aria-label={label}>
        <table class="labs">
          <thead><tr>
            <th scope="col">Time (UTC)</th><th scope="col">Test</th><th scope="col">Value</th>
            <th scope="col">Reference range</th><th scope="col">Flag</th>
          </tr></thead>
          <tbody>{results.map((r, i) => (
            <tr key={i} class={r.flag ? 'abnormal' : ''}>
              <td>{timeText(r.time)}</td>
              <td>{r.name || r.loinc}{r.name && r.loinc && <span class="muted"> · LOINC {r.loinc}</span>}</td>
              <td class="num">{r.value ?? r.value_text} {r.unit}</td>
              <td class="num">{rangeText(r)}</td>
              <td>{r.flag && <strong title={r.flag === 'high' ? 'above the reference range' : 'below the reference range'}>{r.flag === 'high' ? 'H' : 'L'}</strong>}</td>
            </tr>
          ))}</tbody>
        </table>
      </div>
    </>
  );
}

// Charts of the numeric results (when there are any), then the table.
function LabResults({ results, label }: { results: LabResult[]; label: string }) {
  return (
    <>
      {results.some((r) => r.value !== null) && <LazyLabChart results={results} />}
      <LabTable results={results} label={label} />
    </>
  );
}

// A labs item's content (`text`, of `contentType`) as charts and table.
export function LabItemResults({ text, contentType }: { text: string; contentType: string }) {
  const results = useMemo(() => labResultsOf(text, contentType), [text, contentType]);
  return typeof results === 'string' ? <p class="error" role="alert">{results}</p> : <LabResults results={results} label="Lab results" />;
}

// The "Patient's labs" panel: every lab result of the item's patient (GET /items/{id}/labs), or
// one muted line when there are none or the reader's scopes leave labs out (403).
export function PatientLabsPanel({ itemId }: { itemId: string }) {
  const [results, setResults] = useState<LabResult[] | null>(null);
  const [error, setError] = useState('');
  const [outOfScope, setOutOfScope] = useState(false);
  useEffect(() => {
    let current = true;  // an answer for an item no longer shown is dropped
    setResults(null);
    setError('');
    setOutOfScope(false);
    api.get('/api/v1/items/{item_id}/labs', { item_id: itemId })
      .then((labs) => { if (current) setResults(labs.results); })
      .catch((e) => {
        if (!current) return;
        if (e instanceof ApiError && e.status === 403) setOutOfScope(true);
        else setError(errorText(e));
      });
    return () => { current = false; };
  }, [itemId]);
  return (
    <section aria-labelledby="patient-labs-h" class="patient-labs">
      <h2 id="patient-labs-h">Patient's labs</h2>
      {outOfScope ? <p class="muted">Your access in this project does not include labs.</p>
        : error ? <p class="error" role="alert">The patient's labs could not be read: {error}</p>
        : results === null ? <p class="muted" role="status">Loading the patient's labs…</p>
        : results.length === 0 ? <p class="muted">No lab results for this patient.</p>
        : <LabResults results={results} label="Patient's lab results" />}
    </section>
  );
}
