import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './children.js';
import { runLatency, type LatencyResult } from './alerts-latency.js';
import { runBurst, type BurstResult } from './alerts-outbox.js';
import { median, round } from './stats.js';

/**
 * `npm run bench:alerts [-- --quick] [-- --runs N] [-- --drain-s S] [-- --concurrency 8,32] [-- --profile]`:
 * alerting on this machine.
 * 1. Decision → webhook: the real API fed over the real broker, one subscription, episodes at a modest rate.
 * 2. Outbox burst: 10,000 new alerts at once to 10 subscriptions (100,000 deliveries), at two dispatcher
 *    concurrencies in the same run.
 * Loopback only. Results: a markdown table on stdout and test/artifacts/bench-alerts.json. See docs/benchmarks.md.
 */
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    'drain-s': { type: 'string' },
    concurrency: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const quick = flags.quick === true;

function concurrencies(list: string): number[] {
  const values = list.split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 1 || v > 256)) throw new Error(`--concurrency wants integers 1..256, comma-separated, not ${list}`);
  return values;
}
const runs = Math.max(1, Math.min(10, Number(flags.runs ?? (quick ? 1 : 3))));
const P = {
  latency: quick ? { episodes: 100, warmUp: 10, rate: 20 } : { episodes: 520, warmUp: 20, rate: 20 },
  resolveLag: 5,
  burst: {
    alerts: quick ? 1_000 : 10_000,
    subscriptions: 10,
    concurrencies: concurrencies(flags.concurrency ?? '8,32'),
    batch: 100,
    // With the outbox as it is, 100,000 deliveries take far longer than a bench run may (docs/benchmarks.md), so
    // the phase stops here and counts what is still pending; `--drain-s 1800` waits for all of them.
    drainMaxMs: 1000 * Math.max(5, Math.min(3600, Number(flags['drain-s'] ?? (quick ? 15 : 30)))),
  },
};

