import { topics, type StationStatus } from '@linewatch/protocol';
import { InfluxStore } from '@linewatch/store';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import type { SubscribeJob, SubscribeResult } from './bare-subscriber.js';
import { detectorHistogram, detectorMetrics, forkWorker, sampleRss, sleep, startDetector, stopChild } from './children.js';
import type { PublishJob, PublishResult } from './publisher.js';
import { benchLine, initialMessages } from './snapshots.js';
import { bucketQuantile, percentile, round } from './stats.js';

export interface BenchContext {
  mqttUrl: string;
  influxUrl: string;
  database: string;
  stamp: string;
  copies: number;
  window: number;
  /** The bench's own client: retained setup, status subscriber, cleanup. */
  client: MqttClient;
  /** Lines and detector client ids used, for cleanup. */
  lines: string[];
  detectorIds: string[];
}

export interface BareResult { published: number; received: number; lost: number; rate: number; latencyMs?: { p50: number; p99: number; max: number } }
export interface LoadResult {
  mode: string;
  published: number;
  stored: number;
  deadLettered: number;
  dropped: number;
  lost: number;
  /** Snapshots per second from first publish until the detector reported all of them written. */
  rate: number;
  latency: { n: number; p50: number; p99: number; max: number };
  /** Worst latency per second of publish time after the warm-up, to tell steady delay from stalls. */
  /** From arrival at the detector to the decision, from its histogram (bucket upper bounds, ms). */
  decisionLatencyMs: { p50: number; p99: number };
  /** From the snapshot's ts (its publish time) to its decision, from the detector's histogram (bucket upper bounds, ms). */
  publishToDecisionMs: { p50: number; p99: number };
  latencyPerSecondMax: number[];
  rssMedianMiB: number;
  rssPeakMiB: number;
  tsBumped: number;
  /** Detector CPU (user+system) over the step, % of one core, and where its time went (seconds). */
  cpuPct: number;
  scoreS: number;
  writeS: number;
  meanBatch: number;
}

const silent = pino({ level: 'silent' });

async function publish(job: PublishJob): Promise<PublishResult> {
  const w = forkWorker<PublishResult>('publisher.ts', job, job.maxMs + 60_000);
  await w.ready;
  w.go();
  return w.result;
}

/** Phase A: publisher process → Mosquitto → a bare QoS 1 subscriber process. */
export async function runBare(ctx: BenchContext, run: number, count: number, maxMs: number, rate: number | 'max' = 'max'): Promise<BareResult> {
  const line = `bench-${ctx.stamp}-bare-r${run}-${rate}`;
  const latency = rate !== 'max';
  const sub = forkWorker<SubscribeResult>('bare-subscriber.ts', {
    url: ctx.mqttUrl, clientId: `${line}-sub`, filter: topics.all('telemetry', line), expect: count, maxMs: maxMs + 15_000, latency,
  } satisfies SubscribeJob, maxMs + 60_000);
  await sub.ready;
  const pub = await publish({ url: ctx.mqttUrl, clientId: `${line}-pub`, line, copies: ctx.copies, rate, count, maxMs, window: ctx.window, seqStart: 0 });
  const got = await sub.result;
  const secs = (got.lastAt - pub.firstPublishAt) / 1000;
  return {
    published: pub.published, received: got.received, lost: pub.published - got.received, rate: round(got.received / secs, 0),
    ...(got.latencyMs ? { latencyMs: got.latencyMs } : {}),
  };
}

/** Publishes the retained meta and state of a bench line, so the detector models every station from the start. */
async function publishInitial(ctx: BenchContext, line: string): Promise<void> {
  ctx.lines.push(line);
  for (const m of initialMessages(benchLine(line, ctx.copies))) {
    await ctx.client.publishAsync(m.topic, JSON.stringify(m.payload), { qos: 1, retain: m.retain });
  }
}

/** Collects publish→status-received latency (ms) of statuses whose reading was published at or after `from`. */
function statusLatency(ctx: BenchContext, line: string, from: number): { stop: () => number[]; perSecondMax: number[] } {
  const filter = topics.all('status', line);
  const prefix = `linewatch/v1/${line}/`;
  const samples: number[] = [];
  const perSecondMax: number[] = [];
  const onMessage = (topic: string, payload: Buffer): void => {
    const receivedAt = Date.now();
    if (!topic.startsWith(prefix) || !topic.endsWith('/status') || payload.length === 0) return;
    const status = JSON.parse(payload.toString()) as StationStatus;
    if (status.ts < from) return;
    const ms = receivedAt - status.ts;
    samples.push(ms);
    const sec = Math.floor((status.ts - from) / 1000);
    perSecondMax[sec] = Math.max(perSecondMax[sec] ?? 0, ms);
  };
  ctx.client.on('message', onMessage);
  void ctx.client.subscribeAsync(filter, { qos: 1 });
  return {
    perSecondMax,
    stop: () => {
      ctx.client.off('message', onMessage);
      void ctx.client.unsubscribeAsync(filter);
      return samples;
    },
  };
}

