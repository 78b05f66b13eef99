/**
 * Hostile MQTT input against a real detector and real Mosquitto (issue #7). A seeded generator publishes over
 * 10,000 malformed messages at QoS 1 to one line's telemetry, meta and state topics, interleaved with the good
 * telemetry of a modelled station, plus a flood from one station. The detector must stay up, count every bad
 * message with its reason, keep all of them out of the store, store and score every good reading, and keep its
 * memory and dead-letter output bounded.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeadLetterSchema, topics, type StationMeta, type Telemetry } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector, loadDetectorConfig, type Detector } from '../../services/detector/src/app.js';
import { SYNTHETIC_FEATURES, rng, syntheticRows } from '../../services/detector/src/model/synthetic.test-support.js';
import { trainPca } from '../../services/detector/src/model/train.js';
import { requireServices, TEST_MQTT_URL } from '../support/services.js';
import { until } from '../support/until.js';

const ok = await requireServices('mosquitto');

const HOSTILE = 10_000;
const GOOD_EVERY = 20; // one good etch-01 reading after every 20 hostile messages: 500 in all
const FLOOD = 5000; // valid snapshots from one station, as fast as the client can publish them
const MAX_PAYLOAD = 65_536;
const HEAP_GROWTH_MAX = 64 * 1024 * 1024;

/** A full GC, so heap numbers measure what is retained rather than what is merely not collected yet. */
function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

type Expect = 'bad_topic' | 'too_large' | 'not_utf8' | 'invalid_json' | 'schema' | 'topic_mismatch' | 'bad_timestamp' | 'ignored';
interface Hostile { topic: string; payload: Buffer | string; expect: Expect }

/** Deterministic hostile messages for `line`: category i % n, details from the seeded `next`. */
function hostile(line: string, i: number, next: () => number, now: number): Hostile {
  const tel = (station = 'etch-01') => topics.telemetry(line, station);
  const ts = now - 1000;
  const int = (n: number) => Math.floor(next() * n);
  const good = JSON.stringify({ ts, seq: i, values: { rf_power: 1500 } });
  // Valid ids that nobody announced, carrying bad payloads; and ids that are not ids at all.
  const oddStations = ['ETCH-01', 'a'.repeat(64), 'Z9_.-x'];
  const badStations = ['a'.repeat(65), '', '-lead', 'sp ace', 'é', 'bang!'];
  const cases: (() => Hostile)[] = [
    () => ({ topic: tel(), payload: Buffer.from([0x7b, ...Array.from({ length: 1 + int(200) }, () => 0x80 + int(0x40)), 0xff]), expect: 'not_utf8' }),
    () => ({ topic: tel(), payload: good.slice(0, int(good.length - 1)), expect: 'invalid_json' }),
    () => {
      const depth = 1000 + int(30_000); // up to 60 KB: parsed, then refused by the schema
      return { topic: tel(), payload: '['.repeat(depth) + ']'.repeat(depth), expect: 'schema' };
    },
    () => {
      const depth = 1000 + int(9000);
      return { topic: tel(), payload: `{"ts":${ts},"seq":1,"values":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`, expect: 'schema' };
    },
    () => (int(4) === 0
      ? { topic: tel(), payload: '['.repeat(100_000) + ']'.repeat(100_000), expect: 'too_large' }
      : { topic: tel(), payload: `{"ts":${ts},"seq":1,"values":{"a":[${'0,'.repeat(MAX_PAYLOAD / 2 + int(200_000))}0]}}`, expect: 'too_large' }),
    () => ({ topic: tel(), payload: `{"ts":${ts},"seq":1,"values":{"a":${['NaN', 'Infinity', '-Infinity'][int(3)]}}}`, expect: 'invalid_json' }),
    () => ({ topic: tel(), payload: `{"ts":${ts},"seq":1,"values":{"a":${int(2) ? '1e999' : '-1e999'}}}`, expect: 'schema' }),
    () => ({ topic: tel(), payload: JSON.stringify([{ ts: String(ts), seq: 1, values: { a: 1 } }, { ts, seq: '1', values: { a: 1 } }, { ts, seq: 1, values: { a: '1.5' } }][int(3)]), expect: 'schema' }),
    () => ({ topic: tel(), payload: JSON.stringify({ ts: -1 - int(1e12), seq: 1, values: { a: 1 } }), expect: 'schema' }),
    () => {
      // Beyond 2^53 the schema's int() already refuses it; below, only the detector's clock check can.
      const future = [now + 10 * 365 * 86_400_000, Number.MAX_SAFE_INTEGER, 1e20, 1e300][int(4)]!;
      return { topic: tel(), payload: JSON.stringify({ ts: future, seq: i, values: { rf_power: 1 } }), expect: Number.isSafeInteger(future) ? 'bad_timestamp' : 'schema' };
    },
    () => ({ topic: tel(), payload: '', expect: 'invalid_json' }),
    () => ({ topic: [topics.meta, topics.state][int(2)]!(line, 'etch-01'), payload: '', expect: 'ignored' }),
    () => ({ topic: topics.state(line, 'etch-01'), payload: JSON.stringify([{ state: 'EXPLODED', since: ts }, { state: 'PRODUCTIVE', since: -5 }, { state: 'PRODUCTIVE' }][int(3)]), expect: 'schema' }),
    () => ({ topic: topics.state(line, 'etch-01'), payload: JSON.stringify({ state: 'STANDBY', since: now + 1e12 }), expect: 'bad_timestamp' }),
    () => ({ topic: topics.meta(line, 'etch-01'), payload: JSON.stringify({ ...meta(line, 'other-01', 'etch') }), expect: 'topic_mismatch' }),
    () => ({ topic: topics.meta(line, 'etch-01'), payload: JSON.stringify({ line, station: 'etch-01', sensors: 'all' }), expect: 'schema' }),
    () => ({ topic: tel(oddStations[int(oddStations.length)]), payload: good.slice(0, 10), expect: 'invalid_json' }),
    () => ({ topic: tel(badStations[int(badStations.length)]), payload: good, expect: 'bad_topic' }),
  ];
  return cases[i % cases.length]!();
}

