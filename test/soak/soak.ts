import os from 'node:os';
import path from 'node:path';
import { InfluxDB } from 'influx';
import mqtt from 'mqtt';
import { REPO_ROOT, detectorMetrics, sleep } from '../bench/children.js';
import { benchLine } from '../bench/snapshots.js';
import { round } from '../bench/stats.js';
import { TEST_INFLUX_URL, TEST_MQTT_URL, requireServices } from '../support/services.js';
import { LoadGenerator } from './load.js';
import { tableHeader, tableLine, writeReport, type SoakReport } from './report.js';
import { Sampler, intervalRow } from './sampler.js';
import { GROWTH_RULE, growthVerdict, integrity, parseSoakArgs, soakVerdict, type IntervalRow } from './soak-stats.js';
import { startSoakStack, type SoakStack } from './stack.js';

/**
 * `npm run soak [-- --minutes 10] [--interval 10] [--keep]`: the detector and API as processes on the shared Mosquitto
 * and InfluxDB under 1,000 snapshots/s for a set time. Prints a row every interval (throughput, end-to-end latency,
 * RSS, heap, event-loop lag, dead letters, dropped points, write buffer), then checks every reading reached InfluxDB
 * once, and exits 1 with the reasons when throughput fell short, memory grows without bound or readings are missing.
 * Reports: test/artifacts/soak/soak-<time>.json and .md.
 */
const args = parseSoakArgs(process.argv.slice(2), process.env);
const durationS = args.minutes * 60;
/** Start (≤ 60 s), drain (≤ 60 s), the InfluxDB counts and cleanup (≤ 60 s), with room to spare. */
const GRACE_S = 240;
const DRAIN_MS = 60_000;
for (const u of [TEST_MQTT_URL, TEST_INFLUX_URL]) {
  if (new URL(u).hostname !== '127.0.0.1') throw new Error(`the soak only talks to 127.0.0.1, not ${u}`);
}

const runId = Date.now().toString(36);
const lineId = `soak-${runId}`;
const database = `lwsoak_${runId}`;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const base = path.resolve(REPO_ROOT, args.outDir, `soak-${stamp}`);
// DEFAULT_LINE's eight tool types repeated: every station has a trained model.
const line = { line: lineId, stations: benchLine(lineId, Math.ceil(args.stations / 8)).stations.slice(0, args.stations) };

let stack: SoakStack | undefined;
let cleaning: Promise<void> | undefined;
/** Once only: the signal handler, the watchdog and the main path may all ask for it. */
const cleanup = (): Promise<void> => (cleaning ??= stack?.stop({ keepDatabase: args.keep }) ?? Promise.resolve());

async function storedByStation(influx: InfluxDB): Promise<Map<string, { count: number; distinct: number }>> {
  const where = `WHERE "line" = '${lineId}' GROUP BY "station"`;
  const out = new Map<string, { count: number; distinct: number }>();
  const count = await influx.query<{ n: number }>(`SELECT COUNT("seq") AS "n" FROM "raw"."reading" ${where}`, { database });
  const distinct = await influx.query<{ n: number }>(`SELECT COUNT(DISTINCT("seq")) AS "n" FROM "raw"."reading" ${where}`, { database });
  for (const g of count.groups()) out.set(String(g.tags.station), { count: Number(g.rows[0]?.n ?? 0), distinct: 0 });
  for (const g of distinct.groups()) {
    const s = String(g.tags.station);
    out.set(s, { count: out.get(s)?.count ?? 0, distinct: Number(g.rows[0]?.n ?? 0) });
  }
  return out;
}

