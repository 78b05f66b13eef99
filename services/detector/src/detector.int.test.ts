import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AnomalySchema, DeadLetterSchema, StationStatusSchema, topics,
  type Anomaly, type DeadLetter, type StationMeta, type StationStatus, type Telemetry,
} from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, TEST_MQTT_URL } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { createDetector, loadDetectorConfig, type Detector } from './app.js';
import { SYNTHETIC_FEATURES, syntheticRows } from './model/synthetic.test-support.js';
import { trainPca } from './model/train.js';

const ok = await requireServices('mosquitto');

const meta = (line: string, station: string, type: string, sensors: string[]): StationMeta => ({
  line, station, type, name: station, order: 1, sensors: sensors.map((name) => ({ name, unit: '', min: -1e6, max: 1e6 })),
});

describe.skipIf(!ok)('detector against Mosquitto with a real ONNX model', () => {
  const line = `t${Date.now()}`;
  const clientId = `lw-det-int-${line}`;
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let modelsDir: string;
  let store: SqliteStore;
  let detector: Detector;
  let probe: MqttClient;
  const deadLetters: DeadLetter[] = [];
  const statuses: StationStatus[] = [];
  const anomalies: Anomaly[] = [];
  const t0 = Date.now() - 600_000;
  const good: Telemetry[] = [];

  beforeAll(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'linewatch-det-'));
    const trained = trainPca(SYNTHETIC_FEATURES, syntheticRows(3000, 11), { stationType: 'etch' });
    await writeFile(join(modelsDir, 'etch.onnx'), trained.onnx);
    store = new SqliteStore({ path: ':memory:' }, logger);
    await store.init();

    probe = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-probe-${line}`, clean: true });
    probe.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      const json = JSON.parse(payload.toString('utf8')) as unknown;
      if (topic === topics.deadLetter) {
        const dl = DeadLetterSchema.parse(json);
        if (dl.topic.includes(`/${line}/`)) deadLetters.push(dl);
      } else if (topic.endsWith('/status')) statuses.push(StationStatusSchema.parse(json));
      else if (topic.endsWith('/anomaly')) anomalies.push(AnomalySchema.parse(json));
    });
    await probe.subscribeAsync([topics.deadLetter, topics.all('status', line), topics.all('anomaly', line)], { qos: 1 });
    // Retained before the detector starts: it must pick them up on subscribe.
    await probe.publishAsync(topics.meta(line, 'etch-01'), JSON.stringify(meta(line, 'etch-01', 'etch', SYNTHETIC_FEATURES)), { qos: 1, retain: true });
    await probe.publishAsync(topics.meta(line, 'etch-02'), JSON.stringify(meta(line, 'etch-02', 'etch', SYNTHETIC_FEATURES)), { qos: 1, retain: true });
    await probe.publishAsync(topics.meta(line, 'mystery-01'), JSON.stringify(meta(line, 'mystery-01', 'mystery', ['x'])), { qos: 1, retain: true });
    await probe.publishAsync(topics.state(line, 'etch-01'), JSON.stringify({ state: 'PRODUCTIVE', since: t0 }), { qos: 1, retain: true });

    const config = loadDetectorConfig({
      MQTT_URL: TEST_MQTT_URL, MQTT_CLIENT_ID: clientId, LINE: line, MODELS_DIR: modelsDir, HTTP_PORT: '0',
      STATUS_MIN_INTERVAL_MS: '0', WRITE_FLUSH_MS: '20',
    });
    detector = createDetector(config, { store, logger });
    await detector.start();
  });

  afterAll(async () => {
    await detector?.stop();
    if (probe) {
      for (const station of ['etch-01', 'etch-02', 'mystery-01']) {
        for (const topic of [topics.meta(line, station), topics.state(line, station), topics.status(line, station)]) {
          await probe.publishAsync(topic, '', { qos: 1, retain: true });
        }
      }
      await probe.endAsync();
    }
    // Drop the detector's persistent session so test runs do not pile up sessions on the shared broker.
    const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true }).catch(() => undefined);
    await cleaner?.endAsync();
    await store?.close();
    if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
  });

  it('dead-letters malformed input with reasons, stores an unmodelled station, and keeps scoring good messages', async () => {
    const rows = syntheticRows(60, 99);
    const snapshot = (i: number, values: number[]): Telemetry => ({
      ts: t0 + i * 1000, seq: i, values: Object.fromEntries(SYNTHETIC_FEATURES.map((f, j) => [f, values[j] as number])),
    });
    // 20 normal, 6 with rf_power far out (a step fault), 20 normal again.
    for (let i = 0; i < 46; i++) {
      const values = [...(rows[i] as number[])];
      if (i >= 20 && i < 26) values[0] = (values[0] as number) + 800;
      good.push(snapshot(i, values));
    }
    const telemetryTopic = topics.telemetry(line, 'etch-01');
    const bad: [string, string | Buffer, string][] = [
      [telemetryTopic, 'this is not json', 'invalid JSON'],
      [telemetryTopic, JSON.stringify({ ts: 'now', seq: 'one', values: { a: 1 } }), 'schema'],
      [telemetryTopic, JSON.stringify({ ts: t0, seq: 1, values: { rf_power: 'NaN' } }), 'schema'],
      [telemetryTopic, JSON.stringify({ values: { rf_power: 1 } }), 'schema'],
      [telemetryTopic, Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d]), 'payload is not valid UTF-8'],
      [telemetryTopic, Buffer.alloc(1024 * 1024, 0x61), 'payload too large'],
      [`linewatch/v1/${line}/_bad!/telemetry`, JSON.stringify(good[0]), 'topic is not'],
    ];
    const publishes: Promise<unknown>[] = [];
    good.forEach((t, i) => {
      publishes.push(probe.publishAsync(telemetryTopic, JSON.stringify(t), { qos: 1 }));
      // One malformed message after every sixth good one, so they land throughout the run (and the fault).
      const b = i % 6 === 0 ? bad[i / 6] : undefined;
      if (b) publishes.push(probe.publishAsync(b[0], b[1], { qos: 1 }));
    });
    for (let i = 0; i < 5; i++) {
      publishes.push(probe.publishAsync(topics.telemetry(line, 'mystery-01'), JSON.stringify({ ts: t0 + i, seq: i, values: { x: i } }), { qos: 1 }));
    }
    // etch-02's snapshot lacks most of the model's features.
    publishes.push(probe.publishAsync(topics.telemetry(line, 'etch-02'), JSON.stringify({ ts: t0, seq: 0, values: { rf_power: 1500 } }), { qos: 1 }));
    await Promise.all(publishes);

    const goodCount = good.length + 5 + 1;
    await until('every good reading stored', () => detector.stats().readingsWritten === goodCount);
    await until('every etch-01 snapshot scored', () => detector.stats().scoresWritten === good.length);
    await until('dead letters echoed', () => deadLetters.length === bad.length);

    // Each malformed message is dead-lettered once, with its reason.
    for (const [topic, , reason] of bad) {
      const match = deadLetters.filter((d) => d.topic === topic && d.reason.includes(reason));
      expect(match.length, `dead letter for ${reason}`).toBeGreaterThanOrEqual(1);
    }
    const huge = deadLetters.find((d) => d.reason.startsWith('payload too large'));
    expect(huge).toMatchObject({ bytes: 1024 * 1024, truncated: true });
    expect(huge!.payload.length).toBeLessThanOrEqual(2048);
    expect(deadLetters.find((d) => d.reason.includes('UTF-8'))?.encoding).toBe('base64');

    // Readings of all three stations reach the store; etch-01's are all scored, the fault raised one ALARM.
    const range = { line, from: t0 - 1, to: t0 + 100_000 };
    expect(await store.countReadings({ ...range, station: 'etch-01' })).toBe(good.length);
    expect(await store.countReadings({ ...range, station: 'mystery-01' })).toBe(5);
    expect(await store.countReadings({ ...range, station: 'etch-02' })).toBe(1);
    const scores = await store.scores({ ...range, station: 'etch-01' });
    expect(scores).toHaveLength(good.length);
    expect(scores.filter((s) => s.anomalous).map((s) => s.ts)).toEqual(good.slice(20, 26).map((t) => t.ts));
    expect(scores.filter((s) => !s.anomalous)).toHaveLength(40);

    await until('anomaly published', () => anomalies.length >= 1);
    const first = anomalies[0]!;
    // The fault is far beyond the limit (ALARM_FACTOR, 4× by default): its first snapshot alarms, not the third.
    expect(first.score).toBeGreaterThan(4 * first.threshold);
    expect(first.id).toBe(`${line}/etch-01/${good[20]!.ts}`);
    expect(first.contributors[0]?.sensor).toBe('rf_power');
    expect(first.contributors.length).toBeLessThanOrEqual(5);
    expect((await store.anomalies({ line, station: 'etch-01' })).map((a) => a.id)).toContain(first.id);

    await until('statuses published', () =>
      statuses.some((s) => s.station === 'mystery-01') && statuses.some((s) => s.station === 'etch-02') && statuses.filter((s) => s.station === 'etch-01').at(-1)?.ts === good.at(-1)!.ts,
    );
    const etchHealth = statuses.filter((s) => s.station === 'etch-01').map((s) => s.health);
    expect(etchHealth).toContain('ALARM');
    expect(etchHealth.at(-1)).toBe('OK');
    expect(statuses.filter((s) => s.station === 'mystery-01').at(-1)).toMatchObject({ health: 'UNMODELLED', score: null });
    expect(statuses.filter((s) => s.station === 'etch-02').at(-1)).toMatchObject({ health: 'DATA_QUALITY', score: null });

    // The books balance: every message received is valid, dead-lettered or skipped.
    const s = detector.stats();
    expect(s.received).toBe(s.valid + s.deadLettered + s.skippedPartition + s.ignored);
    expect(s.deadLettered).toBe(bad.length);
    expect(s.readingsAccepted).toBe(s.readingsWritten + s.readingsBuffered + s.readingsDropped);
    expect(s.dropped).toBe(0);

    const base = `http://127.0.0.1:${detector.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metricsText = await (await fetch(`${base}/metrics`)).text();
    expect(metricsText).toMatch(/linewatch_dead_letters_total\{reason="schema"\} 3/);
    expect(metricsText).toMatch(/linewatch_dead_letters_total\{reason="too_large"\} 1/);
    expect(metricsText).toMatch(new RegExp(`linewatch_readings_written_total ${goodCount}`));
  });
});
