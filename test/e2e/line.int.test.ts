/**
 * The whole line against real Mosquitto and real InfluxDB: simulator → broker → detector (ONNX) → InfluxDB,
 * and the API on top. One step fault on etch-01; every other station runs clean.
 */
import { InfluxDB } from 'influx';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnomalySchema, StationStatusSchema, topics, type StationStatus } from '@linewatch/protocol';
import { DEFAULT_LINE, LineSimulator, SimulatorRunner, type Scenario } from '@linewatch/simulators';
import { startLine, type RunningLine } from '../../scripts/line.js';
import { TEST_INFLUX_URL, TEST_MQTT_URL, requireServices } from '../support/services.js';
import { until } from '../support/until.js';

const ok = await requireServices('mosquitto', 'influxdb');
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const lineId = `e2e-${runId}`;
const database = `lwtest_e2e_${runId}`;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const RATE_HZ = 10;
const RUN_S = 120;
const FAULT = { station: 'etch-01', type: 'step', sensors: ['chamber_pressure'], at: 60, duration: 40 } as const;
const scenario: Scenario = { faults: [{ ...FAULT, sensors: [...FAULT.sensors] }] };
const detectorClientId = `lw-e2e-detector-${runId}`;
/** InfluxDB answers queries in steps; poll it gently. */
const POLL = { timeoutMs: 15_000, intervalMs: 200 };

