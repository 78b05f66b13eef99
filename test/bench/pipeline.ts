import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { topics } from '@linewatch/protocol';
import { InfluxDB } from 'influx';
import { DEFAULT_LINE } from '@linewatch/simulators';
import mqtt from 'mqtt';
import { killAll, REPO_ROOT } from './children.js';
import { runBare, runPipeline, type BareResult, type BenchContext, type LoadResult } from './phases.js';
import { benchLine } from './snapshots.js';
import { median, round } from './stats.js';

/**
 * `npm run bench:pipeline [-- --quick] [-- --runs N]`: bare broker vs the full detector pipeline
 * (Mosquitto → detector → InfluxDB) on this machine. Results: a markdown table on stdout and
 * test/artifacts/bench-pipeline.json. See docs/benchmarks.md.
 */
const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' } } });
const quick = flags.quick === true;
const runs = Math.max(1, Math.min(10, Number(flags.runs ?? (quick ? 1 : 3))));
const P = quick
  ? { bareCount: 10_000, latRate: 1000, latSecs: 4, nearRate: 3000, nearSecs: 2, maxCount: 10_000, maxMs: 15_000 }
  : { bareCount: 100_000, latRate: 1000, latSecs: 20, nearRate: 5000, nearSecs: 10, maxCount: 100_000, maxMs: 60_000 };

const TARGETS = { ratio: 0.7, p99Ms: 20 };
const MQTT_URL = process.env.BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const INFLUX_URL = process.env.BENCH_INFLUX_URL ?? 'http://127.0.0.1:8086';
for (const u of [MQTT_URL, INFLUX_URL]) {
  if (new URL(u).hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, not ${u}`);
}

interface RunResult { bare: BareResult; bareLatency: BareResult; latency: LoadResult; near: LoadResult; max: LoadResult; ratio: number }

/**
 * Ten snapshots per station at a low rate before measuring, so every station's state exists and the first
 * measured second is not also the first second of the process.
 */
const COPIES = 8;
const WARM_UP = { rate: 200, count: COPIES * DEFAULT_LINE.stations.length * 10, maxMs: 20_000 };

let cleaning: Promise<void> | undefined;
/** Once only: the signal handler and the main path may both ask for it. */
const cleanup = (ctx: BenchContext): Promise<void> => (cleaning ??= doCleanup(ctx));

async function doCleanup(ctx: BenchContext): Promise<void> {
  await killAll();
  // Retained meta/state we published and retained statuses the detectors published.
  for (const line of ctx.lines) {
    for (const s of benchLine(line, ctx.copies).stations) {
      for (const kind of ['meta', 'state', 'status'] as const) {
        await ctx.client.publishAsync(topics[kind](line, s.id), '', { qos: 1, retain: true }).catch(() => undefined);
      }
    }
  }
  // The detectors use persistent sessions; a clean connect under each id ends them on the broker.
  for (const clientId of ctx.detectorIds) {
    const c = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 }).catch(() => undefined);
    await c?.endAsync();
  }
  await ctx.client.endAsync();
  const u = new URL(INFLUX_URL);
  await new InfluxDB({ host: u.hostname, port: Number(u.port) }).dropDatabase(ctx.database).catch((err: unknown) => {
    console.error(`could not drop ${ctx.database}:`, err);
  });
}

function table(rows: RunResult[]): string {
  const m = (f: (r: RunResult) => number): string => {
    const v = median(rows.map(f));
    return Number.isFinite(v) ? String(round(v, 1)) : '–';
  };
  const lost = (f: (r: RunResult) => number): string => String(rows.reduce((a, r) => a + f(r), 0));
  const load = (name: string, f: (r: RunResult) => LoadResult): string =>
    `| ${name} | ${m((r) => f(r).published)} | ${m((r) => f(r).rate)} | ${lost((r) => f(r).lost)} | ${m((r) => f(r).latency.p50)} | ${m((r) => f(r).latency.p99)} | ${m((r) => f(r).latency.max)} | ≤ ${m((r) => f(r).publishToDecisionMs.p50)} / ≤ ${m((r) => f(r).publishToDecisionMs.p99)} | ≤ ${m((r) => f(r).decisionLatencyMs.p50)} / ≤ ${m((r) => f(r).decisionLatencyMs.p99)} | ${m((r) => f(r).rssMedianMiB)} / ${m((r) => f(r).rssPeakMiB)} |`;
  return [
    `Medians of ${rows.length} run(s); "lost" is summed over all runs.`,
    '',
    '| phase | snapshots | sustained /s | lost | status p50 ms | status p99 ms | status max ms | publish→decision p50 / p99 ms | in detector p50 / p99 ms | detector RSS MiB (median / peak) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| A: bare broker, max | ${m((r) => r.bare.published)} | ${m((r) => r.bare.rate)} | ${lost((r) => r.bare.lost)} | – | – | – | – | – | – |`,
    `| A1: bare broker, ${P.latRate}/s | ${m((r) => r.bareLatency.published)} | ${m((r) => r.bareLatency.rate)} | ${lost((r) => r.bareLatency.lost)} | – | – | – | ${m((r) => r.bareLatency.latencyMs?.p50 ?? Number.NaN)} / ${m((r) => r.bareLatency.latencyMs?.p99 ?? Number.NaN)} (publish → received) | – | – |`,
    load(`B1: pipeline, ${P.latRate}/s`, (r) => r.latency),
    load(`B3: pipeline, ${P.nearRate}/s`, (r) => r.near),
    load('B2: pipeline, max', (r) => r.max),
    '',
    `Ratio pipeline max / bare broker (per run, then median): **${m((r) => r.ratio * 100)} %**`,
  ].join('\n');
}

