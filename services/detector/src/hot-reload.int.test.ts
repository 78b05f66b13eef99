import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StationStatusSchema, topics, type StationMeta, type StationStatus } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, TEST_MQTT_URL } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { createDetector, loadDetectorConfig, type Detector } from './app.js';
import { writeModelSet } from './model/model-files.js';
import { loadOnnxModel } from './model/onnx-model.js';
import { SYNTHETIC_FEATURES, syntheticRows } from './model/synthetic.test-support.js';
import { trainPca } from './model/train.js';
import type { StationModel } from './model/types.js';

const ok = await requireServices('mosquitto');

/** Snapshots streamed while the model is replaced; the file is swapped after SWAP_AT of them. */
const N = 3000;
const SWAP_AT = 1000;
/** If the detector has not switched by then, the stream pauses until it has, so post-swap snapshots exist however slow the machine. */
const HOLD_AT = N - 500;
/** After the broken replacement, this many more. */
const AFTER_BROKEN = 200;
/** Publishing pace: CHUNK snapshots in flight at once, then a pause; ~500 snapshots/s. */
const CHUNK = 25;
const PAUSE_MS = 40;

const V1 = 'etch-pca@2026-01-01T00:00:00.000Z';
const V2 = 'etch-pca@2026-02-01T00:00:00.000Z';

/** One onnxruntime session as the detector used it. */
interface SessionRecord {
  version: string;
  runs: number;
  inFlight: number;
  released: boolean;
  /** Runs still going when the session was released, and runs started after: both must stay 0. */
  inFlightAtRelease: number;
  runsAfterRelease: number;
}

