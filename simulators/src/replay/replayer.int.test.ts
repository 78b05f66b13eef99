import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingWriter, readHeader } from '@linewatch/recording';
import { InfluxStore, type ReadingPoint } from '@linewatch/store';
import { InfluxDB } from 'influx';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_INFLUX_URL, TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { DEFAULT_LINE } from '../line.js';
import { recordSimulation } from '../record/simulate.js';
import { LineSimulator } from '../simulator.js';
import { RecordingFileSource } from './file-source.js';
import { MqttReplaySink } from './publisher.js';
import { Replayer, type ReplayerOptions } from './replayer.js';
import { StoreRangeSource } from './store-source.js';
import { BrokerProbe } from './testing/broker-probe.js';

const ok = await requireServices('mosquitto', 'influxdb');
const logger = pino({ level: 'silent' });
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const START = 1_764_400_000_000;
const stations = DEFAULT_LINE.stations.map((s) => s.id);
let dir: string;

/** A fault-free simulator run recorded to a file: 8 stations × rate × seconds snapshots. */
async function simulatorRecording(name: string, rateHz: number, seconds: number): Promise<string> {
  const path = join(dir, name);
  const writer = await RecordingWriter.create(path, { source: { kind: 'simulator', detail: 'test' } });
  const simulator = new LineSimulator({ line: DEFAULT_LINE, scenario: { faults: [] }, seed: 9, rateHz, startTs: START });
  await recordSimulation({ simulator, durationMs: seconds * 1000, sink: writer });
  await writer.close();
  return path;
}

function replayer(options: Omit<ReplayerOptions, 'connect' | 'logger'>, clientId: string): Replayer {
  return new Replayer({ ...options, logger, connect: () => MqttReplaySink.connect({ url: TEST_MQTT_URL, clientId, logger }) });
}

/** Per station, the seqs received must be exactly 0..n-1 in order: no loss, no duplicate, no reordering. */
function seqsByStation(probe: BrokerProbe): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of probe.of('telemetry')) out.set(r.station, [...(out.get(r.station) ?? []), r.payload.seq as number]);
  return out;
}