export interface LoadStep {
  rate: number | 'max';
  count: number;
  maxMs: number;
}

/**
 * Phase B: one detector on a fresh line, then each step in order on the same detector (seq continues). Every step
 * waits until the detector's counters show all snapshots written, then checks InfluxDB for the cumulative count.
 */
export async function runPipeline(ctx: BenchContext, tag: string, statusMinIntervalMs: number, steps: LoadStep[]): Promise<LoadResult[]> {
  const line = `bench-${ctx.stamp}-${tag}`;
  const clientId = `bench-detector-${ctx.stamp}-${tag}`;
  ctx.detectorIds.push(clientId);
  await publishInitial(ctx, line);
  const det = await startDetector({
    MQTT_URL: ctx.mqttUrl, MQTT_CLIENT_ID: clientId, LINE: line, INFLUX_URL: ctx.influxUrl, INFLUX_DATABASE: ctx.database,
    LOG_LEVEL: 'warn', STATUS_MIN_INTERVAL_MS: String(statusMinIntervalMs),
  });
  const store = new InfluxStore({ url: ctx.influxUrl, database: ctx.database }, silent);
  const results: LoadResult[] = [];
  let seqStart = 0;
  let publishedTotal = 0;
  let deadTotal = 0;
  try {
    for (const step of steps) {
      const before = await detectorMetrics(det.port);
      const decisionBefore = await detectorHistogram(det.port, 'linewatch_decision_latency_seconds');
      const ageBefore = await detectorHistogram(det.port, 'linewatch_reading_age_at_decision_seconds');
      const written0 = before.get('linewatch_readings_written_total') ?? 0;
      const lat = statusLatency(ctx, line, Date.now());
      const rss = sampleRss(det.child.pid!, 500);
      const pub = await publish({
        url: ctx.mqttUrl, clientId: `${line}-pub`, line, copies: ctx.copies, rate: step.rate, count: step.count, maxMs: step.maxMs, window: ctx.window, seqStart,
      });
      seqStart = pub.nextSeq + 1;
      publishedTotal += pub.published;
      // Drain: poll until every published snapshot is written, bounded so a stuck detector still ends the run.
      let doneAt = Date.now();
      let after = before;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        after = await detectorMetrics(det.port);
        doneAt = Date.now();
        const dead = (after.get('linewatch_dead_letters_total') ?? 0) - (before.get('linewatch_dead_letters_total') ?? 0);
        if ((after.get('linewatch_readings_written_total') ?? 0) - written0 + dead >= pub.published) break;
        await sleep(50);
      }
      await sleep(300); // the last statuses are in flight
      const decisionAfter = await detectorHistogram(det.port, 'linewatch_decision_latency_seconds');
      const ageAfter = await detectorHistogram(det.port, 'linewatch_reading_age_at_decision_seconds');
      const latencies = lat.stop().sort((a, b) => a - b);
      const rssSamples = rss.stop().sort((a, b) => a - b);
      const diff = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
      const storedTotal = await store.countReadings({ line, from: 0, to: Date.now() + 3_600_000 });
      const deadLettered = diff('linewatch_dead_letters_total');
      deadTotal += deadLettered;
      results.push({
        mode: step.rate === 'max' ? 'max' : `${step.rate}/s`,
        published: pub.published,
        stored: diff('linewatch_readings_written_total'),
        deadLettered,
        dropped: diff('linewatch_points_dropped_total'),
        // Cumulative on the line: InfluxDB holds every step's readings, each keyed by (station, ts).
        lost: publishedTotal - storedTotal - deadTotal,
        rate: round(pub.published / ((doneAt - pub.firstPublishAt) / 1000), 0),
        latency: { n: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN },
        decisionLatencyMs: {
          p50: bucketQuantile(decisionBefore, decisionAfter, 0.5) * 1000,
          p99: bucketQuantile(decisionBefore, decisionAfter, 0.99) * 1000,
        },
        publishToDecisionMs: {
          p50: bucketQuantile(ageBefore, ageAfter, 0.5) * 1000,
          p99: bucketQuantile(ageBefore, ageAfter, 0.99) * 1000,
        },
        latencyPerSecondMax: Array.from(lat.perSecondMax, (v) => v ?? 0),
        rssMedianMiB: round(percentile(rssSamples, 50)),
        rssPeakMiB: round(rssSamples.at(-1) ?? Number.NaN),
        tsBumped: pub.tsBumped,
        cpuPct: round((diff('linewatch_detector_process_cpu_seconds_total') / ((doneAt - pub.firstPublishAt) / 1000)) * 100, 0),
        scoreS: round(diff('linewatch_score_duration_seconds_sum'), 2),
        writeS: round(diff('linewatch_store_write_duration_seconds_sum'), 2),
        meanBatch: round(diff('linewatch_score_batch_size_sum') / Math.max(1, diff('linewatch_score_batch_size_count'))),
      });
    }
  } finally {
    await stopChild(det.child, 15_000);
    await store.close();
  }
  return results;
}