describe.skipIf(!ok)('hot reload of a model under load, against Mosquitto and onnxruntime', () => {
  const line = `hr${Date.now()}`;
  const station = 'etch-01';
  const clientId = `lw-det-hot-${line}`;
  const logs: { level: number; msg: string; module?: string; from?: string; to?: string; file?: string; keeping?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (entry: string) => void logs.push(JSON.parse(entry) as (typeof logs)[number]) });
  const sessions: SessionRecord[] = [];
  const statuses: StationStatus[] = [];
  let modelsDir: string;
  let store: SqliteStore;
  let detector: Detector;
  let probe: MqttClient;

  /** The real loader, instrumented: which session ran when, and when it was released. */
  async function loadModel(file: string): Promise<StationModel> {
    const model = await loadOnnxModel(file);
    const record: SessionRecord = { version: model.meta.version, runs: 0, inFlight: 0, released: false, inFlightAtRelease: 0, runsAfterRelease: 0 };
    sessions.push(record);
    return {
      meta: model.meta,
      async score(rows, n) {
        if (record.released) record.runsAfterRelease++;
        record.runs++;
        record.inFlight++;
        try {
          return await model.score(rows, n);
        } finally {
          record.inFlight--;
        }
      },
      async release() {
        record.released = true;
        record.inFlightAtRelease = record.inFlight;
        await model.release();
      },
    };
  }

  const writeEtchModel = (seed: number, trainedAt: string) => {
    const trained = trainPca(SYNTHETIC_FEATURES, syntheticRows(3000, seed), { stationType: 'etch', trainedAt: new Date(trainedAt) });
    // writeModelSet writes `{dir}/etch.onnx.tmp` and renames it over `etch.onnx`: an atomic replacement.
    return writeModelSet(modelsDir, 'etch', [{ context: undefined, slug: undefined, rows: 3000, trained }]);
  };

  beforeAll(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'linewatch-hot-'));
    await writeEtchModel(11, '2026-01-01T00:00:00Z');
    store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
    await store.init();
    probe = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-probe-${line}`, clean: true });
    probe.on('message', (topic, payload) => {
      if (payload.length > 0 && topic === topics.status(line, station)) statuses.push(StationStatusSchema.parse(JSON.parse(payload.toString('utf8'))));
    });
    await probe.subscribeAsync(topics.status(line, station), { qos: 1 });
    const meta: StationMeta = {
      line, station, type: 'etch', name: station, order: 1, sensors: SYNTHETIC_FEATURES.map((name) => ({ name, unit: '', min: -1e6, max: 1e6 })),
    };
    await probe.publishAsync(topics.meta(line, station), JSON.stringify(meta), { qos: 1, retain: true });
    const config = loadDetectorConfig({
      MQTT_URL: TEST_MQTT_URL, MQTT_CLIENT_ID: clientId, LINE: line, MODELS_DIR: modelsDir, HTTP_PORT: '-1', STATUS_MIN_INTERVAL_MS: '0', WRITE_FLUSH_MS: '20',
      // One station sends 3,200 snapshots as fast as the broker takes them, on purpose: this is about hot reload
      // under load, not the per-station rate limit, which would (rightly) dead-letter part of it.
      MAX_RATE_PER_STATION: '0',
    });
    detector = createDetector(config, { store, logger, loadModel });
    await detector.start();
  });

  afterAll(async () => {
    await detector?.stop();
    if (probe) {
      for (const topic of [topics.meta(line, station), topics.status(line, station)]) await probe.publishAsync(topic, '', { qos: 1, retain: true });
      await probe.endAsync();
    }
    // Drop the detector's persistent session so runs do not pile up sessions on the shared broker.
    const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true }).catch(() => undefined);
    await cleaner?.endAsync();
    await store?.close();
    if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
  });

  it('stores and scores every snapshot while the model file is replaced, and switches versions once', async () => {
    const rows = syntheticRows(N + AFTER_BROKEN, 99);
    const started = Date.now();
    let lastTs = started - 1;
    /** Live timestamps (the detector checks clock skew), strictly increasing (the store keys on ts). */
    const send = (seq: number) => {
      lastTs = Math.max(Date.now(), lastTs + 1);
      const values = Object.fromEntries(SYNTHETIC_FEATURES.map((f, j) => [f, rows[seq]![j]!]));
      return probe.publishAsync(topics.telemetry(line, station), JSON.stringify({ ts: lastTs, seq, values }), { qos: 1 });
    };
    const stream = async (from: number, to: number) => {
      for (let i = from; i < to; i += CHUNK) {
        await Promise.all(Array.from({ length: Math.min(CHUNK, to - i) }, (_, k) => send(i + k)));
        await new Promise((r) => setTimeout(r, PAUSE_MS));
      }
    };
    const progress = () => ({ stats: detector.stats(), statuses: statuses.length, sessions });

    await stream(0, SWAP_AT);
    await writeEtchModel(12, '2026-02-01T00:00:00Z');
    await stream(SWAP_AT, HOLD_AT);
    await until('the detector decides with the new model', () => statuses.some((s) => s.modelVersion === V2), { timeoutMs: 30_000, progress });
    await stream(HOLD_AT, N);

    await until('every snapshot stored and scored', () => detector.stats().readingsWritten === N && detector.stats().scoresWritten === N, { timeoutMs: 30_000, progress });
    const range = { line, station, from: started - 1, to: lastTs + 1 };
    expect(await store.countReadings(range)).toBe(N);
    const scores = await store.scores({ ...range, limit: 2 * N });
    expect(scores).toHaveLength(N);
    // Decisions carry the old version up to the swap and the new one after it: one switch, never back.
    const versions = scores.map((s) => s.modelVersion);
    const firstNew = versions.indexOf(V2);
    expect(firstNew).toBeGreaterThan(0);
    expect(versions.slice(0, firstNew).every((v) => v === V1)).toBe(true);
    expect(versions.slice(firstNew).every((v) => v === V2)).toBe(true);
    expect(N - firstNew).toBeGreaterThanOrEqual(N - HOLD_AT);
    const statusVersions = statuses.map((s) => s.modelVersion);
    expect(statusVersions.slice(statusVersions.indexOf(V2)).every((v) => v === V2)).toBe(true);

    // The old session was released, and only once no batch was running or waiting on it.
    await until('old session released', () => sessions.find((s) => s.version === V1)?.released, { progress });
    expect(sessions.map((s) => [s.version, s.released, s.inFlightAtRelease, s.runsAfterRelease])).toEqual([
      [V1, true, 0, 0],
      [V2, false, 0, 0],
    ]);
    expect(logs.filter((l) => l.msg === 'model replaced').map((l) => [l.from, l.to])).toEqual([[V1, V2]]);

    const s = detector.stats();
    expect({ handlerErrors: s.handlerErrors, scoreErrors: s.scoreErrors, dropped: s.dropped, unmodelled: s.unmodelled, deadLettered: s.deadLettered }).toEqual({
      handlerErrors: 0, scoreErrors: 0, dropped: 0, unmodelled: 0, deadLettered: 0,
    });
  }, 120_000);

  it('keeps scoring with the loaded model when its replacement is broken', async () => {
    const file = join(modelsDir, 'etch.onnx');
    await writeFile(`${file}.tmp`, 'not a model: a half-finished export');
    await rename(`${file}.tmp`, file);
    const refused = await until('broken replacement refused', () => logs.find((l) => l.msg.startsWith('replacement model failed to load')), { timeoutMs: 30_000 });
    expect(refused).toMatchObject({ file, keeping: V2, level: 50 });

    const before = detector.stats().scoresWritten;
    const rows = syntheticRows(AFTER_BROKEN, 7);
    const from = Date.now();
    await Promise.all(
      rows.map((row, k) =>
        probe.publishAsync(
          topics.telemetry(line, station),
          JSON.stringify({ ts: from + k, seq: N + k, values: Object.fromEntries(SYNTHETIC_FEATURES.map((f, j) => [f, row[j]!])) }),
          { qos: 1 },
        ),
      ),
    );
    await until('the extra snapshots scored', () => detector.stats().scoresWritten === before + AFTER_BROKEN, { timeoutMs: 30_000, progress: () => ({ before, ...detector.stats() }) });
    const scores = await store.scores({ line, station, from, to: from + AFTER_BROKEN });
    expect(scores).toHaveLength(AFTER_BROKEN);
    expect(new Set(scores.map((s) => s.modelVersion))).toEqual(new Set([V2]));
    expect(sessions.map((s) => s.version)).toEqual([V1, V2]);
    expect(detector.stats()).toMatchObject({ handlerErrors: 0, scoreErrors: 0, dropped: 0 });
  }, 60_000);
});
