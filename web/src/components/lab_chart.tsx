// Small multiples of one patient's numeric lab results over time (Observable Plot; this module
// is loaded lazily by labs.tsx): one chart per test and unit — a test reported in two units gets
// two charts, so nothing is converted for drawing — with the reference range as a band (or a
// dashed line when it has one bound), the results joined by a line, and those outside the range
// drawn larger in red with their H or L.

import * as Plot from '@observablehq/plot';
import { useMemo } from 'preact/hooks';
import type { LabResult } from '../api/models';
import { PlotFigure } from './plot_figure';

export interface LabChartProps { results: LabResult[] }

interface Point { t: Date; value: number; flag: LabResult['flag'] }
interface Series { key: string; title: string; low: number | null; high: number | null; points: Point[] }

// Numeric results with a valid time, by test (LOINC code, else name) and unit, in order of first
// appearance; each series takes the reference range of its latest result that has one.
function seriesOf(results: LabResult[]): Series[] {
  const byKey = new Map<string, Series>();
  for (const r of results) {
    const t = new Date(r.time);
    if (r.value === null || Number.isNaN(t.getTime())) continue;
    const key = `${r.loinc || r.name}\u001f${r.unit}`;
    let s = byKey.get(key);
    if (!s) {
      s = { key, title: `${r.name || r.loinc}${r.unit ? ` (${r.unit})` : ''}`, low: null, high: null, points: [] };
      byKey.set(key, s);
    }
    s.points.push({ t, value: r.value, flag: r.flag });
  }
  for (const s of byKey.values()) {
    s.points.sort((a, b) => a.t.getTime() - b.t.getTime());
    const ranged = results.filter((r) => `${r.loinc || r.name}\u001f${r.unit}` === s.key && (r.ref_low !== null || r.ref_high !== null));
    const last = ranged[ranged.length - 1];
    if (last) { s.low = last.ref_low; s.high = last.ref_high; }
  }
  return [...byKey.values()];
}

function describe(s: Series): string {
  const outside = s.points.filter((p) => p.flag !== null).length;
  const range = s.low !== null && s.high !== null ? `, reference range ${s.low} to ${s.high}`
    : s.high !== null ? `, upper limit ${s.high}` : s.low !== null ? `, lower limit ${s.low}` : '';
  return `${s.title} over time: ${s.points.length} result${s.points.length === 1 ? '' : 's'}, ` +
    `${outside} outside the reference range${range}`;
}

function chart(s: Series): SVGSVGElement | HTMLElement {
  const abnormal = s.points.filter((p) => p.flag !== null);
  const bounds = [s.low, s.high].filter((v): v is number => v !== null);
  // Dates on the axis: a tick a day over a short stay, else months.
  const days = (s.points[s.points.length - 1]!.t.getTime() - s.points[0]!.t.getTime()) / 86_400_000;
  return Plot.plot({
    width: 260, height: 130, marginLeft: 44, marginRight: 14, marginTop: 14, marginBottom: 24,
    x: { type: 'utc', label: null, ...(days <= 6 ? { ticks: 'day', tickFormat: '%b %-d' } : { ticks: 3, tickFormat: '%Y-%m' }) },
    y: { label: null, nice: true, ticks: 4, grid: true },
    marks: [
      s.low !== null && s.high !== null
        ? Plot.rectY([s], { y1: 'low', y2: 'high', fill: '#1b6b34', fillOpacity: 0.14 })
        : Plot.ruleY(bounds, { stroke: '#1b6b34', strokeDasharray: '4 3' }),
      Plot.lineY(s.points, { x: 't', y: 'value', stroke: '#0b4f8a' }),
      Plot.dot(s.points, { x: 't', y: 'value', r: (p: Point) => (p.flag ? 4.5 : 3), fill: (p: Point) => (p.flag ? '#a4161a' : '#0b4f8a') }),
      Plot.text(abnormal, { x: 't', y: 'value', text: (p: Point) => (p.flag === 'high' ? 'H' : 'L'), dy: -9, fill: '#a4161a', fontWeight: 'bold' }),
    ],
  });
}

export function LabChart({ results }: LabChartProps) {
  // Drawn again only for other results, not whenever the room around re-renders.
  const figures = useMemo(() => seriesOf(results).map((s) => ({ s, label: describe(s), make: () => chart(s) })), [results]);
  return (
    <div class="lab-charts">
      {figures.map(({ s, label, make }) => (
        <figure key={s.key} class="lab-chart">
          <figcaption>{s.title}</figcaption>
          <PlotFigure label={label} make={make} />
        </figure>
      ))}
    </div>
  );
}