function meta(line: string, station: string, type: string): StationMeta {
  return { line, station, type, name: station, order: 1, sensors: SYNTHETIC_FEATURES.map((name) => ({ name, unit: '', min: -1e6, max: 1e6 })) };
}

/** Publishes on a fresh link, which the broker is expected to cut: resolves true when the publish was refused. */
async function refused(topic: string): Promise<boolean> {
  const client = await mqtt.connectAsync(TEST_MQTT_URL, { clean: true, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  const acked = client.publishAsync(topic, '{}', { qos: 1 }).then(() => true, () => false);
  const cut = new Promise<boolean>((resolve) => client.once('close', () => resolve(false)));
  const result = await Promise.race([acked, cut]);
  await client.endAsync(true);
  return !result;
}

describe.skipIf(!ok)('detector under hostile MQTT input', () => {
  const line = `fz${Date.now()}`;
  const clientId = `lw-fuzz-${line}`;
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let modelsDir: string;
  let store: SqliteStore;
  let detector: Detector;
  let probe: MqttClient;
  let deadLettersSeen = 0;

  beforeAll(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'linewatch-fuzz-'));
    await writeFile(join(modelsDir, 'etch.onnx'), trainPca(SYNTHETIC_FEATURES, syntheticRows(3000, 11), { stationType: 'etch' }).onnx);
    store = new SqliteStore({ path: ':memory:' }, logger);
    await store.init();
    probe = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-fuzz-probe-${line}`, clean: true });
    probe.on('message', (topic, payload) => {
      if (topic === topics.deadLetter && DeadLetterSchema.parse(JSON.parse(payload.toString('utf8'))).topic.includes(`/${line}/`)) deadLettersSeen++;
    });
    await probe.subscribeAsync(topics.deadLetter, { qos: 1 });
    for (const station of ['etch-01', 'flood-01']) {
      await probe.publishAsync(topics.meta(line, station), JSON.stringify(meta(line, station, 'etch')), { qos: 1, retain: true });
    }
    // Defaults for the rate limits: the test shows what a stock detector withstands.
    const config = loadDetectorConfig({ MQTT_URL: TEST_MQTT_URL, MQTT_CLIENT_ID: clientId, LINE: line, MODELS_DIR: modelsDir, HTTP_PORT: '0', WRITE_FLUSH_MS: '20' });
    detector = createDetector(config, { store, logger });
    await detector.start();
  });

  afterAll(async () => {
    await detector?.stop();
    if (probe) {
      for (const station of ['etch-01', 'flood-01']) await probe.publishAsync(topics.meta(line, station), '', { qos: 1, retain: true });
      await probe.endAsync();
    }
    const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true }).catch(() => undefined);
    await cleaner?.endAsync();
    await store?.close();
    if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
  });

  it('refuses topics with wildcards or control characters at the broker', async () => {
    for (const station of ['+', '#', 'a+b', 'x#', 'ctl\u0001', 'del\u007f']) {
      expect(await refused(topics.telemetry(line, station)), JSON.stringify(station)).toBe(true);
    }
  });

  it('survives 10,000 hostile messages and a flood, counting each and keeping good readings', async () => {
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const began = Date.now();
    const next = rng(7);
    const now = Date.now();
    const t0 = now - 3_600_000;
    const rows = syntheticRows(HOSTILE / GOOD_EVERY, 99);
    const valuesOf = (row: number[]) => Object.fromEntries(SYNTHETIC_FEATURES.map((f, j) => [f, row[j]!]));
    const expected = new Map<Expect, number>();
    const good: Telemetry[] = [];
    let duplicates = 0;
    let reordered = 0;
    let sent = 0;
    let inflight: Promise<unknown>[] = [];
    const send = async (topic: string, payload: Buffer | string) => {
      sent++;
      inflight.push(probe.publishAsync(topic, payload, { qos: 1 }));
      // A bounded window of unacked publishes keeps the test's own memory out of the heap measurement.
      if (inflight.length >= 500) {
        await Promise.all(inflight);
        inflight = [];
      }
    };

    // The flood goes first, all at once: whatever it does to the detector, etch-01's readings come after it.
    for (let k = 0; k < FLOOD; k++) {
      await send(topics.telemetry(line, 'flood-01'), JSON.stringify({ ts: t0 + k, seq: k, values: valuesOf(rows[k % rows.length]!) }));
    }
    for (let i = 0; i < HOSTILE; i++) {
      const h = hostile(line, i, next, now);
      expected.set(h.expect, (expected.get(h.expect) ?? 0) + 1);
      await send(h.topic, h.payload);
      if (i % GOOD_EVERY !== GOOD_EVERY - 1) continue;
      const n = good.length;
      const t: Telemetry = { ts: t0 + n * 1000, seq: n, values: valuesOf(rows[n]!) };
      good.push(t);
      await send(topics.telemetry(line, 'etch-01'), JSON.stringify(t));
      // Redeliveries and stragglers: exact copies, counted as sequence events, never scored twice.
      if (n % 10 === 5) {
        duplicates++;
        await send(topics.telemetry(line, 'etch-01'), JSON.stringify(t));
      } else if (n % 10 === 9) {
        reordered++;
        await send(topics.telemetry(line, 'etch-01'), JSON.stringify(good[n - 3]));
      }
    }
    await Promise.all(inflight);
    inflight = [];

    const sentAt = Date.now();
    const retained = 2; // the two metas published before start
    const settled = () => {
      const s = detector.stats();
      return s.received === sent + retained && s.readingsAccepted === s.readingsWritten && s.scoresWritten === s.readingsWritten - duplicates - reordered;
    };
    await until('every message handled, written and scored', settled, { timeoutMs: 60_000, progress: () => detector.stats() });
    const s = detector.stats();
    const seconds = (Date.now() - began) / 1000;
    await until('dead letters published or counted as not', () => deadLettersSeen + s.deadLettersUnpublished === s.deadLettered, {
      progress: () => ({ deadLettersSeen, unpublished: s.deadLettersUnpublished, deadLettered: s.deadLettered }),
    });

    // Up: liveness, readiness and the books.
    const base = `http://127.0.0.1:${detector.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(s.received).toBe(s.valid + s.deadLettered + s.skippedPartition + s.ignored);
    expect(s.handlerErrors).toBe(0);
    expect(s.dropped).toBe(0);

    // Every hostile message counted, under its reason class; the flood's excess as rate_limited.
    const byReason = new Map((await detector.metrics.getSingleMetric('linewatch_dead_letters_total')!.get()).values.map((v) => [v.labels.reason, v.value]));
    for (const [reason, count] of expected) {
      if (reason === 'ignored') expect(s.ignored, 'empty meta/state payloads').toBe(count);
      else expect(byReason.get(reason) ?? 0, reason).toBe(count);
    }
    expect(s.rateLimited).toBeGreaterThan(0);
    expect(byReason.get('rate_limited')).toBe(s.rateLimited);
    expect(s.deadLettered).toBe(HOSTILE - (expected.get('ignored') ?? 0) + s.rateLimited);
    // The dead-letter topic got a sample, not the flood: at most the burst plus the steady rate over the run.
    expect(s.deadLettersUnpublished).toBeGreaterThan(0);
    expect(deadLettersSeen).toBeLessThanOrEqual(1000 + 100 * (seconds + 1));

    // Nothing bad in the store: only etch-01's good readings and the flood's admitted part.
    const range = { line, from: 0, to: now + 100 * 365 * 86_400_000 };
    expect(await store.countReadings({ ...range, station: 'etch-01' })).toBe(good.length);
    expect(await store.countReadings({ ...range, station: 'flood-01' })).toBe(FLOOD - s.rateLimited);
    expect(await store.countReadings(range)).toBe(good.length + FLOOD - s.rateLimited);
    expect(await store.stations({ line, from: range.from, to: range.to })).toEqual(['etch-01', 'flood-01']);
    const scores = await store.scores({ ...range, station: 'etch-01' });
    expect(scores.map((r) => r.ts)).toEqual(good.map((t) => t.ts));
    expect(s.duplicates).toBe(duplicates);
    expect(s.outOfOrder).toBe(reordered);

    // Bounded: no per-hostile-station state, and the heap back near where it started.
    const stations = (await detector.metrics.getSingleMetric('linewatch_stations')!.get()).values[0]?.value;
    expect(stations).toBe(2);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(heapGrowth).toBeLessThan(HEAP_GROWTH_MAX);
    expect(seconds).toBeLessThan(60);
    console.log(JSON.stringify({ sent, publishSeconds: (sentAt - began) / 1000, hostile: HOSTILE, good: good.length, duplicates, reordered, flood: FLOOD, seconds, heapGrowthMB: +(heapGrowth / 2 ** 20).toFixed(1), expected: Object.fromEntries(expected), stats: s, deadLettersSeen }));
  }, 120_000);
});
