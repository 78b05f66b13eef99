/**
 * Crash safety of the real detector process on Mosquitto and InfluxDB: SIGKILL it mid-stream, restart it with the
 * same client id, and every reading sent is stored exactly once: the detector acknowledges a message only once its
 * reading is written, the persistent session redelivers what was not acknowledged, and a redelivered reading
 * overwrites itself. SIGTERM mid-stream flushes everything it had accepted.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InfluxDB } from 'influx';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@linewatch/protocol';
import { LineSimulator, type LineDef } from '@linewatch/simulators';
import { REPO_ROOT, detectorMetrics, sampleRss, sleep } from '../bench/children.js';
import { TEST_INFLUX_URL, TEST_MQTT_URL, requireServices } from '../support/services.js';
import { until } from '../support/until.js';
import { killIfRunning, spawnDetector, terminate, type DetectorChild } from './detector-process.js';

const ok = await requireServices('mosquitto', 'influxdb');
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const lineId = `crash-${runId}`;
const database = `lwtest_crash_${runId}`;
const clientId = `lw-crash-detector-${runId}`;
const influxUrl = new URL(TEST_INFLUX_URL);
const admin = new InfluxDB({ host: influxUrl.hostname, port: Number(influxUrl.port), database });

const RATE_HZ = 10;
const PUBLISH_MS = 20_000;
/** When, into the stream, the first run is SIGKILLed, how long it stays dead, and when the second run gets SIGTERM. */
const KILL_AT_MS = 6_000;
const DEAD_MS = 2_000;
const TERM_AT_MS = 15_000;
const line: LineDef = {
  line: lineId,
  stations: ['etch-01', 'etch-02', 'etch-03'].map((id, order) => ({ id, type: 'etch', name: id, order })),
};

/** Readings per station in InfluxDB: all points, and distinct seq (equal unless one reading landed twice). */
async function storedCounts(): Promise<Map<string, { count: number; distinct: number }>> {
  const rows = await admin.query<{ station: string; count: number; count_1: number }>(
    `SELECT COUNT(seq), COUNT(DISTINCT(seq)) FROM reading WHERE line = '${lineId}' GROUP BY station`,
  );
  return new Map(rows.map((r) => [r.station, { count: r.count, distinct: r.count_1 }]));
}

async function storedSeqs(station: string): Promise<number[]> {
  const rows = await admin.query<{ seq: number }>(`SELECT seq FROM reading WHERE line = '${lineId}' AND station = '${station}'`);
  return rows.map((r) => r.seq);
}

async function storedTotal(): Promise<number> {
  let n = 0;
  for (const { count } of (await storedCounts().catch(() => new Map<string, { count: number }>())).values()) n += count;
  return n;
}