const MQTT_URL = process.env.BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
if (new URL(MQTT_URL).hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, not ${MQTT_URL}`);
const PROFILE_DIR = path.join(REPO_ROOT, 'test/artifacts/bench-alerts-profile');

interface RunResult {
  latency: LatencyResult;
  bursts: BurstResult[];
}

const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? String(round(v, digits)) : '–');

function tables(rows: RunResult[]): string {
  const m = (f: (r: RunResult) => number, digits = 1): string => fmt(median(rows.map(f)), digits);
  const sum = (f: (r: RunResult) => number): string => String(rows.reduce((a, r) => a + f(r), 0));
  const L = (r: RunResult): LatencyResult => r.latency;
  const latency = [
    `| decision → webhook, ${P.latency.rate} episodes/s | ${m((r) => L(r).decisionToWebhookMs.n, 0)} | ${m((r) => L(r).decisionToWebhookMs.p50)} | ${m((r) => L(r).decisionToWebhookMs.p99)} | ${m((r) => L(r).decisionToWebhookMs.max)} | ${sum((r) => L(r).missing)} / ${sum((r) => L(r).duplicates)} |`,
    `| … of which status published → API decided (firingAt) | | ${m((r) => L(r).publishToFiringMs.p50)} | ${m((r) => L(r).publishToFiringMs.p99)} | ${m((r) => L(r).publishToFiringMs.max)} | |`,
    `| … of which decided → webhook received | | ${m((r) => L(r).firingToWebhookMs.p50)} | ${m((r) => L(r).firingToWebhookMs.p99)} | ${m((r) => L(r).firingToWebhookMs.max)} | |`,
  ];
  const burstRow = (i: number): string => {
    const B = (r: RunResult): BurstResult => r.bursts[i] as BurstResult;
    const drained = rows.filter((r) => B(r).drained).length;
    const due = (r: RunResult): number => B(r).due.totalMs / Math.max(1, B(r).due.calls);
    return `| ${B(rows[0] as RunResult).concurrency} | ${m((r) => B(r).enqueueS, 2)} s (${m((r) => B(r).alertsPerS, 0)} alerts/s, ${m((r) => B(r).enqueuesPerS, 0)} enqueues/s) | ${drained}/${rows.length} runs; ${m((r) => B(r).deliverS, 1)} s | ${m((r) => B(r).unique, 0)} | ${m((r) => B(r).deliveriesPerS, 0)} | ${m((r) => B(r).enqueueToArrivalMs.p50, 0)} / ${m((r) => B(r).enqueueToArrivalMs.p99, 0)} | ${sum((r) => B(r).lost)} / ${sum((r) => B(r).duplicates)} / ${m((r) => B(r).pendingAtStop, 0)} | ${m((r) => B(r).rssPeakMiB, 0)} | ${m((r) => B(r).cpuPct, 0)} | ${m((r) => B(r).loopDelayMs.p99, 0)} | ${m(due, 1)} / ${m((r) => B(r).due.maxMs, 0)} |`;
  };
  const { alerts, subscriptions, drainMaxMs } = P.burst;
  return [
    `Medians of ${rows.length} run(s); missing, lost and duplicates are summed over all runs.`,
    '',
    '| decision → webhook | firing webhooks | p50 ms | p99 ms | max ms | missing / duplicates |',
    '|---|---:|---:|---:|---:|---:|',
    ...latency,
    '',
    `Outbox burst: ${alerts.toLocaleString('en')} alerts × ${subscriptions} subscriptions = ${(alerts * subscriptions).toLocaleString('en')} deliveries, at most ${drainMaxMs / 1000} s from the first enqueue.`,
    '',
    '| dispatcher concurrency | enqueue all | drained; first enqueue → last arrival | delivered | deliveries/s | enqueue → arrival p50 / p99 ms | lost / duplicates / still pending | peak RSS MiB | CPU % of a core | event-loop delay p99 ms | Outbox.due mean / max ms |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...P.burst.concurrencies.map((_, i) => burstRow(i)),
  ].join('\n');
}

async function main(signal: AbortSignal): Promise<void> {
  const stamp = String(Date.now());
  const started = Date.now();
  const rows: RunResult[] = [];
  const execArgv = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  if (flags.profile) mkdirSync(PROFILE_DIR, { recursive: true });
  for (let run = 1; run <= runs; run++) {
    signal.throwIfAborted();
    console.error(`run ${run}/${runs}: decision → webhook, ${P.latency.warmUp} + ${P.latency.episodes} episodes at ${P.latency.rate}/s`);
    const latency = await runLatency({
      mqttUrl: MQTT_URL, line: `bench-alerts-${stamp}-r${run}`, ...P.latency, resolveLag: P.resolveLag, settleMs: 15_000, signal,
    });
    console.error(`  ${JSON.stringify(latency)}`);
    const bursts: BurstResult[] = [];
    for (const concurrency of P.burst.concurrencies) {
      signal.throwIfAborted();
      console.error(`run ${run}/${runs}: outbox burst, concurrency ${concurrency}`);
      const { concurrencies: _, ...burst } = P.burst;
      const result = await runBurst({ ...burst, concurrency, execArgv });
      console.error(`  ${JSON.stringify({ ...result, due: undefined, recordAttempt: undefined, enqueue: undefined })}`);
      bursts.push(result);
    }
    rows.push({ latency, bursts });
  }

  const out = {
    when: new Date(started).toISOString(), quick, runs, params: P,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30), node: process.version, tmpdir: os.tmpdir() },
    durationS: round((Date.now() - started) / 1000), results: rows,
  };
  const file = path.join(REPO_ROOT, 'test/artifacts/bench-alerts.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(tables(rows));
  const total = (f: (b: BurstResult) => number): number => rows.reduce((a, r) => a + r.bursts.reduce((b, x) => b + f(x), 0), 0);
  const lost = rows.reduce((a, r) => a + r.latency.missing, 0) + total((b) => b.lost);
  const strange = total((b) => b.unknown + b.dead + b.malformed + b.busListenerErrors);
  console.log(`\nNothing lost: ${lost === 0 ? 'met' : `MISSED (${lost})`}; unknown ids, dead letters, malformed bodies, listener errors: ${strange}`);
  console.log(`(${out.durationS} s; JSON in ${path.relative(REPO_ROOT, file)}${flags.profile ? `; CPU profiles of the burst processes in ${path.relative(REPO_ROOT, PROFILE_DIR)}` : ''})`);
}

const abort = new AbortController();
process.on('SIGINT', () => {
  if (abort.signal.aborted) process.exit(130);
  console.error('interrupted: stopping the phase and cleaning up (Ctrl-C again to quit at once)');
  abort.abort();
});
main(abort.signal).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(abort.signal.aborted ? 130 : 1);
  },
);
