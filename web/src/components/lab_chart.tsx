// Small multiples of one patient's numeric lab results over time (Observable Plot; this module
// is loaded lazily by labs.tsx): one chart per test and unit — a test reported in two units gets
// two charts, so nothing is converted for drawing — with each result's own reference range as a
// band behind it (or a dashed line when it has one bound: ranges differ between labs and change
// over time), the results joined by a line, and those outside their range drawn larger in red
// with their H or L.

import * as Plot from '@observablehq/plot';
import { useMemo } from 'preact/hooks';
import type { LabResult } from '../api/models';
import { PlotFigure } from './plot_figure';

export interface LabChartProps { results: LabResult[] }

interface Point { t: Date; value: number; flag: LabResult['flag']; low: number | null; high: number | null }
// A stretch of time over which the results had one reference range: from half-way to the result
// before its first to half-way to the result after its last.
interface Range { x1: Date; x2: Date; low: number | null; high: number | null }
interface Series { key: string; title: string; unit: string; points: Point[]; ranges: Range[] }

const kHalfDay = 43_200_000;

// Consecutive results with the same range make one stretch; a range is its result's alone.
function rangesOf(points: Point[]): Range[] {
  const ranges: Range[] = [];
  points.forEach((p, i) => {
    const t = p.t.getTime();
    const before = i > 0 ? (t - points[i - 1]!.t.getTime()) / 2 : null;
    const after = i + 1 < points.length ? (points[i + 1]!.t.getTime() - t) / 2 : null;
    // The ends reach as far out as the neighbouring half-gap (half a day for a single result).
    const x1 = new Date(t - (before ?? after ?? kHalfDay)), x2 = new Date(t + (after ?? before ?? kHalfDay));
    const last = ranges[ranges.length - 1];
    if (last && last.low === p.low && last.high === p.high) last.x2 = x2;
    else ranges.push({ x1, x2, low: p.low, high: p.high });
  });
  return ranges.filter((r) => r.low !== null || r.high !== null);
}

// Numeric results with a valid time, by test (LOINC code, else name) and unit, in order of first
// appearance, each with its own reference range.
function seriesOf(results: LabResult[]): Series[] {
  const byKey = new Map<string, Series>();
  for (const r of results) {
    const t = new Date(r.time);
    if (r.value === null || Number.isNaN(t.getTime())) continue;
    const key = `${r.loinc || r.name}\u001f${r.unit}`;
    let s = byKey.get(key);
    if (!s) {
      s = { key, title: `${r.name || r.loinc}${r.unit ? ` (${r.unit})` : ''}`, unit: r.unit, points: [], ranges: [] };
      byKey.set(key, s);
    }
    s.points.push({ t, value: r.value, flag: r.flag, low: r.ref_low, high: r.ref_high });
  }
  for (const s of byKey.values()) {
    s.points.sort((a, b) => a.t.getTime() - b.t.getTime());
    s.ranges = rangesOf(s.points);
  }
  return [...byKey.values()];
}

function rangeText(low: number | null, high: number | null): string {
  return low !== null && high !== null ? `reference range ${low} to ${high}`
    : high !== null ? `upper limit ${high}` : low !== null ? `lower limit ${low}` : 'no reference range';
}

function describe(s: Series): string {
  const outside = s.points.filter((p) => p.flag !== null).length;
  const ranges = s.ranges.map((r) => rangeText(r.low, r.high));
  return `${s.title} over time: ${s.points.length} result${s.points.length === 1 ? '' : 's'}, ` +
    `${outside} outside the reference range` + (ranges.length ? `, ${ranges.join(', then ')}` : '');
}

function chart(s: Series): SVGSVGElement | HTMLElement {
  const abnormal = s.points.filter((p) => p.flag !== null);
  const banded = s.ranges.filter((r) => r.low !== null && r.high !== null);
  const oneBound = s.ranges.filter((r) => (r.low === null) !== (r.high === null));
  // Dates on the axis: a tick a day over a short stay, else months.
  const days = (s.points[s.points.length - 1]!.t.getTime() - s.points[0]!.t.getTime()) / 86_400_000;
  return Plot.plot({
    width: 260, height: 130, marginLeft: 44, marginRight: 14, marginTop: 14, marginBottom: 24,
    x: { type: 'utc', label: null, ...(days <= 6 ? { ticks: 'day', tickFormat: '%b %-d' } : { ticks: 3, tickFormat: '%Y-%m' }) },
    y: { label: null, nice: true, ticks: 4, grid: true },
    marks: [
      Plot.rect(banded, { x1: 'x1', x2: 'x2', y1: 'low', y2: 'high', fill: '#1b6b34', fillOpacity: 0.14 }),
      Plot.ruleY(oneBound, { y: (r: Range) => r.low ?? r.high, x1: 'x1', x2: 'x2', stroke: '#1b6b34', strokeDasharray: '4 3' }),
      Plot.lineY(s.points, { x: 't', y: 'value', stroke: '#0b4f8a' }),
      Plot.dot(s.points, {
        x: 't', y: 'value', r: (p: Point) => (p.flag ? 4.5 : 3), fill: (p: Point) => (p.flag ? '#a4161a' : '#0b4f8a'),
        title: (p: Point) => `${p.value} ${s.unit}${p.flag ? ` (${p.flag === 'high' ? 'H' : 'L'})` : ''}, ${rangeText(p.low, p.high)}`,
      }),
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