describe.skipIf(!ok)('Replayer against Mosquitto and InfluxDB', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lw-replay-int-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('at max loses nothing at QoS 1: 20 800 snapshots, no gap in any station seq', async () => {
    const line = `rp-max-${runId}`;
    const path = await simulatorRecording('max.jsonl.gz', 10, 260);
    const probe = await BrokerProbe.connect(TEST_MQTT_URL, line, `rp-max-probe-${runId}`);
    try {
      const r = replayer({ source: new RecordingFileSource(path), speed: 'max', timestamps: 'original', line }, `rp-max-${runId}`);
      await r.start();
      const result = await r.done;
      const { counts } = await readHeader(path);
      const expected = 8 * 2600;
      expect(counts.telemetry).toBe(expected);
      const all = counts.telemetry + counts.state + counts.meta + counts.truth;
      expect(result).toMatchObject({ outcome: 'completed', sent: all, acked: all, errors: 0, unacked: 0 });
      await until('every snapshot at the subscriber', () => probe.count('telemetry') >= expected, { timeoutMs: 30_000, intervalMs: 50, progress: () => probe.count('telemetry') });
      await new Promise((resolve) => setTimeout(resolve, 300)); // anything extra would show up here
      expect(probe.count('telemetry')).toBe(expected);
      const seqs = seqsByStation(probe);
      expect([...seqs.keys()].sort()).toEqual([...stations].sort());
      for (const [station, list] of seqs) expect(list, station).toEqual(Array.from({ length: 2600 }, (_, i) => i));
      expect(probe.of('telemetry').every((m) => m.payload.replay === true)).toBe(true);
      const seconds = (result.lastPublishAt! - result.firstPublishAt!) / 1000;
      console.log(`[measure] replay max, QoS 1 to Mosquitto: ${result.sent} messages in ${seconds.toFixed(2)} s = ${Math.round(result.sent / seconds)} msgs/s`);
    } finally {
      await probe.close(stations);
    }
  }, 90_000);

  it('at 10x plays 20 s of data in 2 s of wall time, within 5 %', async () => {
    const line = `rp-pace-${runId}`;
    const path = await simulatorRecording('pace.jsonl.gz', 10, 20);
    const probe = await BrokerProbe.connect(TEST_MQTT_URL, line, `rp-pace-probe-${runId}`);
    try {
      const r = replayer({ source: new RecordingFileSource(path), speed: 10, timestamps: 'shifted', line }, `rp-pace-${runId}`);
      await r.start();
      const result = await r.done;
      expect(result.outcome).toBe('completed');
      // Data runs from the start (meta, state) to the 200th tick: 20 000 ms, so 2 000 ms at 10x.
      const expectedMs = 2_000;
      const actualMs = result.lastPublishAt! - result.firstPublishAt!;
      console.log(`[measure] pacing at 10x: expected ${expectedMs} ms, took ${actualMs} ms, error ${((100 * (actualMs - expectedMs)) / expectedMs).toFixed(2)} %`);
      expect(Math.abs(actualMs - expectedMs) / expectedMs).toBeLessThan(0.05);
      await until('every paced snapshot', () => probe.count('telemetry') >= 1600, { timeoutMs: 10_000 });
      // Shifted: the first snapshot is one period after "now" at the start, and ts keep their spacing.
      const ts = probe.of('telemetry').map((m) => m.payload.ts as number);
      expect(Math.abs(ts[0]! - 100 - result.firstPublishAt!)).toBeLessThan(1_000);
      expect(ts.at(-1)! - ts[0]!).toBe(19_900);
    } finally {
      await probe.close(stations);
    }
  }, 60_000);

  it('replays an InfluxDB range larger than a page: every reading, values and context as stored', async () => {
    const database = `lwtest_replay_${runId}`;
    const admin = new InfluxDB({ host: new URL(TEST_INFLUX_URL).hostname, port: Number(new URL(TEST_INFLUX_URL).port) });
    const store = new InfluxStore({ url: TEST_INFLUX_URL, database }, logger);
    const line = `rp-influx-${runId}`;
    const into = `rp-influx-into-${runId}`;
    const probe = await BrokerProbe.connect(TEST_MQTT_URL, into, `rp-influx-probe-${runId}`);
    try {
      await store.init();
      // Within the raw retention: two hours ago, 3 stations, 2 400 readings each at 1 Hz with a gap in the middle.
      const from = Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000;
      const points: ReadingPoint[] = [];
      for (const [k, station] of ['etch-01', 'cmp-01', 'litho-01'].entries()) {
        for (let i = 0; i < 2_400; i++) {
          const ts = from + k * 7 + (i < 1_200 ? i : i + 600) * 1_000;
          points.push({ line, station, ts, seq: i, values: { [`s_${k}`]: Math.sin(i) * 100, pressure: i / 3 }, context: { recipe: `R${k}`, step: i % 2 ? 'etch' : 'purge', lot: 'L0001', wafer: `L0001-${i % 25}` } });
        }
      }
      for (let i = 0; i < points.length; i += 2_000) await store.write({ readings: points.slice(i, i + 2_000), scores: [], anomalies: [] });
      const source = new StoreRangeSource({ store, line, stations: ['etch-01', 'cmp-01', 'litho-01', 'absent-01'], from, to: from + 4 * 3_600_000, pageSize: 500, label: 'influx test' });
      const r = replayer({ source, speed: 'max', timestamps: 'original', line: into }, `rp-influx-${runId}`);
      await r.start();
      const result = await r.done;
      expect(result).toMatchObject({ outcome: 'completed', sent: points.length + 3, errors: 0 });
      expect(r.progress().total).toBe(points.length + 3);
      await until('every stored reading on the broker', () => probe.count('telemetry') >= points.length, { timeoutMs: 20_000, progress: () => probe.count('telemetry') });
      const received = probe.of('telemetry').map((m) => ({ station: m.station, ...m.payload }));
      const expected = [...points].sort((a, b) => a.ts - b.ts).map(({ station, ts, seq, values, context }) => ({ station, ts, seq, values, context, replay: true }));
      expect(received).toEqual(expected);
      expect(probe.of('meta').map((m) => [m.station, m.payload.type])).toEqual([['etch-01', 'etch'], ['cmp-01', 'cmp'], ['litho-01', 'litho']]);
      expect(source.skippedCount).toBe(0);
    } finally {
      await probe.close(['etch-01', 'cmp-01', 'litho-01']);
      await admin.dropDatabase(database);
    }
  }, 90_000);
});
