// The quality dashboard (Observable Plot) over GET /projects/{id}/quality: agreement per class
// with 95% intervals, rejection and adjudication rates over time, error by class and modality,
// reviewer variance against the adjudicated labels with each reader's confusion matrix, QA
// findings linked to their items, and the subgroup report of the latest built dataset snapshot.

import * as Plot from '@observablehq/plot';
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { kRejectReasonText } from '../api/models';
import type { RateReport, SessionInfo } from '../api/models';
import { PlotFigure } from '../components/plot_figure';
import { Failure, Loading } from '../components/status';
import { loadProject, shortId, useLoad } from '../project';
import { linkClick } from '../router';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(0)}%`);
const ciText = (ci: [number | null, number | null] | null) =>
  ci && ci[0] !== null && ci[1] !== null ? ` (95% CI ${pct(ci[0])}–${pct(ci[1])})` : '';

// The references a reader is scored against (docs/quality.md); fused first: it covers every
// item read twice, where adjudicated items are only the disagreements.
type Reference = 'fused' | 'adjudicated' | 'gold';
const kReferences: [Reference, string][] = [
  ['fused', 'Fused label (Dawid–Skene)'], ['adjudicated', 'Adjudicated label'], ['gold', 'Gold answer'],
];

function RateOverTime({ reports, label }: { reports: [string, RateReport][]; label: string }) {
  const rows = reports.flatMap(([name, r]) => r.over_time.filter((p) => p.rate !== null).map((p) => ({
    series: name, t: new Date(p.bucket_start), rate: p.rate, lo: p.ci[0], hi: p.ci[1], n: p.n,
  })));
  if (rows.length === 0) return <p class="muted">No reviewed readings yet.</p>;
  return <PlotFigure label={label} make={() => Plot.plot({
    height: 240, width: 640, y: { label: 'rate', domain: [0, 1], tickFormat: '%', grid: true }, x: { label: null },
    color: { legend: true },
    marks: [
      Plot.areaY(rows, { x: 't', y1: 'lo', y2: 'hi', fill: 'series', fillOpacity: 0.15 }),
      Plot.lineY(rows, { x: 't', y: 'rate', stroke: 'series', marker: 'circle' }),
      Plot.tip(rows, Plot.pointerX({ x: 't', y: 'rate', title: (d: { series: string; rate: number; n: number }) => `${d.series}: ${pct(d.rate)} of ${d.n}` })),
    ],
  })} />;
}

function RateBars({ report, label }: { report: RateReport; label: string }) {
  const rows = report.by_group.filter((g) => g.rate !== null).map((g) => ({ group: g.group, rate: g.rate, lo: g.ci[0], hi: g.ci[1], n: g.n }));
  if (rows.length === 0) return <p class="muted">Nothing adjudicated to compare against yet.</p>;
  return <PlotFigure label={label} make={() => Plot.plot({
    marginLeft: 140, height: 40 + 28 * rows.length, width: 560,
    x: { label: 'error rate', domain: [0, 1], tickFormat: '%', grid: true }, y: { label: null },
    marks: [
      Plot.barX(rows, { x: 'rate', y: 'group', fill: '#0b4f8a' }),
      Plot.ruleY(rows, { x1: 'lo', x2: 'hi', y: 'group', stroke: '#16202a', strokeWidth: 2 }),
      Plot.text(rows, { x: 'hi', y: 'group', text: (d: { n: number }) => `n=${d.n}`, dx: 14 }),
    ],
  })} />;
}

// The subgroup report (docs/export.md) is made when a snapshot is built; the latest built one's is
// shown to those who may list the exports (managers and data stewards), read as the exports
// screen reads it (audited).
function SubgroupReport({ project_id, canList }: { project_id: string; canList: boolean }) {
  const [data, error] = useLoad(async () => {
    if (!canList) return { built: null, html: '' };
    const page = await api.get('/api/v1/projects/{project_id}/exports', { project_id });
    const built = page.data.filter((x) => x.status === 'built').sort((a, b) => b.version - a.version)[0] ?? null;
    if (!built) return { built, html: '' };
    const res = await api.getRaw('/api/v1/projects/{project_id}/exports/{export_id}/files/{name}',
                                 { project_id, export_id: built.id, name: 'subgroup_report.html' });
    return { built, html: await res.text() };
  }, [project_id, canList]);
  const exportsLink = <a href={`/projects/${project_id}/exports`} onClick={linkClick}>exports</a>;
  let body;
  if (!canList) {
    body = <p class="muted">Each built dataset snapshot comes with its subgroup report; managers and data stewards read it here and
      under {exportsLink}.</p>;
  } else if (error) {
    body = <p class="error" role="alert">Could not read the subgroup report: {error}</p>;
  } else if (!data) {
    body = <Loading />;
  } else if (!data.built) {
    body = <p class="muted">No snapshot is built yet; the report is made with each one ({exportsLink}).</p>;
  } else {
    const title = `Subgroup report of snapshot version ${data.built.version}`;
    body = (
      <>
        <p>{title}, built {new Date(data.built.decided_at ?? data.built.requested_at).toLocaleString()}; earlier versions under {exportsLink}.</p>
        <iframe class="report" title={title} sandbox="" srcdoc={data.html} />
      </>
    );
  }
  return (
    <section aria-labelledby="subgroup-h">
      <h2 id="subgroup-h">Subgroup report</h2>
      {body}
    </section>
  );
}

export function QualityDashboard({ params, session }: { params: Record<string, string>; session: SessionInfo }) {
  const project_id = params.project_id!;
  const [bucket, setBucket] = useState('week');
  const [reference, setReference] = useState<Reference>('fused');
  const [data, error] = useLoad(async () => {
    const ctx = await loadProject(project_id, session);
    const q = await api.get('/api/v1/projects/{project_id}/quality', { project_id }, { bucket });
    return { ctx, q };
  }, [project_id, bucket]);
  if (error) return <Failure message={error} />;
  if (!data) return <Loading />;
  const { ctx, q } = data;
  const agreement = q.agreement.filter((a) => a.alpha !== null);
  const rv = reference === 'adjudicated' ? q.reviewers : q.reviewers[reference];
  const scored = rv.readers.filter((r) => r.n > 0);
  return (
    <main id="main">
      <p class="crumbs"><a href={`/projects/${project_id}`} onClick={linkClick}>{ctx.project.name}</a> › quality</p>
      <h1>Quality dashboard</h1>
      <dl class="kpis">
        <div><dt>Items</dt><dd>{q.items}</dd></div>
        <div><dt>Readings</dt><dd>{q.readings}</dd></div>
        <div><dt>Adjudicated items</dt><dd>{q.adjudicated_items}</dd></div>
        <div><dt>Rejection rate</dt><dd>{pct(q.rejection_rate.overall.rate)}</dd></div>
        <div><dt>Adjudication rate</dt><dd>{pct(q.adjudication_rate.overall.rate)}</dd></div>
      </dl>

      <section aria-labelledby="agree-h">
        <h2 id="agree-h">Agreement per class (Krippendorff's alpha, nominal, 95% CI)</h2>
        {agreement.length === 0 ? <p class="muted">No class has two readings of one item yet.</p> : (
          <PlotFigure label="Agreement per class with confidence intervals" make={() => Plot.plot({
            marginLeft: 160, height: 40 + 30 * agreement.length, width: 640,
            x: { label: 'alpha', domain: [-1, 1], grid: true }, y: { label: null },
            marks: [
              Plot.ruleX([0, 0.667, 0.8], { stroke: '#c5ced8', strokeDasharray: '4 3' }),
              Plot.ruleY(agreement, { x1: (d: { ci: number[] | null; alpha: number }) => d.ci?.[0] ?? d.alpha,
                                      x2: (d: { ci: number[] | null; alpha: number }) => d.ci?.[1] ?? d.alpha, y: 'label_class', strokeWidth: 2 }),
              Plot.dot(agreement, { x: 'alpha', y: 'label_class', r: 5, fill: '#0b4f8a' }),
              Plot.text(agreement, { x: 'alpha', y: 'label_class', text: (d: { alpha: number; items: number }) => `${d.alpha.toFixed(2)} (${d.items} items)`, dy: -12 }),
            ],
          })} />
        )}
        <ul class="muted">{q.agreement.filter((a) => a.note).map((a) => <li key={a.label_class}>{a.label_class}: {a.note}</li>)}</ul>
      </section>

      <section aria-labelledby="rates-h">
        <h2 id="rates-h">Rejection and adjudication rates over time</h2>
        <label>Period
          <select value={bucket} onChange={(e) => setBucket(e.currentTarget.value)}>
            <option value="day">day</option><option value="week">week</option><option value="month">month</option>
          </select>
        </label>
        <p>Rejection {pct(q.rejection_rate.overall.rate)}{ciText(q.rejection_rate.overall.ci)} of {q.rejection_rate.overall.n} reviews ·
          adjudication {pct(q.adjudication_rate.overall.rate)}{ciText(q.adjudication_rate.overall.ci)} of {q.adjudication_rate.overall.n} items</p>
        <RateOverTime label="Rejection and adjudication rates over time" reports={[['rejection', q.rejection_rate], ['adjudication', q.adjudication_rate]]} />
        <table class="grid" aria-label="Rejections by reason">
          <thead><tr><th scope="col">Reason</th><th scope="col">Rejections</th></tr></thead>
          <tbody>
            {q.rejections_by_reason.map((r) => (
              <tr key={r.reason_code}><td>{kRejectReasonText[r.reason_code]}</td><td>{r.rejections}</td></tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="err-h">
        <h2 id="err-h">Error against the adjudicated label, by class and by modality</h2>
        <div class="two">
          <RateBars report={q.error_rate_by_class} label="Error rate by class" />
          <RateBars report={q.error_rate_by_modality} label="Error rate by modality" />
        </div>
      </section>

      <section aria-labelledby="rev-h">
        <h2 id="rev-h">Reviewer variance</h2>
        <label>Reference
          <select value={reference} onChange={(e) => setReference(e.currentTarget.value as Reference)}>
            {kReferences.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
          </select>
        </label>
        <p class="muted">Against the {rv.reference}; {rv.test} (α = {rv.alpha}).</p>
        {scored.length === 0 ? <p class="muted">No reading has this reference yet.</p> : (
          <table class="grid" aria-label="Reviewer variance">
            <thead><tr><th scope="col">Reader</th><th scope="col">Readings</th><th scope="col">Accuracy</th><th scope="col">Peers</th><th scope="col">p (Holm)</th><th scope="col">Flag</th><th scope="col">Confusion (rows: reference; columns: reader)</th></tr></thead>
            <tbody>
              {scored.map((r) => (
                <tr key={r.reader} class={r.flagged ? 'warn' : ''}>
                  <td>{shortId(r.reader)}</td><td>{r.n}</td><td>{pct(r.accuracy)}</td><td>{pct(r.peers_accuracy)}</td>
                  <td>{r.p_adjusted.toFixed(3)}</td><td>{r.flagged ? 'deviates' : ''}</td>
                  <td>
                    <table class="confusion" aria-label={`Confusion matrix of reader ${shortId(r.reader)}`}>
                      <thead><tr><th scope="col"></th>{rv.categories.map((c) => <th key={c} scope="col">{c}</th>)}</tr></thead>
                      <tbody>{r.confusion.map((row, i) => (
                        <tr key={i}><th scope="row">{rv.categories[i]}</th>{row.map((v, j) => <td key={j} class={i === j ? 'diag' : v ? 'off' : ''}>{v}</td>)}</tr>
                      ))}</tbody>
                    </table>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="qa-h">
        <h2 id="qa-h">QA findings ({q.findings.length})</h2>
        {q.findings.length === 0 ? <p class="muted">No rule found anything.</p> : (
          <table class="grid">
            <thead><tr><th scope="col">Severity</th><th scope="col">Rule</th><th scope="col">Item</th><th scope="col">Class</th><th scope="col">Finding</th><th scope="col">Fix</th></tr></thead>
            <tbody>{q.findings.map((f, i) => (
              <tr key={i} class={f.severity === 'error' ? 'warn' : ''}>
                <td>{f.severity}</td><td>{f.rule}</td>
                <td>{f.item_id ? <a href={`/projects/${project_id}/adjudicate/${f.item_id}`} onClick={linkClick}>{shortId(f.item_id)}</a> : '—'}</td>
                <td>{f.label_class ?? '—'}</td><td>{f.message}</td><td>{f.fix}</td>
              </tr>
            ))}</tbody>
          </table>
        )}
      </section>
      <SubgroupReport project_id={project_id} canList={ctx.roles.some((r) => r === 'manager' || r === 'data_steward')} />
    </main>
  );
}
