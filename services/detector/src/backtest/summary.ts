import type { BacktestReport } from './backtest.js';
import type { PointMetrics } from './evaluate.js';

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const secs = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

function point(name: string, m: PointMetrics): string {
  return `${name.padEnd(10)} precision ${pct(m.precision)}  recall ${pct(m.recall)}  F1 ${pct(m.f1)}  FAR ${pct(m.far)}  MAR ${pct(m.mar)}  (TP ${m.tp} FP ${m.fp} TN ${m.tn} FN ${m.fn})`;
}

/** The report in a few lines for the terminal. */
export function summaryLines(r: BacktestReport): string[] {
  const e = r.events;
  const lines = [
    `${r.totals.runs} run(s), ${r.totals.telemetry} snapshots, ${r.totals.scored} scored, ${r.totals.unscored} unscored, model ${r.options.model}`,
    point('per sample', r.samplewise),
    point('per alarm', r.alarmwise),
    `faults     ${e.detected}/${e.windows} detected (${pct(e.detectionRate)}), time to detect median ${secs(e.timeToDetect.medianMs)} p90 ${secs(e.timeToDetect.p90Ms)}`,
    `alerts     ${e.falseAlerts} false over ${e.hours.toFixed(2)} h: ${e.falseAlertsPerShift === null ? '—' : e.falseAlertsPerShift.toFixed(2)} per ${r.options.shiftHours}-hour shift${falseByKind(r)}`,
  ];
  const by = { UNMODELLED: 0, DATA_QUALITY: 0, warmingUp: 0, duplicateOrLate: 0 };
  for (const run of r.runs) for (const k of Object.keys(by) as (keyof typeof by)[]) by[k] += run.unscoredBy[k];
  if (by.UNMODELLED > 0) lines.push(`WARNING    ${by.UNMODELLED} snapshots had no model (UNMODELLED): check --model and the station types`);
  if (by.DATA_QUALITY > 0) lines.push(`WARNING    ${by.DATA_QUALITY} snapshots lacked a sensor their model needs (DATA_QUALITY)`);
  if (by.warmingUp > 0) lines.push(`note       ${by.warmingUp} snapshots opened a recipe step before a time-aware model had its earlier snapshots (warming up), stored but not scored`);
  if (by.duplicateOrLate > 0) lines.push(`note       ${by.duplicateOrLate} snapshots were duplicates or arrived late (seq), stored but not scored`);
  if (e.cutOff > 0) lines.push(`note       ${e.cutOff} fault windows opened after the recording ended for their station; not counted`);
  if (e.byFault.length > 0) {
    lines.push('', 'by fault type');
    for (const f of e.byFault) {
      const how = countBy(r.windows.filter((w) => w.fault === f.fault && w.detectedBy !== null).map((w) => w.detectedBy as string));
      lines.push(`  ${f.fault.padEnd(20)} ${f.detected}/${f.windows} detected, median time to detect ${secs(f.timeToDetect.medianMs)}${how ? `  (first by ${how})` : ''}`);
    }
  }
  lines.push('', 'by station');
  for (const s of e.byStation) {
    lines.push(`  ${`${s.line}/${s.station}`.padEnd(24)} faults ${s.detected}/${s.windows}  false alerts ${s.falseAlerts} (${s.falseAlertsPerShift === null ? '—' : s.falseAlertsPerShift.toFixed(2)}/shift)`);
  }
  return lines;
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `${k} ${n}`).join(', ');
}

/** ` (ALARM 1, DATA_QUALITY 2)` when there are false alerts. */
function falseByKind(r: BacktestReport): string {
  const how = countBy(r.episodes.filter((e) => e.window === null).map((e) => e.kind));
  return how ? ` (${how})` : '';
}
