import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GROWTH_RULE, type GrowthVerdict, type Integrity, type IntervalRow, type SoakArgs, type SoakVerdict } from './soak-stats.js';

/** The table's columns: header, width on the terminal, and the value of a row. */
const COLUMNS: [string, number, (r: IntervalRow) => number][] = [
  ['t s', 6, (r) => r.tS],
  ['pub/s', 6, (r) => r.publishedPerS],
  ['written/s', 9, (r) => r.writtenPerS],
  ['scored/s', 8, (r) => r.scoredPerS],
  ['e2e p50 ms', 10, (r) => r.e2eP50Ms],
  ['e2e p99 ms', 10, (r) => r.e2eP99Ms],
  ['det RSS MiB', 11, (r) => r.detectorRssMiB],
  ['det heap MiB', 12, (r) => r.detectorHeapMiB],
  ['API RSS MiB', 11, (r) => r.apiRssMiB],
  ['API heap MiB', 12, (r) => r.apiHeapMiB],
  ['det lag p99 ms', 14, (r) => r.detectorLagP99Ms],
  ['API lag p99 ms', 14, (r) => r.apiLagP99Ms],
  ['load lag p99 ms', 15, (r) => r.loadLagP99Ms],
  ['dead letters', 12, (r) => r.deadLetters],
  ['dropped', 7, (r) => r.dropped],
  ['write buffer', 12, (r) => r.writeBuffer],
  ['API readings/s', 14, (r) => r.apiReadingsPerS],
];

const show = (n: number): string => (Number.isFinite(n) ? String(n) : '–');

export const tableHeader = (): string => COLUMNS.map(([h, w]) => h.padStart(w)).join(' ');
export const tableLine = (r: IntervalRow): string => COLUMNS.map(([, w, f]) => show(f(r)).padStart(w)).join(' ');

export interface SoakReport {
  when: string;
  args: SoakArgs;
  line: string;
  database: string;
  stations: number;
  machine: { cpus: number; model: string | undefined; memGiB: number; node: string };
  rows: IntervalRow[];
  memory: Record<string, GrowthVerdict>;
  growthRule: typeof GROWTH_RULE;
  integrity: Integrity;
  /** What the load generator and the detector counted in total, for reading the integrity numbers. */
  totals: Record<string, number>;
  verdict: SoakVerdict;
  durationS: number;
}

function markdown(r: SoakReport): string {
  const rule = r.growthRule;
  return [
    `# Soak ${r.when}`,
    '',
    `${r.args.rate} snapshots/s over ${r.stations} stations for ${r.args.minutes} min, a row every ${r.args.intervalS} s; line \`${r.line}\`, database \`${r.database}\`.`,
    `Machine: ${r.machine.cpus} × ${r.machine.model ?? '?'}, ${r.machine.memGiB} GiB, Node ${r.machine.node}. Wall time ${r.durationS} s.`,
    '',
    `**Verdict: ${r.verdict.ok ? 'PASS' : 'FAIL'}**${r.verdict.reasons.map((x) => `\n- ${x}`).join('')}`,
    '',
    `| ${COLUMNS.map(([h]) => h).join(' | ')} |`,
    `|${COLUMNS.map(() => '---:').join('|')}|`,
    ...r.rows.map((row) => `| ${COLUMNS.map(([, , f]) => show(f(row))).join(' | ')} |`),
    '',
    'e2e = the snapshot\'s ts (publish time) to its decision in the detector, from the detector\'s histogram per interval (bucket upper bounds).',
    'Lag = prom-client\'s event-loop delay p99 over the interval (10 ms timer resolution). Dead letters, dropped: cumulative.',
    '',
    '## Memory',
    '',
    `Rule: after a warm-up of ${rule.warmupFraction * 100} % of the run (at least ${rule.warmupMinS / 60}, at most ${rule.warmupMaxS / 60} min), RSS grows without bound when the least-squares trend`,
    `exceeds ${rule.limitMiBPer24h} MiB/24h (${(rule.limitMiBPer24h / 24).toFixed(1)} MiB/h) AND the last third's median exceeds the middle third's by more than`,
    `max(${rule.marginMiB} MiB, ${rule.marginFraction * 100} %). "Detectable" is the slowest growth this run's length could flag.`,
    '',
    '| process | judged samples | trend MiB/h | projected MiB/24h | middle-third median MiB | last-third median MiB | margin MiB | detectable MiB/h | grows |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...Object.entries(r.memory).map(
      ([p, v]) =>
        `| ${p} | ${v.samples} | ${v.slopeMiBPerH} | ${v.projected24hMiB} | ${v.middleMedianMiB} | ${v.lastMedianMiB} | ${v.marginMiB} | ${v.detectableMiBPerH} | ${v.judged ? (v.grows ? '**yes**' : 'no') : 'not judged'} |`,
    ),
    '',
    '## Readings in InfluxDB',
    '',
    '| sent | stored | distinct seq | missing | duplicates |',
    '|---:|---:|---:|---:|---:|',
    `| ${r.integrity.sent} | ${r.integrity.stored} | ${r.integrity.distinct} | ${r.integrity.missing} | ${r.integrity.duplicates} |`,
    '',
    `Totals: ${Object.entries(r.totals).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
  ].join('\n');
}

/** Writes `<base>.json` and `<base>.md`; returns their paths. */
export function writeReport(report: SoakReport, base: string): { json: string; md: string } {
  mkdirSync(path.dirname(base), { recursive: true });
  const json = `${base}.json`;
  const md = `${base}.md`;
  // JSON has no NaN; null says "not read".
  writeFileSync(json, `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  writeFileSync(md, markdown(report));
  return { json, md };
}
