import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@linewatch/protocol';
import { SqliteStore, type Store, type WriteBatch } from '@linewatch/store';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, TEST_MQTT_URL } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { createDetector, loadDetectorConfig, type Detector } from './app.js';

const ok = await requireServices('mosquitto');
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The real SQLite store behind a slow link: every write takes `delayMs`, like a remote InfluxDB under load. */
class SlowStore extends SqliteStore {
  /** Runs when a write's delay is over: the moment the buffer has had longest to fill behind the slow write. */
  afterDelay: (() => void) | undefined;
  constructor(private readonly delayMs: number) {
    super({ path: ':memory:' }, logger);
  }
  override async write(batch: WriteBatch): Promise<void> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.afterDelay?.();
    await super.write(batch);
  }
}

describe.skipIf(!ok)('detector delivery guarantees against Mosquitto', () => {
  const line = `d${Date.now()}`;
  const clientIds: string[] = [];
  let modelsDir: string;
  let probe: MqttClient;
  const started: Detector[] = [];

  function detector(store: Store, env: Record<string, string>): Detector {
    const config = loadDetectorConfig({ MQTT_URL: TEST_MQTT_URL, LINE: line, MODELS_DIR: modelsDir, HTTP_PORT: '-1', WRITE_FLUSH_MS: '10', ...env });
    clientIds.push(config.mqtt.clientId);
    const d = createDetector(config, { store, logger });
    started.push(d);
    return d;
  }

  const usedStations = new Set<string>();
  const publishReadings = async (stations: string[], count: number, seqFrom = 0) => {
    for (const station of stations) usedStations.add(station);
    const all: Promise<unknown>[] = [];
    for (let i = seqFrom; i < seqFrom + count; i++) {
      for (const station of stations) {
        all.push(probe.publishAsync(topics.telemetry(line, station), JSON.stringify({ ts: 1_000_000 + i, seq: i, values: { x: i } }), { qos: 1 }));
      }
    }
    await Promise.all(all);
  };

  beforeAll(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'linewatch-det-empty-'));
    probe = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-probe-${line}`, clean: true });
  });
  afterAll(async () => {
    for (const d of started) await d.stop();
    // Clear the retained statuses this run left, so the shared broker does not collect them run after run.
    for (const station of usedStations) await probe?.publishAsync(topics.status(line, station), '', { qos: 1, retain: true });
    await probe?.endAsync();
    for (const clientId of new Set(clientIds)) {
      const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true }).catch(() => undefined);
      await cleaner?.endAsync();
    }
    if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
  });

  it('gets the readings sent while it was down from its persistent session', async () => {
    const store = new SqliteStore({ path: ':memory:' }, logger);
    await store.init();
    const env = { MQTT_CLIENT_ID: `lw-det-restart-${line}` };
    const first = detector(store, env);
    await first.start();
    await publishReadings(['r1'], 20);
    await until('first run stored', () => first.stats().readingsWritten === 20);
    await first.stop();
    await publishReadings(['r1'], 30, 20);
    const second = detector(store, env);
    await second.start();
    await until('queued readings stored', () => second.stats().readingsWritten === 30);
    expect(await store.countReadings({ line, station: 'r1', from: 0, to: 2_000_000 })).toBe(50);
    await second.stop();
    await store.close();
  });

  it('loses nothing when stopped mid-stream: unacked messages come back to the next run', async () => {
    // Slow writes and a small buffer make ingest wait, so the stop lands while the broker still holds messages.
    const store = new SlowStore(20);
    await store.init();
    const env = { MQTT_CLIENT_ID: `lw-det-midstream-${line}`, WRITE_BUFFER_MAX: '20', WRITE_BATCH_MAX: '10' };
    const first = detector(store, env);
    await first.start();
    const sending = publishReadings(['m1', 'm2'], 150);
    await until('some readings stored', () => first.stats().readingsWritten > 20);
    await first.stop();
    await sending;
    // Proves the stop really came mid-stream: the rest can only have come back through the session.
    expect(first.stats().readingsWritten).toBeLessThan(300);
    const second = detector(store, env);
    await second.start();
    const stored = (station: string) => store.countReadings({ line, station, from: 0, to: 2_000_000 });
    await until('every reading stored once the second run drained the session', async () => (await stored('m1')) + (await stored('m2')) === 300);
    expect([await stored('m1'), await stored('m2')]).toEqual([150, 150]);
    expect(first.stats().dropped + second.stats().dropped).toBe(0);
    await second.stop();
    await store.close();
  });

  it('holds acks while the store is slow instead of buffering without bound, and loses nothing', async () => {
    const store = new SlowStore(40);
    await store.init();
    const d = detector(store, { MQTT_CLIENT_ID: `lw-det-slow-${line}`, WRITE_BUFFER_MAX: '50', WRITE_BATCH_MAX: '25' });
    await d.start();
    // The detector exposes no high-water mark, so the buffer is sampled: on a timer, and at the end of every slow
    // write, when it has had longest to fill. A sample can miss a short peak, hence the second check below.
    let maxBuffered = 0;
    let samples = 0;
    const sample = () => {
      samples++;
      maxBuffered = Math.max(maxBuffered, d.stats().readingsBuffered);
    };
    store.afterDelay = sample;
    const sampler = setInterval(sample, 5);
    await publishReadings(['s1', 's2'], 200);
    await until('all slow writes done', () => d.stats().readingsWritten === 400, { timeoutMs: 30_000 });
    clearInterval(sampler);
    store.afterDelay = undefined;
    // The soft limit plus at most one in-flight message's worth: ingest waited for room.
    expect(maxBuffered).toBeLessThanOrEqual(51);
    // Not vacuous: the sampler ran, and it saw the buffer reach the soft limit, so backpressure was engaged.
    expect(samples).toBeGreaterThan(16);
    expect(maxBuffered).toBeGreaterThanOrEqual(50);
    expect(d.stats()).toMatchObject({ readingsAccepted: 400, readingsDropped: 0, dropped: 0 });
    expect(await store.countReadings({ line, from: 0, to: 2_000_000 })).toBe(400);
    await d.stop();
    await store.close();
  });

  it('splits stations between two partition-mode detectors, each station in exactly one', async () => {
    const stores = [new SqliteStore({ path: ':memory:' }, logger), new SqliteStore({ path: ':memory:' }, logger)];
    for (const s of stores) await s.init();
    const [a, b] = stores.map((s, i) => detector(s, { MQTT_CLIENT_ID: `lw-det-part${i}-${line}`, DETECTOR_PARTITION: `${i}/2` })) as [Detector, Detector];
    await a.start();
    await b.start();
    const stations = Array.from({ length: 12 }, (_, i) => `p${i}`);
    await publishReadings(stations, 5);
    await until('both partitions stored', () => a.stats().readingsWritten + b.stats().readingsWritten === 60);
    const sa = a.stats();
    const sb = b.stats();
    expect(sa.readingsWritten).toBeGreaterThan(0);
    expect(sb.readingsWritten).toBeGreaterThan(0);
    expect(sa.skippedPartition).toBe(sb.readingsWritten);
    expect(sb.skippedPartition).toBe(sa.readingsWritten);
    for (const station of stations) {
      const counts = await Promise.all(stores.map((s) => s.countReadings({ line, station, from: 0, to: 2_000_000 })));
      expect(counts.sort()).toEqual([0, 5]);
    }
    await a.stop();
    await b.stop();
    for (const s of stores) await s.close();
  });
  it('shares telemetry between MQTT 5 detectors in shared mode, each message handled once', async () => {
    const stores = [new SqliteStore({ path: ':memory:' }, logger), new SqliteStore({ path: ':memory:' }, logger)];
    for (const s of stores) await s.init();
    const env = (i: number) => ({ MQTT_CLIENT_ID: `lw-det-shared${i}-${line}`, SUBSCRIPTION_MODE: 'shared', MQTT_PROTOCOL_VERSION: '5' });
    const [a, b] = stores.map((s, i) => detector(s, env(i))) as [Detector, Detector];
    await a.start();
    await b.start();
    await publishReadings(['h1', 'h2', 'h3'], 40, 1000);
    await until('shared readings stored', () => a.stats().readingsWritten + b.stats().readingsWritten === 120);
    expect(a.stats().readingsWritten).toBeGreaterThan(0);
    expect(b.stats().readingsWritten).toBeGreaterThan(0);
    await a.stop();
    await b.stop();
    for (const s of stores) await s.close();
  });
});