describe.skipIf(!ok)('the whole line on Mosquitto and InfluxDB', () => {
  let line: RunningLine;
  let watcher: mqtt.MqttClient;
  const statuses: StationStatus[] = [];
  let published = 0;
  /** Every message the simulator published, ground truth included. */
  let publishedAll = 0;
  /** Of those, the ones on the topics the detector subscribes to: telemetry, meta and state (not truth). */
  let forDetector = 0;
  let startTs = 0;
  let faultStart = 0;

  beforeAll(async () => {
    line = await startLine({
      mqttUrl: TEST_MQTT_URL,
      mqttPort: 0,
      store: { influx: { url: TEST_INFLUX_URL, database }, sqlitePath: ':memory:' },
      httpHost: '127.0.0.1',
      httpPort: 0,
      detectorHttpPort: 0,
      line: { ...DEFAULT_LINE, line: lineId },
      simulate: false,
      scenario,
      seed: 11,
      rateHz: RATE_HZ,
      env: { ALERTS_DB_PATH: ':memory:', MQTT_CLIENT_ID: detectorClientId },
      logger,
    });
    watcher = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-e2e-watch-${runId}` });
    watcher.on('message', (_topic, payload) => {
      const parsed = StationStatusSchema.safeParse(JSON.parse(payload.toString()));
      if (parsed.success) statuses.push(parsed.data);
    });
    await watcher.subscribeAsync(topics.all('status', lineId), { qos: 1 });

    // Data time ends about now, so InfluxDB's 30-day raw retention keeps every point.
    startTs = Date.now() - RUN_S * 1000 - 5_000;
    faultStart = startTs + FAULT.at * 1000;
    const simulator = new LineSimulator({ line: { ...DEFAULT_LINE, line: lineId }, scenario, seed: 11, rateHz: RATE_HZ, startTs });
    const runner = new SimulatorRunner({ simulator, mqttUrl: TEST_MQTT_URL, logger, realtime: false, durationMs: RUN_S * 1000, clientId: `lw-e2e-sim-${runId}` });
    await runner.start();
    await runner.done();
    published = runner.stats.telemetry;
    publishedAll = runner.stats.published;
    // The same simulation offline says which of the published messages went to the detector's topics.
    const reference = new LineSimulator({ line: { ...DEFAULT_LINE, line: lineId }, scenario, seed: 11, rateHz: RATE_HZ, startTs });
    const messages = [...reference.initialMessages()];
    for (let i = 0; i < RUN_S * RATE_HZ; i++) messages.push(...reference.tick());
    expect(messages).toHaveLength(publishedAll);
    forDetector = messages.filter((m) => /\/(telemetry|meta|state)$/.test(m.topic)).length;
    await runner.stop();
  }, 120_000);

  afterAll(async () => {
    if (!ok) return;
    await watcher?.endAsync();
    // Clear retained status/meta/state so the shared broker does not carry this run into the next.
    const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-e2e-clean-${runId}` });
    for (const s of DEFAULT_LINE.stations)
      for (const kind of ['status', 'meta', 'state'] as const) await cleaner.publishAsync(topics[kind](lineId, s.id), '', { retain: true, qos: 1 });
    await cleaner.endAsync();
    await line?.stop();
    // Drop the detectors' persistent sessions (clean: false; the live one and the replay line's), so sessions do
    // not pile up on the shared broker.
    for (const clientId of [detectorClientId, `${detectorClientId}-replay`]) {
      const sessionCleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true }).catch(() => undefined);
      await sessionCleaner?.endAsync();
    }
    const u = new URL(TEST_INFLUX_URL);
    await new InfluxDB({ host: u.hostname, port: Number(u.port) }).dropDatabase(database);
  });

  it('stores every published reading: none lost, none dead-lettered', async () => {
    expect(published).toBe(DEFAULT_LINE.stations.length * RUN_S * RATE_HZ);
    const stored = await until('every reading in InfluxDB', async () => {
      const n = await line.store.countReadings({ line: lineId, from: startTs, to: Date.now() + 1 });
      const s = line.detector.stats();
      // The meta/state messages count too: wait until the last of them arrived as well.
      return n + s.deadLettered === published && s.received >= forDetector ? n : undefined;
    }, { ...POLL, progress: () => ({ published, forDetector, stats: line.detector.stats() }) });
    const s = line.detector.stats();
    expect(stored).toBe(published);
    expect(s.deadLettered).toBe(0);
    expect(s.dropped).toBe(0);
    // The line id is new, so nothing retained predates the run: the detector receives exactly what the simulator
    // published on its topics (telemetry plus meta/state), once each, and every message is valid.
    expect(forDetector).toBeGreaterThan(published);
    expect(s.received).toBe(forDetector);
    expect(s).toMatchObject({ valid: forDetector, skippedPartition: 0, ignored: 0, readingsAccepted: published, readingsWritten: published });
    expect(s.received).toBe(s.valid + s.deadLettered + s.skippedPartition + s.ignored);
  });

  it('raises ALARM on the faulted station within 5 s of onset, and on no other station', async () => {
    const alarm = await until('etch-01 ALARM', () => statuses.find((x) => x.station === FAULT.station && x.health === 'ALARM'), POLL);
    expect(alarm.ts).toBeGreaterThanOrEqual(faultStart);
    expect(alarm.ts - faultStart).toBeLessThanOrEqual(5_000);
    expect(alarm.contributors.map((c) => c.sensor)).toContain('chamber_pressure');
    const others = statuses.filter((x) => x.health === 'ALARM' && (x.station !== FAULT.station || x.ts < faultStart));
    expect(others).toEqual([]);
  });

  it('makes the readings, scores and the anomaly queryable in InfluxDB and over REST', async () => {
    const anomalies = await until('the anomaly in InfluxDB', async () => {
      const found = await line.store.anomalies({ line: lineId, station: FAULT.station });
      return found.length > 0 ? found : undefined;
    }, POLL);
    expect(anomalies.every((a) => a.station === FAULT.station)).toBe(true);
    const first = anomalies.at(-1)!;
    expect(first.ts - faultStart).toBeLessThanOrEqual(5_000);
    expect(first.contributors.slice(0, 3).map((c) => c.sensor)).toContain('chamber_pressure');
    expect(first.modelVersion).toMatch(/etch/);

    const window = { line: lineId, station: FAULT.station, from: faultStart, to: faultStart + 10_000 };
    const readings = await line.store.readings(window);
    expect(readings).toHaveLength(10 * RATE_HZ);
    const scores = await line.store.scores(window);
    expect(scores.length).toBeGreaterThan(0);
    expect(scores.some((s) => s.anomalous)).toBe(true);

    const res = await fetch(`${line.url}/api/anomalies?station=${FAULT.station}&limit=5`);
    expect(res.status).toBe(200);
    // routes.ts answers with the bare array of the store's anomalies, each one a full protocol Anomaly.
    const list = AnomalySchema.array().parse(await res.json());
    expect(list.length).toBeGreaterThan(0);
    expect(list.length).toBeLessThanOrEqual(5);
    expect(list.every((a) => a.line === lineId && a.station === FAULT.station)).toBe(true);
    // The five newest; the fault's wafers add wafer-level anomalies after the first sample-wise one, so the
    // first is found in the full list.
    const all = AnomalySchema.array().parse(await (await fetch(`${line.url}/api/anomalies?station=${FAULT.station}&limit=1000`)).json());
    expect(all.map((a) => a.id)).toContain(first.id);
    expect(all.slice(0, list.length).map((a) => a.id)).toEqual(list.map((a) => a.id));
  });
});
