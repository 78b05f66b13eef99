import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { REPO_ROOT, detectorHistogram, detectorMetrics, forkWorker, killAll, sampleRss, sleep } from './children.js';
import { cpuBetween, cpuSnapshot } from './dashboard-cpu.js';
import { stationIds } from './dashboard-load.js';
import { PageProbe, fitViewport, heavyPath, waitForHeavyPath, type RendererMetrics } from './dashboard-page.js';
import { PageProfiler, traceMainThread } from './dashboard-profile.js';
import type { DashboardPublishJob, DashboardPublishResult } from './dashboard-publisher.js';
import { buildReport, printReport, type Sample } from './dashboard-report.js';
import { metricByLabels, startStack, type Stack } from './dashboard-stack.js';
import { parseBenchArgs, type DashboardBenchOptions } from './dashboard-stats.js';

/**
 * `npm run bench:dashboard [-- --seconds 60 --warmup 10 --stations 50 --sensors 20 --hz 10 --no-build --embedded-broker]`: the
 * dashboard page in real Chromium under a synthetic line (stations × sensors × hz) that flows through the real
 * stack: publisher → MQTT broker → detector → API → page. The page shows every tile (sparklines) and one station
 * view with its live charts. Results: a table on stdout and test/artifacts/bench-dashboard.json. See
 * docs/benchmarks.md.
 */