describe.skipIf(!ok)('detector crash and restart on Mosquitto and InfluxDB', () => {
  let modelsDir: string;
  let publisher: MqttClient;
  const runs: DetectorChild[] = [];
  const rssPeaks: number[] = [];

  const start = async (): Promise<DetectorChild> => {
    const d = await spawnDetector({
      MQTT_URL: TEST_MQTT_URL,
      MQTT_CLIENT_ID: clientId,
      LINE: lineId,
      INFLUX_URL: TEST_INFLUX_URL,
      INFLUX_DATABASE: database,
      MODELS_DIR: modelsDir,
      MODEL_RELOAD_MS: '0',
      WARMUP_MS: '0',
      LOG_LEVEL: 'info',
    });
    runs.push(d);
    const rss = sampleRss(d.child.pid!, 200);
    void d.exited.then(() => rssPeaks.push(Math.max(...rss.stop())));
    return d;
  };

  beforeAll(async () => {
    // Only the model this line needs: the detector starts faster than with every model of the repo.
    modelsDir = await mkdtemp(path.join(tmpdir(), 'linewatch-crash-models-'));
    await copyFile(path.join(REPO_ROOT, 'models', 'etch.onnx'), path.join(modelsDir, 'etch.onnx'));
    publisher = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-crash-pub-${runId}`, clean: true });
  });

  afterAll(async () => {
    for (const d of runs) await killIfRunning(d);
    // Clear what this run retained, and end the detector's persistent session, so the shared broker forgets the run.
    if (publisher) {
      for (const s of line.stations) {
        for (const kind of ['status', 'meta', 'state'] as const) await publisher.publishAsync(topics[kind](lineId, s.id), '', { retain: true, qos: 1 });
      }
      await publisher.endAsync();
    }
    const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true }).catch(() => undefined);
    await cleaner?.endAsync();
    if (ok) await admin.dropDatabase(database).catch(() => undefined);
    if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
  });

  it('stores every reading exactly once across a SIGKILL, a restart and a SIGTERM', { timeout: 60_000 }, async () => {
    const first = await start();
    const sim = new LineSimulator({ line, scenario: { faults: [] }, seed: 7, rateHz: RATE_HZ, startTs: Date.now() });
    /** Per station: seq → wall-clock ms it was published, to tell where any missing reading sat in the run. */
    const sentAt = new Map<string, Map<number, number>>(line.stations.map((s) => [s.id, new Map()]));
    const acks: Promise<unknown>[] = [];
    const send = (m: { topic: string; payload: unknown; retain: boolean; qos: 0 | 1 }): void => {
      acks.push(publisher.publishAsync(m.topic, JSON.stringify(m.payload), { qos: 1, retain: m.retain }));
      const station = m.topic.split('/').at(-2)!;
      if (m.topic === topics.telemetry(lineId, station)) sentAt.get(station)!.set((m.payload as { seq: number }).seq, Date.now());
    };
    for (const m of sim.initialMessages()) send(m);

    // The stream runs on its own clock while the detector dies and comes back.
    const began = Date.now();
    const streaming = (async () => {
      for (let tick = 1; Date.now() - began < PUBLISH_MS; tick++) {
        for (const m of sim.tick()) if (!m.topic.endsWith('/truth')) send(m);
        await sleep(Math.max(0, began + tick * (1000 / RATE_HZ) - Date.now()));
      }
      await Promise.all(acks);
    })();

    await sleep(KILL_AT_MS);
    // The hard moment: readings accepted but not yet written. Writes follow arrivals within milliseconds, so
    // the poll may not catch one; after 3 s the kill comes anyway, at whatever moment that is.
    const bufferedAtKill = await until('readings waiting in the write buffer', async () => {
      const n = (await detectorMetrics(first.port)).get('linewatch_write_buffer_points') ?? 0;
      return n > 0 && n;
    }, { timeoutMs: 3_000, intervalMs: 2 }).catch(() => 0);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await first.exited).signal).toBe('SIGKILL');
    await sleep(DEAD_MS);
    const storedAtRestart = await storedTotal();
    const restartAt = Date.now();
    const second = await start();
    const readyMs = Date.now() - restartAt;
    await until('a reading stored by the restarted detector', async () => (await storedTotal()) > storedAtRestart, { timeoutMs: 20_000, intervalMs: 50 });
    const recoverMs = Date.now() - restartAt;

    // SIGTERM while telemetry still flows: what it accepted must be written before it exits; the rest stays queued.
    await sleep(Math.max(0, began + TERM_AT_MS - Date.now()));
    const bufferedAtTerm = (await detectorMetrics(second.port)).get('linewatch_write_buffer_points') ?? 0;
    const secondStop = await terminate(second);
    const third = await start();
    await streaming;
    const total = [...sentAt.values()].reduce((a, b) => a + b.size, 0);
    // Everything queued has reached the third run once its intake stops growing with the stream over.
    let lastValid = -1;
    await until('the third run drained the session', async () => {
      const valid = (await detectorMetrics(third.port)).get('linewatch_messages_valid_total') ?? 0;
      const settled = valid === lastValid;
      lastValid = valid;
      return settled;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    const thirdStop = await terminate(third);

    const stored = await storedCounts();
    const storedSum = [...stored.values()].reduce((a, b) => a + b.count, 0);
    const duplicates = [...stored.values()].reduce((a, b) => a + b.count - b.distinct, 0);
    /** Missing readings, as ms between their publish and the SIGKILL (negative: published before it). */
    const missing: number[] = [];
    for (const [station, bySeq] of sentAt) {
      const have = new Set(await storedSeqs(station));
      for (const [seq, at] of bySeq) if (!have.has(seq)) missing.push(at - killedAt);
    }
    const accepted = (secondStop.stats?.readingsAccepted ?? 0) + (thirdStop.stats?.readingsAccepted ?? 0);
    const [scored] = await admin.query<{ count: number }>(`SELECT COUNT(score) FROM score WHERE line = '${lineId}' AND time > ${restartAt}ms`);
    const report = {
      sent: total,
      stored: storedSum,
      duplicates,
      missing: missing.length,
      missingSentMsBeforeKill: missing.map((ms) => -ms),
      // What the second and third runs accepted: everything after the kill, plus what the broker redelivered.
      acceptedByRestarts: accepted,
      bufferedAtKill,
      readyMs,
      recoverMs,
      bufferedAtTerm,
      scoresAfterRestart: scored?.count ?? 0,
      rssPeakMiB: rssPeaks.length ? Math.round(Math.max(...rssPeaks)) : undefined,
    };
    console.log(`[detector-crash] ${JSON.stringify(report)}`);

    expect(total).toBeGreaterThan(500);
    // SIGTERM: a clean exit that wrote everything it accepted and dropped nothing.
    for (const { code, stats } of [secondStop, thirdStop]) {
      expect(code).toBe(0);
      expect(stats).toBeDefined();
      expect(stats!.readingsWritten).toBe(stats!.readingsAccepted);
      expect(stats!.dropped).toBe(0);
    }
    // The restarted detector scored again, not only stored.
    expect(report.scoresAfterRestart).toBeGreaterThan(0);
    // No reading is stored twice, although the broker redelivered what the killed run had not acknowledged.
    expect(duplicates).toBe(0);
    // Nothing lost: not what the killed run had accepted but not written, nor what was published while it was down.
    expect(missing, 'readings missing, as ms published before the SIGKILL').toEqual([]);
    expect(storedSum).toBe(total);
  });
});
