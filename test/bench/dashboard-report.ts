import type { CpuUse } from './dashboard-cpu.js';
import type { DashboardPublishResult } from './dashboard-publisher.js';
import type { HeavyPath, PageWindow, RendererMetrics, SocketCounts } from './dashboard-page.js';
import { spread, type DashboardBenchOptions } from './dashboard-stats.js';
import { bucketQuantile, median, round } from './stats.js';

/** Server counters at one instant: the detector's and the API's /metrics (summed over labels) and one histogram. */
export interface Sample {
  at: number;
  detector: Map<string, number>;
  readingAge: Map<number, number>;
  api: Map<string, number>;
  /** The API's accepted MQTT messages by kind label, e.g. `{kind="status"}`. */
  apiByKind: Map<string, number>;
}

export interface ReportInput {
  opts: DashboardBenchOptions;
  line: string;
  broker: string;
  started: number;
  /** Wall clock when the measured window opened. */
  t0: number;
  pub: DashboardPublishResult;
  before: Sample;
  after: Sample;
  backlogAtStop: number;
  drained: boolean;
  drainMs: number;
  page: {
    window: PageWindow;
    socket: SocketCounts;
    start: RendererMetrics;
    end: RendererMetrics;
    heapStart: RendererMetrics;
    heapEnd: RendererMetrics;
    heapSamples: { s: number; usedMiB: number; afterGc?: boolean }[];
    ready: HeavyPath;
    shown: HeavyPath;
  };
  rss: { detector: number[]; api: number[] };
  cpu: CpuUse;
  machine: { cpus: number; model: string; memGiB: number; node: string };
}

const MiB = 2 ** 20;
/** Largest and smallest of a sample, NaN only when it is empty (Math.max with a NaN argument is always NaN). */
const maxOf = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : Math.max(...xs));
const minOf = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : Math.min(...xs));
const pad = (xs: readonly number[], n: number): number[] => Array.from({ length: n }, (_, i) => xs[i] ?? 0);

