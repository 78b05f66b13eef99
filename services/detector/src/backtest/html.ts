import type { BacktestReport } from './backtest.js';
import type { EventGroup, PointMetrics } from './evaluate.js';
import { escapeHtml as esc, formatScore, scorePlot } from './plot.js';
import { summaryLines } from './summary.js';
import type { RunTrace } from './trace.js';

/** Plots beyond this are left out (and the report says how many): a report is read, not scrolled for ever. */
const MAX_PLOTS = 40;
const MAX_TABLE_ROWS = 500;

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const secs = (ms: number | null): string => (ms === null ? '—' : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`);
const iso = (ts: number): string => new Date(ts).toISOString().replace('.000Z', 'Z');
const num = (x: number | null, digits = 2): string => (x === null ? '—' : x.toFixed(digits));

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#0f1419;color:#d8dee6}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;border-bottom:1px solid #2a323c;padding-bottom:4px}
.muted{color:#8b96a3}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#18202a;border:1px solid #2a323c;border-radius:8px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:24px;color:#fff}.card span{color:#8b96a3;font-size:12px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:3px 8px;border-bottom:1px solid #222a33}th{color:#8b96a3;font-weight:500}
td:first-child,th:first-child{text-align:left}.ok{color:#5cc97b}.bad{color:#ff6b6b}
figure{margin:14px 0;background:#141b23;border:1px solid #2a323c;border-radius:8px;padding:8px}
figcaption{font-size:13px;margin-bottom:4px}svg{width:100%;height:auto;display:block}
.bg{fill:#10161d}.win{fill:#f2b233;opacity:.28}.smax{fill:none;stroke:#6cb6ff;stroke-width:1.2}
.smin{fill:none;stroke:#6cb6ff;stroke-width:.8;opacity:.35}.thr{fill:none;stroke:#ff6b6b;stroke-dasharray:4 3;stroke-width:1}
.alarm{fill:#ff6b6b}.false{fill:#d96bff}.mark{fill:#5cc97b}.tick{fill:#8b96a3;font-size:10px;text-anchor:end}.start{text-anchor:start}
.legend span{margin-right:14px}.sw{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
`;

function card(value: string, label: string): string {
  return `<div class="card"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
}

function pointRow(name: string, m: PointMetrics): string {
  return `<tr><td>${esc(name)}</td><td>${pct(m.precision)}</td><td>${pct(m.recall)}</td><td>${pct(m.f1)}</td><td>${pct(m.far)}</td><td>${pct(m.mar)}</td><td>${m.tp}</td><td>${m.fp}</td><td>${m.tn}</td><td>${m.fn}</td></tr>`;
}
const POINT_HEAD = '<tr><th></th><th>precision</th><th>recall</th><th>F1</th><th>FAR</th><th>MAR</th><th>TP</th><th>FP</th><th>TN</th><th>FN</th></tr>';

function eventCells(g: EventGroup): string {
  const cls = g.missed > 0 ? 'bad' : 'ok';
  return `<td>${g.windows}</td><td class="${cls}">${g.detected}</td><td>${pct(g.detectionRate)}</td><td>${secs(g.timeToDetect.medianMs)}</td><td>${secs(g.timeToDetect.p90Ms)}</td><td>${secs(g.timeToDetect.maxMs)}</td>`;
}

function plots(report: BacktestReport, traces: RunTrace[]): string {
  const candidates = traces.flatMap((run) =>
    run.stations.map((t) => {
      const windows = report.windows.filter((w) => w.run === run.run && w.line === t.line && w.station === t.station);
      const episodes = report.episodes.filter((e) => e.run === run.run && e.line === t.line && e.station === t.station);
      const rank = windows.some((w) => !w.detected) ? 0 : episodes.some((e) => e.window === null) ? 1 : windows.length > 0 ? 2 : 3;
      return { run, t, windows, episodes, rank };
    }),
  );
  const shown = candidates.filter((c) => c.rank < 3).sort((a, b) => a.rank - b.rank).slice(0, MAX_PLOTS);
  const left = candidates.filter((c) => c.rank < 3).length - shown.length;
  if (shown.length === 0) return '<p class="muted">No fault windows and no alerts: nothing to plot.</p>';
  const figures = shown.map(({ run, t, windows, episodes }) => {
    const what = [
      ...windows.map((w) => `${esc(w.fault)} ${w.detected ? `<span class="ok">detected in ${secs(w.timeToDetectMs)}</span>` : '<span class="bad">missed</span>'}${w.shown.length > 0 ? ` (shown ${esc(w.shown.join(', '))})` : ''}`),
      ...episodes.filter((e) => e.window === null).map((e) => `<span class="bad">false alert at ${iso(e.start)}</span>`),
    ];
    return `<figure><figcaption><b>${esc(t.station)}</b> · ${esc(run.run)} · ${what.join(' · ')}</figcaption>${scorePlot(t, windows, episodes)}</figure>`;
  });
  const legend = `<p class="legend muted"><span><i class="sw" style="background:#6cb6ff"></i>score (max and min per pixel, log scale)</span><span><i class="sw" style="background:#ff6b6b"></i>threshold / ALARM</span><span><i class="sw" style="background:#f2b233;opacity:.5"></i>labelled fault</span><span><i class="sw" style="background:#d96bff"></i>false alert</span><span><i class="sw" style="background:#5cc97b"></i>detected</span></p>`;
  return `${legend}${figures.join('\n')}${left > 0 ? `<p class="muted">${left} more station runs with faults or alerts are in report.json.</p>` : ''}`;
}

/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched. Built only from the
 * report and the traces, so the same backtest gives the same bytes.
 */
export function renderHtml(report: BacktestReport, traces: RunTrace[]): string {
  const e = report.events;
  const falseAlerts = report.episodes.filter((x) => x.window === null);
  const windowsTable = report.windows.slice(0, MAX_TABLE_ROWS).map((w) =>
    `<tr><td>${esc(w.run)}</td><td>${esc(w.station)}</td><td>${esc(w.fault)}</td><td>${iso(w.start)}</td><td>${secs(w.end - w.start)}</td><td class="${w.detected ? 'ok' : 'bad'}">${w.detected ? 'detected' : 'missed'}</td><td>${secs(w.timeToDetectMs)}</td><td>${esc(w.shown.join(', '))}</td></tr>`,
  );
  const alertsTable = falseAlerts.slice(0, MAX_TABLE_ROWS).map((a) =>
    `<tr><td>${esc(a.run)}</td><td>${esc(a.station)}</td><td>${iso(a.start)}</td><td>${secs(a.end - a.start)}</td><td>${a.samples}</td><td>${formatScore(a.peakScore)}</td><td>${esc(a.id)}</td></tr>`,
  );
  const body = [
    `<h1>linewatch backtest</h1>`,
    `<p class="muted">${report.totals.runs} run(s) · ${report.totals.telemetry} snapshots (${report.totals.scored} scored, ${report.totals.unscored} unscored) · models ${esc(report.options.model)} · WARN after ${report.options.rules.warnAfter}, ALARM after ${report.options.rules.alarmAfter}, OK after ${report.options.rules.clearAfter} · grace ${secs(report.options.graceMs)}</p>`,
    ...summaryLines(report).filter((l) => /^(WARNING|note) /.test(l)).map((l) => `<p class="${l.startsWith('WARNING') ? 'bad' : 'muted'}">${esc(l.replace(/^\S+\s+/, ''))}</p>`),
    `<div class="cards">${[
      card(`${e.detected}/${e.windows}`, 'fault windows detected'),
      card(secs(e.timeToDetect.medianMs), 'median time to detect'),
      card(num(e.falseAlertsPerShift), `false alerts per ${report.options.shiftHours} h shift`),
      card(pct(report.samplewise.precision), 'precision (per sample)'),
      card(pct(report.samplewise.recall), 'recall (per sample)'),
      card(pct(report.samplewise.far), 'false-alarm rate (per sample)'),
    ].join('')}</div>`,
    `<h2>Point-wise</h2><p class="muted">Every scored snapshot of every run, pooled. "Sample": the model's own decision, score above threshold. "Alarm": the station in ALARM after the debounce rules, as an operator sees it.</p>`,
    `<table>${POINT_HEAD}${pointRow('sample', report.samplewise)}${pointRow('alarm', report.alarmwise)}</table>`,
    `<h2>Faults by type</h2><table><tr><th>fault</th><th>windows</th><th>detected</th><th>rate</th><th>TTD median</th><th>TTD p90</th><th>TTD max</th></tr>${e.byFault.map((g) => `<tr><td>${esc(g.fault)}</td>${eventCells(g)}</tr>`).join('')}<tr><td><b>all</b></td>${eventCells(e)}</tr></table>`,
    `<h2>By station</h2><table><tr><th>station</th><th>windows</th><th>detected</th><th>rate</th><th>TTD median</th><th>TTD p90</th><th>TTD max</th><th>false alerts</th><th>hours</th><th>per shift</th></tr>${e.byStation.map((s) => `<tr><td>${esc(`${s.line}/${s.station}`)}</td>${eventCells(s)}<td class="${s.falseAlerts > 0 ? 'bad' : ''}">${s.falseAlerts}</td><td>${num(s.hours)}</td><td>${num(s.falseAlertsPerShift)}</td></tr>`).join('')}</table>`,
    `<table>${POINT_HEAD}${Object.entries(report.samplewise.byStation).map(([name, m]) => pointRow(name, m)).join('')}</table>`,
    `<h2>Score against threshold</h2>${plots(report, traces)}`,
    `<h2>Fault windows</h2><table><tr><th>run</th><th>station</th><th>fault</th><th>start</th><th>length</th><th>result</th><th>time to detect</th><th>also shown</th></tr>${windowsTable.join('')}</table>${report.windows.length > MAX_TABLE_ROWS ? `<p class="muted">${report.windows.length - MAX_TABLE_ROWS} more in report.json</p>` : ''}`,
    `<h2>False alerts</h2>${falseAlerts.length === 0 ? '<p class="ok">None.</p>' : `<table><tr><th>run</th><th>station</th><th>start</th><th>length</th><th>samples</th><th>peak score</th><th>alert id</th></tr>${alertsTable.join('')}</table>`}`,
    `<h2>Runs</h2><table><tr><th>run</th><th>source</th><th>labels</th><th>start</th><th>stations</th><th>snapshots</th><th>unscored</th></tr>${report.runs.map((r) => `<tr><td>${esc(r.run)}</td><td>${esc(r.source)}</td><td>${esc(r.labels)}</td><td>${iso(r.start)}</td><td>${r.stations}</td><td>${r.telemetry}</td><td>${r.unscored}</td></tr>`).join('')}</table>`,
  ];
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>linewatch backtest</title><style>${STYLE}</style></head><body><main>\n${body.join('\n')}\n</main></body></html>\n`;
}
