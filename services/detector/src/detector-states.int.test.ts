import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StationStatusSchema, topics, type ProcessContext, type StateMessage, type StationStatus, type Telemetry } from '@linewatch/protocol';
import { InfluxStore, SqliteStore, type Store, type WriteBatch } from '@linewatch/store';
import { InfluxDB } from 'influx';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, TEST_INFLUX_URL, TEST_MQTT_URL } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { createDetector, loadDetectorConfig, type Detector } from './app.js';
import { SYNTHETIC_FEATURES, syntheticRows } from './model/synthetic.test-support.js';
import { trainPca } from './model/train.js';

const ok = await requireServices('mosquitto', 'influxdb');
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const influxDatabase = `lwtest_det_states_${Date.now().toString(36)}`;

/** The real store, with an outage switch: while `down`, every write fails as a store that is unreachable would. */
function withOutage(store: Store): { store: Store; setDown: (down: boolean) => void } {
  let down = false;
  const wrapped: Store = Object.assign(Object.create(store) as Store, {
    write: async (batch: WriteBatch) => {
      if (down) throw new Error('store unavailable (test outage)');
      return store.write(batch);
    },
  });
  return { store: wrapped, setDown: (d) => (down = d) };
}

const backends: [string, () => Store][] = [
  ['SQLite', () => new SqliteStore({ path: ':memory:' }, logger)],
  ['InfluxDB', () => new InfluxStore({ url: TEST_INFLUX_URL, database: influxDatabase }, logger)],
];

afterAll(async () => {
  if (!ok) return;
  const url = new URL(TEST_INFLUX_URL);
  await new InfluxDB({ host: url.hostname, port: Number(url.port) }).dropDatabase(influxDatabase);
});

describe.skipIf(!ok).each(backends)('detector: equipment states and status context, stored in %s', (backend, makeStore) => {
  const line = `st${backend.slice(0, 1).toLowerCase()}${Date.now()}`;
  const station = 'etch-01';
  const clientId = `lw-det-states-${line}`;
  let modelsDir: string;
  let real: Store;
  let outage: ReturnType<typeof withOutage>;
  let detector: Detector;
  let probe: MqttClient;
  const statuses: StationStatus[] = [];
  const t0 = Date.now() - 600_000;
  const range = { line, station, from: t0 - 60_000, to: t0 + 600_000 };
  const productive: StateMessage = { state: 'PRODUCTIVE', since: t0 };
  const down: StateMessage = { state: 'UNSCHEDULED_DOWN', since: t0 + 30_000, reason: 'chamber leak' };
  const publishState = (state: StateMessage) => probe.publishAsync(topics.state(line, station), JSON.stringify(state), { qos: 1, retain: true });

  beforeAll(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'linewatch-det-states-'));
    await writeFile(join(modelsDir, 'etch.onnx'), trainPca(SYNTHETIC_FEATURES, syntheticRows(1000, 11), { stationType: 'etch' }).onnx);
    real = makeStore();
    await real.init();
    outage = withOutage(real);
    probe = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-probe-${line}`, clean: true });
    probe.on('message', (topic, payload) => {
      if (payload.length > 0 && topic.endsWith('/status')) statuses.push(StationStatusSchema.parse(JSON.parse(payload.toString('utf8'))));
    });
    await probe.subscribeAsync(topics.all('status', line), { qos: 1 });
    const meta = { line, station, type: 'etch', name: station, order: 1, sensors: SYNTHETIC_FEATURES.map((name) => ({ name, unit: '', min: -1e6, max: 1e6 })) };
    await probe.publishAsync(topics.meta(line, station), JSON.stringify(meta), { qos: 1, retain: true });
    // Retained before the detector starts: it arrives on subscribe, as after any restart or reconnect.
    await publishState(productive);
    const config = loadDetectorConfig({
      MQTT_URL: TEST_MQTT_URL, MQTT_CLIENT_ID: clientId, LINE: line, MODELS_DIR: modelsDir, HTTP_PORT: '-1',
      STATUS_MIN_INTERVAL_MS: '0', WRITE_FLUSH_MS: '20',
    });
    detector = createDetector(config, { store: outage.store, logger });
    await detector.start();
  });

  afterAll(async () => {
    await detector?.stop();
    if (probe) {
      for (const topic of [topics.meta(line, station), topics.state(line, station), topics.status(line, station)]) {
        await probe.publishAsync(topic, '', { qos: 1, retain: true });
      }
      await probe.endAsync();
    }
    // Drop the detector's persistent session so test runs do not pile up sessions on the shared broker.
    const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true }).catch(() => undefined);
    await cleaner?.endAsync();
    await real?.close();
    if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
  });

  it('stores the retained state it finds on subscribe, and a change that came while the store was down', async () => {
    expect(await until('the retained state stored', async () => {
      const states = await real.equipmentStates(range);
      return states.length > 0 && states;
    })).toEqual([{ ts: t0, state: 'PRODUCTIVE' }]);

    outage.setDown(true);
    const errorsBefore = detector.stats().writeErrors;
    await publishState(down);
    await until('a write failed during the outage', () => detector.stats().writeErrors > errorsBefore);
    expect(await real.equipmentStates(range)).toHaveLength(1);
    outage.setDown(false);

    await until('the change stored after the outage', async () => (await real.equipmentStates(range)).length === 2);
    expect(await real.equipmentStates(range)).toEqual([
      { ts: t0, state: 'PRODUCTIVE' },
      { ts: t0 + 30_000, state: 'UNSCHEDULED_DOWN', reason: 'chamber leak' },
    ]);
    // The state at a later `from` is the latest change before it.
    expect(await real.equipmentStates({ ...range, from: t0 + 60_000 })).toEqual([{ ts: t0 + 30_000, state: 'UNSCHEDULED_DOWN', reason: 'chamber leak' }]);
    expect(detector.stats()).toMatchObject({ statesWritten: 2, statesDropped: 0, dropped: 0 });
  });

  it('writes a retained state delivered again onto itself', async () => {
    const written = detector.stats().statesWritten;
    await publishState(down);
    await until('the repeat written', () => detector.stats().statesWritten > written);
    expect(await real.equipmentStates(range)).toHaveLength(2);
  });

  it('publishes the context of the latest scored snapshot in the status, and none after one without it', async () => {
    await publishState({ state: 'PRODUCTIVE', since: t0 + 60_000 });
    const rows = syntheticRows(4, 5);
    const context = (i: number): ProcessContext => ({ recipe: 'ETCH-AL-01', step: 'main_etch', lot: 'L0001', wafer: `L0001-0${i}` });
    const snapshot = (i: number, withContext: boolean): Telemetry => ({
      ts: t0 + 61_000 + i * 1000, seq: i, values: Object.fromEntries(SYNTHETIC_FEATURES.map((f, j) => [f, rows[i]![j]!])),
      ...(withContext ? { context: context(i) } : {}),
    });
    const statusAt = (ts: number) => until(`status of ${ts}`, () => statuses.find((s) => s.station === station && s.ts === ts));
    for (let i = 0; i < 3; i++) await probe.publishAsync(topics.telemetry(line, station), JSON.stringify(snapshot(i, true)), { qos: 1 });
    const latest = await statusAt(snapshot(2, true).ts);
    expect(latest.context).toEqual(context(2));
    expect(latest.score).not.toBeNull();
    await probe.publishAsync(topics.telemetry(line, station), JSON.stringify(snapshot(3, false)), { qos: 1 });
    expect(await statusAt(snapshot(3, false).ts)).not.toHaveProperty('context');
  });
});