/** Every number of the run, derived once: what the JSON holds and the table prints. */
export function buildReport(r: ReportInput) {
  const { opts, page, pub } = r;
  const secs = (r.after.at - r.before.at) / 1000;
  const det = (k: string) => (r.after.detector.get(k) ?? 0) - (r.before.detector.get(k) ?? 0);
  const api = (k: string) => (r.after.api.get(k) ?? 0) - (r.before.api.get(k) ?? 0);
  const apiKind = (kind: string) => (r.after.apiByKind.get(`{kind="${kind}"}`) ?? 0) - (r.before.apiByKind.get(`{kind="${kind}"}`) ?? 0);
  const perS = (n: number) => round(n / secs, 1);
  const offered = opts.stations * opts.hz;
  // The publisher's own count over the whole seconds of the window.
  const first = Math.ceil((r.t0 - pub.startedAt) / 1000);
  const inWindow = pub.perSecond.slice(first, first + opts.seconds);
  const cpu = (seconds: number) => round((seconds / secs) * 100, 0);
  const socketEvents = pad(page.socket.events, opts.seconds);
  const longest = page.window.longTasks.reduce((a, t) => Math.max(a, t.duration), 0);
  const ageMs = (q: number) => bucketQuantile(r.before.readingAge, r.after.readingAge, q) * 1000;
  const decisions = det('linewatch_reading_age_at_decision_seconds_count');
  const detector = {
    decisionsPerS: perS(decisions),
    writtenPerS: perS(det('linewatch_readings_written_total')),
    statusesPublishedPerS: perS(det('linewatch_status_published_total')),
    readingAgeAtDecisionMs: { p50: ageMs(0.5), p99: ageMs(0.99), max: ageMs(1) },
    pointsDropped: det('linewatch_points_dropped_total'),
    deadLetters: det('linewatch_dead_letters_total'),
    /** Snapshots the broker had acknowledged but the detector had not written when the publisher stopped. */
    backlogAtStop: r.backlogAtStop,
    drained: r.drained,
    drainMs: r.drainMs,
    cpuPctOfOneCore: cpu(det('linewatch_detector_process_cpu_seconds_total')),
    rssMiB: { median: round(median(r.rss.detector)), peak: round(maxOf(r.rss.detector)) },
  };
  // Keeping up: every published snapshot decided within a second, nothing dropped, no backlog beyond a second's load.
  const keepsUp = detector.readingAgeAtDecisionMs.p99 <= 1000 && detector.pointsDropped === 0 && detector.deadLetters === 0 && r.backlogAtStop <= offered;
  return {
    when: new Date(r.started).toISOString(),
    options: opts,
    line: r.line,
    broker: r.broker,
    machine: { ...r.machine, memGiB: round(r.machine.memGiB) },
    /** Over the measured window: all Chromium processes (% of one core) and the whole machine (% of all cores). */
    cpu: r.cpu,
    load: {
      offeredSnapshotsPerS: offered,
      publishedPerS: { mean: round(inWindow.reduce((a, b) => a + b, 0) / Math.max(1, inWindow.length)), min: minOf(inWindow) },
      published: pub.published, acked: pub.acked, errors: pub.errors, behindSchedule: pub.behind,
      /** False when the publisher stopped (its time limit) before the window closed: the page was not under full load. */
      coveredWindow: !pub.timedOut && pub.stoppedAt >= r.t0 + opts.seconds * 1000,
    },
    page: {
      heavyPath: { atStart: page.ready, atEnd: page.shown },
      fps: spread(page.window.framesPerSecond, 0),
      framesPerSecond: page.window.framesPerSecond,
      longTasks: {
        supported: page.window.longTaskSupported,
        count: page.window.longTasks.length,
        longestMs: round(longest, 0),
        totalMs: round(page.window.longTasks.reduce((a, t) => a + t.duration, 0), 0),
      },
      mainThreadPct: {
        busy: round(((page.end.TaskDuration - page.start.TaskDuration) / opts.seconds) * 100, 0),
        script: round(((page.end.ScriptDuration - page.start.ScriptDuration) / opts.seconds) * 100, 0),
        layoutAndStyle: round(((page.end.LayoutDuration - page.start.LayoutDuration + page.end.RecalcStyleDuration - page.start.RecalcStyleDuration) / opts.seconds) * 100, 0),
      },
      heap: {
        startMiB: round(page.heapStart.JSHeapUsedSize / MiB, 2),
        endMiB: round(page.heapEnd.JSHeapUsedSize / MiB, 2),
        deltaMiB: round((page.heapEnd.JSHeapUsedSize - page.heapStart.JSHeapUsedSize) / MiB, 2),
        /** Without a collection first: the saw-tooth of live plus not yet collected garbage. */
        everyFiveSecondsMiB: page.heapSamples.filter((h) => !h.afterGc).map((h) => ({ s: h.s, usedMiB: round(h.usedMiB, 2) })),
        /** After a collection, once a minute: what the page keeps. */
        everyMinuteAfterGcMiB: page.heapSamples.filter((h) => h.afterGc).map((h) => ({ s: h.s, usedMiB: round(h.usedMiB, 2) })),
        domNodes: { start: page.heapStart.Nodes, end: page.heapEnd.Nodes },
        eventListeners: { start: page.heapStart.JSEventListeners, end: page.heapEnd.JSEventListeners },
      },
      socket: {
        messagesPerS: spread(socketEvents, 0),
        messagesPerSecond: socketEvents,
        framesPerS: spread(pad(page.socket.frames, opts.seconds), 0),
        byEventPerS: Object.fromEntries(Object.entries(page.socket.byEvent).map(([k, v]) => [k, round(v / opts.seconds, 1)])),
        readingsBatchesPerS: spread(pad(page.socket.readingsBatches, opts.seconds), 0),
        readingsBatches: page.socket.byEvent.readings ?? 0,
        readingsPerS: round(page.socket.readings / opts.seconds, 1),
        readingsBatchesBeforeWindow: page.socket.readingsBatchesBeforeWindow,
        watchSent: page.socket.watchSent,
        statusAgeOnArrivalMs: spread(page.socket.statusAgeMs, 0),
      },
    },
    api: {
      statusesInPerS: perS(apiKind('status')),
      statusesCoalescedPerS: perS(api('linewatch_api_status_coalesced_total')),
      telemetryInPerS: perS(apiKind('telemetry')),
      readingsBatchesPerS: perS(api('linewatch_api_readings_batches_total')),
      readingsForwardedPerS: perS(api('linewatch_api_readings_forwarded_total')),
      readingsDropped: api('linewatch_api_readings_dropped_total'),
      cpuPctOfOneCore: cpu(api('linewatch_api_process_cpu_seconds_total')),
      rssMiB: { median: round(median(r.rss.api)), peak: round(maxOf(r.rss.api)) },
    },
    detector: { ...detector, keepsUp },
    durationS: round((Date.now() - r.started) / 1000),
  };
}

export type DashboardReport = ReturnType<typeof buildReport>;

const f = (n: number, unit = ''): string => (Number.isFinite(n) ? `${n}${unit}` : '–');