async function main(): Promise<number> {
  if (!(await requireServices('mosquitto', 'influxdb'))) throw new Error(`the soak needs Mosquitto at ${TEST_MQTT_URL} and InfluxDB at ${TEST_INFLUX_URL}`);
  const started = Date.now();
  console.error(`soak ${lineId}: ${args.rate} snapshots/s over ${line.stations.length} stations for ${args.minutes} min; database ${database}`);
  stack = await startSoakStack({ mqttUrl: TEST_MQTT_URL, influxUrl: TEST_INFLUX_URL, database, line, logPrefix: base });
  const loadClient = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `${lineId}-load`, clean: true, reconnectPeriod: 1000, connectTimeout: 5000 });
  const load = new LoadGenerator(loadClient, line, args.rate);
  const s = stack;
  const sampler = new Sampler(
    { port: s.detector.port, pid: s.detector.child.pid }, { port: s.apiPort, pid: s.api.pid },
    () => ({ published: load.published, apiReadings: s.watched.readings }),
  );
  const rows: IntervalRow[] = [];
  let prev = await sampler.scrape();
  const loadStart = Date.now();
  load.start();
  console.log(tableHeader());
  // Bounded: one row per interval up to the duration, on a fixed schedule so a slow scrape does not stretch the run.
  const intervals = Math.ceil(durationS / args.intervalS);
  for (let i = 1; i <= intervals && s.failures.length === 0; i++) {
    await sleep(Math.max(0, loadStart + Math.min(i * args.intervalS, durationS) * 1000 - Date.now()));
    const cur = await sampler.scrape();
    const row = intervalRow(prev, cur, loadStart);
    rows.push(row);
    console.log(tableLine(row));
    prev = cur;
  }
  await load.stop(10_000);
  sampler.stop();

  // Drain: until the detector has written (or dead-lettered) every snapshot, bounded so a stuck detector still ends it.
  const drainEnd = Date.now() + DRAIN_MS;
  let m = new Map<string, number>();
  while (Date.now() < drainEnd && s.failures.length === 0) {
    m = await detectorMetrics(s.detector.port).catch(() => m);
    const done = (m.get('linewatch_readings_written_total') ?? 0) + (m.get('linewatch_dead_letters_total') ?? 0);
    if (done >= load.published && (m.get('linewatch_write_buffer_points') ?? 0) === 0) break;
    await sleep(250);
  }
  const u = new URL(TEST_INFLUX_URL);
  const influx = new InfluxDB({ host: u.hostname, port: Number(u.port || 8086) });
  const counts = integrity(load.sentByStation, await storedByStation(influx));
  await loadClient.endAsync();

  const memory = {
    detector: growthVerdict(rows.map((r) => ({ tS: r.tS, mib: r.detectorRssMiB })), durationS),
    api: growthVerdict(rows.map((r) => ({ tS: r.tS, mib: r.apiRssMiB })), durationS),
  };
  const verdict = soakVerdict({ rate: args.rate, rows, durationS, memory, integrity: counts, failures: s.failures });
  const report: SoakReport = {
    when: new Date(started).toISOString(), args, line: lineId, database, stations: line.stations.length,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30), node: process.version },
    rows, memory, growthRule: GROWTH_RULE, integrity: counts,
    totals: {
      published: load.published, acked: load.acked, publishErrors: load.errors, tsBumped: load.tsBumped,
      received: m.get('linewatch_messages_received_total') ?? Number.NaN, written: m.get('linewatch_readings_written_total') ?? Number.NaN,
      scored: m.get('linewatch_scores_written_total') ?? Number.NaN, unscored: m.get('linewatch_unscored_readings_total') ?? 0,
      deadLetters: m.get('linewatch_dead_letters_total') ?? 0, dropped: m.get('linewatch_points_dropped_total') ?? 0,
      writeErrors: m.get('linewatch_store_write_errors_total') ?? 0, journalSpilled: m.get('linewatch_journal_spilled_points_total') ?? 0,
      journalReplayed: m.get('linewatch_journal_replayed_points_total') ?? 0, apiReadingsToWatcher: s.watched.readings,
    },
    verdict, durationS: round((Date.now() - started) / 1000, 0),
  };
  const files = writeReport(report, base);
  console.log('');
  for (const [proc, v] of Object.entries(memory)) console.log(`memory ${proc}: ${v.judged ? (v.grows ? 'GROWS' : 'bounded') : 'not judged'}: ${v.detail}; detectable ≥ ${v.detectableMiBPerH} MiB/h`);
  console.log(`InfluxDB: sent ${counts.sent}, stored ${counts.stored}, distinct ${counts.distinct}, missing ${counts.missing}, duplicates ${counts.duplicates}`);
  console.log(`verdict: ${verdict.ok ? 'PASS' : 'FAIL'}${verdict.reasons.map((r) => `\n  - ${r}`).join('')}`);
  console.log(`reports: ${path.relative(REPO_ROOT, files.json)}, ${path.relative(REPO_ROOT, files.md)}${args.keep ? `; database ${database} kept` : ''}`);
  return verdict.ok ? 0 : 1;
}

const onSignal = (): void => {
  console.error('interrupted: stopping children and cleaning up');
  void cleanup().finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
// Whatever hangs, the soak ends by its duration plus a fixed grace.
setTimeout(() => {
  console.error(`soak still running ${GRACE_S} s past its ${args.minutes} min: giving up`);
  void cleanup().finally(() => process.exit(1));
}, (durationS + GRACE_S) * 1000).unref();

main().then(
  async (code) => {
    await cleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error('soak failed:', err);
    await cleanup();
    process.exit(1);
  },
);