async function main(): Promise<void> {
  const stamp = String(Date.now());
  const client = await mqtt.connectAsync(MQTT_URL, { clientId: `bench-${stamp}-ctl`, clean: true, reconnectPeriod: 1000, connectTimeout: 5000 });
  const ctx: BenchContext = {
    mqttUrl: MQTT_URL, influxUrl: INFLUX_URL, database: `lwbench_${stamp}`, stamp, copies: COPIES, window: 1000, client, lines: [], detectorIds: [],
  };
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    console.error('interrupted: stopping children and cleaning up');
    void cleanup(ctx).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = Date.now();
  const rows: RunResult[] = [];
  try {
    for (let run = 1; run <= runs && !interrupted; run++) {
      console.error(`run ${run}/${runs}: A bare broker`);
      const bare = await runBare(ctx, run, P.bareCount, P.maxMs);
      console.error(`  bare ${JSON.stringify(bare)}`);
      console.error(`run ${run}/${runs}: A1 bare broker at ${P.latRate}/s (latency)`);
      const bareLatency = await runBare(ctx, run, P.latRate * P.latSecs, P.latSecs * 1000 + 10_000, P.latRate);
      console.error(`  bare ${JSON.stringify(bareLatency)}`);
      console.error(`run ${run}/${runs}: B1 pipeline at ${P.latRate}/s`);
      const [, latency] = await runPipeline(ctx, `lat-r${run}`, 250, [
        WARM_UP,
        { rate: P.latRate, count: P.latRate * P.latSecs, maxMs: P.latSecs * 1000 + 10_000 },
      ]);
      console.error(`  ${JSON.stringify(latency)}`);
      console.error(`run ${run}/${runs}: B3 ${P.nearRate}/s then B2 max`);
      const [, near, max] = await runPipeline(ctx, `max-r${run}`, 250, [
        WARM_UP,
        { rate: P.nearRate, count: P.nearRate * P.nearSecs, maxMs: P.nearSecs * 1000 + 10_000 },
        { rate: 'max', count: P.maxCount, maxMs: P.maxMs },
      ]);
      console.error(`  ${JSON.stringify(near)}\n  ${JSON.stringify(max)}`);
      rows.push({ bare, bareLatency, latency: latency!, near: near!, max: max!, ratio: max!.rate / bare.rate });
    }
  } finally {
    await cleanup(ctx);
  }
  if (rows.length === 0) return;

  const md = table(rows);
  const lostTotal = rows.reduce((a, r) => a + r.bare.lost + r.bareLatency.lost + r.latency.lost + r.near.lost + r.max.lost, 0);
  const ratio = median(rows.map((r) => r.ratio));
  // The measure: publish → decision, from the detector's histogram of (decision time − snapshot ts),
  // read as the bucket's upper bound so a 'met' is never flattering.
  const p99 = median(rows.map((r) => r.latency.publishToDecisionMs.p99));
  const targets = { ratioMet: ratio >= TARGETS.ratio, p99Met: p99 < TARGETS.p99Ms, nothingLost: lostTotal === 0 };
  const out = {
    when: new Date(started).toISOString(), quick, runs, params: P, targets: { ...TARGETS, ...targets },
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30), node: process.version },
    durationS: round((Date.now() - started) / 1000), results: rows,
  };
  const file = path.join(REPO_ROOT, 'test/artifacts/bench-pipeline.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(md);
  console.log(`\nTargets: ratio ≥ ${TARGETS.ratio * 100} %: ${targets.ratioMet ? 'met' : 'MISSED'}; publish→decision p99 < ${TARGETS.p99Ms} ms at ${P.latRate}/s: ${targets.p99Met ? 'met' : 'MISSED'}; nothing lost: ${targets.nothingLost ? 'met' : 'MISSED'}`);
  console.log(`(${out.durationS} s; JSON in ${path.relative(REPO_ROOT, file)})`);
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(err);
    await killAll();
    // An interrupt makes the phase in progress fail; let its cleanup finish before exiting.
    await cleaning;
    process.exit(cleaning ? 130 : 1);
  },
);