const opts = ((): DashboardBenchOptions => {
  try {
    return parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
})();
const DASHBOARD = path.join(REPO_ROOT, 'dashboard');
const ARTIFACTS = path.join(REPO_ROOT, 'test/artifacts');
/** Time the stack and the page get to show every tile and the station's charts before the warm-up counts. */
const PAGE_READY_MS = 45_000;
/** Longest the detector gets to work off its backlog once the publisher stops. */
const DRAIN_MS = 30_000;
const HEAP_EVERY_S = 5;
/** Chromium's own limit for a window is far above this; beyond it a run with 200 stations would paint a poster. */
const MAX_VIEWPORT_HEIGHT = 4320;

let stack: Stack | undefined;
let context: BrowserContext | undefined;
let dir = '';
let cleaning: Promise<void> | undefined;
/** Once only: Ctrl-C and the main path may both ask for it. */
const cleanup = (): Promise<void> => (cleaning ??= doCleanup());

async function doCleanup(): Promise<void> {
  await context?.close().catch(() => undefined);
  await killAll();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** The counters the report compares between the start and the end of the measured window. */
async function serverSample(s: Stack): Promise<Sample> {
  return {
    at: Date.now(),
    detector: await detectorMetrics(s.detector.port),
    readingAge: await detectorHistogram(s.detector.port, 'linewatch_reading_age_at_decision_seconds'),
    api: await detectorMetrics(s.apiPort),
    apiByKind: await metricByLabels(s.apiPort, 'linewatch_api_mqtt_messages_total'),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  if (opts.build) {
    // Always build: the dashboard is the thing under test, and a stale dist/ would measure yesterday's page.
    console.error('building the dashboard (vite build)');
    execFileSync('npx', ['vite', 'build'], { cwd: DASHBOARD, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
  }
  const stamp = String(Date.now());
  const line = `benchdash-${stamp}`;
  const shape = { stations: opts.stations, sensors: opts.sensors, hz: opts.hz };
  dir = await mkdtemp(path.join(os.tmpdir(), 'linewatch-bench-dashboard-'));
  console.error(`starting the stack for line ${line} (${shape.stations} stations × ${shape.sensors} sensors × ${shape.hz} Hz)`);
  stack = await startStack({ line, stamp, shape, dir, embeddedBroker: opts.embeddedBroker });
  const s = stack;

  const totalS = opts.warmup + opts.seconds + PAGE_READY_MS / 1000 + 30;
  const publisher = forkWorker<DashboardPublishResult>('dashboard-publisher.ts', {
    url: s.mqttUrl, clientId: `${line}-pub`, line, stations: shape.stations, sensors: shape.sensors, hz: shape.hz, maxMs: totalS * 1000, window: 2_000,
  } satisfies DashboardPublishJob, totalS * 1000 + 60_000);
  await publisher.ready;
  publisher.go();

  mkdirSync(path.join(dir, 'profile'));
  // 1920 wide, as a wall screen; fitViewport then makes it tall enough to paint the whole line and the station view.
  const sigintBefore = new Set(process.listeners('SIGINT'));
  context = await launchChromium(path.join(dir, 'profile'), { width: 1920, height: 1080 });
  // Playwright's own SIGINT handler closes the browser and then exits at once, before ours has stopped the stack
  // and cleared the broker; ours closes the browser too, so theirs goes.
  for (const listener of process.listeners('SIGINT')) if (!sigintBefore.has(listener)) process.off('SIGINT', listener);
  const page = context.pages()[0] ?? (await context.newPage());
  const probe = await PageProbe.attach(context, page);
  const watched = stationIds(shape.stations)[0] as string;
  console.error(`opening the page with the station view of ${watched}`);
  await page.goto(`${s.apiUrl}/#station=${encodeURIComponent(`${line}/${watched}`)}`);
  await waitForHeavyPath(page, shape.stations, PAGE_READY_MS);
  await fitViewport(page, MAX_VIEWPORT_HEIGHT);
  const ready = await heavyPath(page);
  // Diagnosis: LW_BENCH_HIDE=tiles, station, score or sensors hides that part, to see what each costs (the heavy-path check above ran first).
  const hide = process.env.LW_BENCH_HIDE;
  const hiding: Record<string, string> = {
    tiles: '#tiles',
    station: '#station-charts',
    score: '.chart-cell[data-chart="score"]',
    sensors: '.chart-cell:not([data-chart="score"])',
  };
  if (hide && hiding[hide]) {
    await page.addStyleTag({ content: `${hiding[hide]} { display: none !important; }` });
    console.error(`hiding ${hide} for this run: its numbers are not the page's`);
  }
  console.error(`page ready: ${JSON.stringify(ready)}; warming up ${opts.warmup} s`);
  await sleep(opts.warmup * 1000);

  const rssDetector = sampleRss(s.detector.child.pid!, 1000);
  const rssApi = sampleRss(s.api.pid!, 1000);
  const before = await serverSample(s);
  const heapStart = await probe.metricsAfterGc();
  const start = await probe.metrics();
  if (process.env.LW_BENCH_TRACE) console.error(`trace, 5 s before the window (inclusive times, nested events overlap):\n${(await traceMainThread(context, page, 5, 25)).join('\n')}`);
  await probe.startWindow(opts.seconds);
  const profiler = process.env.LW_BENCH_PROFILE ? await PageProfiler.start(context, page) : null;
  const t0 = Date.now();
  const cpuStart = cpuSnapshot();
  console.error(`measuring ${opts.seconds} s`);
  const heapSamples: { s: number; usedMiB: number; afterGc?: boolean }[] = [];
  // Bounded: one sample per HEAP_EVERY_S, then the rest of the window.
  for (let k = 1; k * HEAP_EVERY_S <= opts.seconds; k++) {
    await sleep(Math.max(0, t0 + k * HEAP_EVERY_S * 1000 - Date.now()));
    // Once a minute after a collection, so growth over a long run can be told from garbage not yet collected.
    const collected = (k * HEAP_EVERY_S) % 60 === 0;
    const m: RendererMetrics = collected ? await probe.metricsAfterGc() : await probe.metrics();
    heapSamples.push({ s: k * HEAP_EVERY_S, usedMiB: m.JSHeapUsedSize / 2 ** 20, ...(collected ? { afterGc: true } : {}) });
  }
  await sleep(Math.max(0, t0 + opts.seconds * 1000 - Date.now()));
  const end = await probe.metrics();
  if (profiler) {
    const top = await profiler.stop(path.join(ARTIFACTS, 'bench-dashboard.cpuprofile'));
    console.error(`page script by self time (profile in test/artifacts/bench-dashboard.cpuprofile):\n${top.join('\n')}`);
  }
  const cpu = cpuBetween(cpuStart, cpuSnapshot());
  const after = await serverSample(s);
  const rss = { detector: rssDetector.stop(), api: rssApi.stop() };
  // Long-task entries reach the observer after their task ends: give the last ones a moment.
  await sleep(300);
  const window = await probe.readWindow(opts.seconds);
  const heapEnd = await probe.metricsAfterGc();
  const shown = await heavyPath(page);
  await page.screenshot({ path: path.join(ARTIFACTS, 'bench-dashboard.png') }).catch(() => undefined);

  publisher.go();
  const pub = await publisher.result;
  // The detector's backlog when the tools stop, and how long it takes to work it off.
  const done = (m: Map<string, number>) => (m.get('linewatch_readings_written_total') ?? 0) + (m.get('linewatch_dead_letters_total') ?? 0);
  const atStop = await detectorMetrics(s.detector.port);
  const backlogAtStop = pub.acked - done(atStop);
  const drainStart = Date.now();
  let drained = done(atStop) >= pub.acked;
  while (!drained && Date.now() - drainStart < DRAIN_MS) {
    await sleep(100);
    drained = done(await detectorMetrics(s.detector.port)) >= pub.acked;
  }
  const drainMs = Date.now() - drainStart;
  if (s.failures.length > 0) throw new Error(s.failures.join('; '));

  const report = buildReport({
    opts, line, broker: s.broker, started, t0, pub, before, after, backlogAtStop, drained, drainMs,
    page: { window, socket: probe.socket, start, end, heapStart, heapEnd, heapSamples, ready, shown }, rss, cpu,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', memGiB: os.totalmem() / 2 ** 30, node: process.version },
  });
  await cleanup();
  const file = path.join(ARTIFACTS, 'bench-dashboard.json');
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report);
  console.log(`(JSON in ${path.relative(REPO_ROOT, file)}, screenshot in test/artifacts/bench-dashboard.png)`);
}

let interrupted = false;
const onSignal = (): void => {
  if (interrupted) return;
  interrupted = true;
  console.error('interrupted: stopping the browser and the stack');
  void cleanup().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exit(interrupted ? 130 : 1);
  },
);