export function printReport(rep: DashboardReport): void {
  const { options: o, page: p, api: a, detector: d, load } = rep;
  const age = d.readingAgeAtDecisionMs;
  const rows: [string, string][] = [
    ['frames/s, median of 1 s windows', f(p.fps.median)],
    ['frames/s, 5th percentile (min)', `${f(p.fps.p5)} (${f(p.fps.min)})`],
    ['long tasks > 50 ms: count, longest', p.longTasks.supported ? `${p.longTasks.count}, ${f(p.longTasks.longestMs, ' ms')} (total ${p.longTasks.totalMs} ms)` : 'not supported by this browser'],
    ['main thread busy (script, layout+style)', `${f(p.mainThreadPct.busy, ' %')} (${f(p.mainThreadPct.script, ' %')}, ${f(p.mainThreadPct.layoutAndStyle, ' %')})`],
    ['Chromium CPU, % of a core (machine busy, all cores)', `${f(rep.cpu.chromiumPctOfOneCore, ' %')} (${f(rep.cpu.machineBusyPct, ' %')})`],
    ['other processes on the machine, % of a core', `${f(rep.cpu.othersPctOfOneCore, ' %')} (Mosquitto and anything not started by this bench)`],
    ['JS heap after GC, start → end', `${p.heap.startMiB} → ${p.heap.endMiB} MiB (${p.heap.deltaMiB >= 0 ? '+' : ''}${p.heap.deltaMiB})`],
    ['JS heap every 5 s, no GC (MiB)', p.heap.everyFiveSecondsMiB.map((h) => h.usedMiB).join(', ')],
    ['JS heap after GC, every minute (MiB)', p.heap.everyMinuteAfterGcMiB.map((h) => h.usedMiB).join(', ') || '–'],
    ['DOM nodes after GC, start → end', `${p.heap.domNodes.start} → ${p.heap.domNodes.end}`],
    ['socket.io messages/s to the page, median (p95, max)', `${f(p.socket.messagesPerS.median)} (${f(p.socket.messagesPerS.p95)}, ${f(p.socket.messagesPerS.max)})`],
    ['  by event, per s', Object.entries(p.socket.byEventPerS).map(([k, v]) => `${k} ${v}`).join(', ') || '–'],
    [
      'readings batches/s, median (readings/s)',
      `${f(p.socket.readingsBatchesPerS.median)} (${p.socket.readingsPerS})${p.socket.readingsBatches === 0 ? ` — NO readings arrived (page sent ${p.socket.watchSent} watch)` : ''}`,
    ],
    ['status age on arrival, p50 / p95 (reading ts → page)', `${f(p.socket.statusAgeOnArrivalMs.median, ' ms')} / ${f(p.socket.statusAgeOnArrivalMs.p95, ' ms')}`],
    ['publisher: snapshots/s (offered)', `${load.publishedPerS.mean} (${load.offeredSnapshotsPerS})`],
    ['API: statuses in/s → coalesced away/s', `${a.statusesInPerS} → ${a.statusesCoalescedPerS}`],
    ['API: CPU % of a core, RSS MiB', `${f(a.cpuPctOfOneCore)}, ${a.rssMiB.median}`],
    ['detector: decisions/s, statuses/s', `${d.decisionsPerS}, ${d.statusesPublishedPerS}`],
    ['detector: reading age at decision p50 / p99', `≤ ${f(age.p50)} / ≤ ${f(age.p99)} ms`],
    ['detector: backlog at stop, drained in', `${d.backlogAtStop} snapshots, ${d.drained ? `${(d.drainMs / 1000).toFixed(1)} s` : `NOT within ${(d.drainMs / 1000).toFixed(0)} s`}`],
    ['detector: points dropped, dead letters', `${d.pointsDropped}, ${d.deadLetters}`],
    ['detector: CPU % of a core, RSS MiB', `${f(d.cpuPctOfOneCore)}, ${d.rssMiB.median}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`\nbench:dashboard — ${o.stations} stations × ${o.sensors} sensors × ${o.hz} Hz = ${load.offeredSnapshotsPerS} snapshots/s, ${o.seconds} s measured after ${o.warmup} s warm-up`);
  const h = p.heavyPath.atEnd;
  console.log(
    `broker ${rep.broker}; page ${h.viewport.width}×${h.viewport.height}: ${h.tiles} tiles (${h.tilesInView} in view) with ${h.sparklines} sparklines, ` +
      `station view with ${h.charts} charts (${h.chartsInView} in view, ${h.readingPoints} reading points)\n`,
  );
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  console.log(
    `\n${d.keepsUp ? 'The detector kept up' : 'The detector did NOT keep up (reading age, backlog or drops above)'} with ${load.offeredSnapshotsPerS} snapshots/s; ` +
      `the page got ${f(p.socket.messagesPerS.median)} socket.io messages/s (median) for them.`,
  );
  if (h.tilesInView < h.tiles || h.chartsInView < h.charts) console.log('NOTE: part of the tiles or charts was outside the viewport, so not painted.');
  if (rep.cpu.othersPctOfOneCore > 20) {
    console.log(`NOTE: other processes used ${rep.cpu.othersPctOfOneCore} % of a core during the window: the page competed with them, so expect better numbers on a quiet machine.`);
  }
  if (!load.coveredWindow) console.log('WARNING: the publisher stopped before the window closed: part of it ran without load.');
}
