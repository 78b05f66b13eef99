/**
 * Record → replay → record against real Mosquitto: a seeded simulator run with faults is recorded in-process,
 * replayed at max speed with its original timestamps, and recorded again from the broker. The second recording
 * must hold the same readings in the same order, and the same ground truth, meta and state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@linewatch/protocol';
import { readEntries, RecordingWriter, type RecordingEntry, type RecordingHeader } from '@linewatch/recording';
import { DEFAULT_LINE, LineSimulator, type Scenario } from '@linewatch/simulators';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttRecorder } from '../../simulators/src/record/mqtt-recorder.js';
import { recordSimulation } from '../../simulators/src/record/simulate.js';
import { RecordingFileSource } from '../../simulators/src/replay/file-source.js';
import { MqttReplaySink } from '../../simulators/src/replay/publisher.js';
import { Replayer } from '../../simulators/src/replay/replayer.js';
import { TEST_MQTT_URL, requireServices } from '../support/services.js';
import { until } from '../support/until.js';

const ok = await requireServices('mosquitto');
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const line = `rr-${runId}`;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const START = 1_764_400_000_000;
const RATE_HZ = 10;
const RUN_S = 90;
const scenario: Scenario = {
  name: 'round-trip',
  faults: [
    { station: 'etch-01', type: 'step', sensors: ['chamber_pressure'], at: 10, duration: 20 },
    { station: 'cmp-01', type: 'tool_down', at: 30, duration: 15 },
    { station: 'load-01', type: 'dropout', sensors: ['robot_vibration'], at: 50, duration: 10 },
    { station: 'litho-01', type: 'spike', at: 60, duration: 20 },
  ],
};

async function read(path: string): Promise<RecordingEntry[]> {
  const out: RecordingEntry[] = [];
  for await (const e of readEntries(path)) out.push(e);
  return out;
}

/** What makes a reading a reading: everything but the replay mark. */
function readings(entries: RecordingEntry[]) {
  return entries.flatMap((e) =>
    e.kind === 'telemetry' ? [{ line: e.line, station: e.station, ts: e.msg.ts, seq: e.msg.seq, values: e.msg.values, context: e.msg.context }] : [],
  );
}

function messages(entries: RecordingEntry[], kind: 'state' | 'meta' | 'truth') {
  return entries.flatMap((e) => (e.kind === kind ? [{ station: e.station, msg: { ...e.msg, replay: undefined } }] : []));
}

describe.skipIf(!ok)('record → replay → record on Mosquitto', () => {
  let dir: string;
  let original: RecordingEntry[];
  let originalHeader: RecordingHeader;
  let again: RecordingEntry[];
  let againHeader: RecordingHeader;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lw-roundtrip-'));
    const first = join(dir, 'simulated.jsonl.gz');
    const second = join(dir, 'from-broker.jsonl.gz');

    const writer = await RecordingWriter.create(first, { source: { kind: 'simulator', detail: 'seed 21' }, scenario: 'round-trip' });
    const simulator = new LineSimulator({ line: { ...DEFAULT_LINE, line }, scenario, seed: 21, rateHz: RATE_HZ, startTs: START });
    await recordSimulation({ simulator, durationMs: RUN_S * 1000, sink: writer });
    originalHeader = await writer.close();
    original = await read(first);

    const recorder = new MqttRecorder({ url: TEST_MQTT_URL, clientId: `lw-rr-rec-${runId}`, line, protocolVersion: 4, sessionExpiryS: 60, out: second, maxPayloadBytes: 64 * 1024, logger });
    await recorder.start();
    const replayer = new Replayer({
      source: new RecordingFileSource(first), speed: 'max', timestamps: 'original', logger,
      connect: () => MqttReplaySink.connect({ url: TEST_MQTT_URL, clientId: `lw-rr-replay-${runId}`, logger }),
    });
    await replayer.start();
    const result = await replayer.done;
    expect(result).toMatchObject({ outcome: 'completed', sent: original.length, errors: 0, unacked: 0 });
    const { counts } = originalHeader;
    const recorded = () => recorder.stats.written;
    await until('the replay recorded from the broker', () => recorded().telemetry >= counts.telemetry && recorded().truth >= counts.truth && recorded().state >= counts.state, {
      timeoutMs: 30_000, progress: recorded,
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // anything extra would show up here
    againHeader = await recorder.stop();
    again = await read(second);
    expect(recorder.stats).toMatchObject({ lost: 0, duplicates: 0, reordered: 0, live: 0 });
    expect(recorder.stats.invalid.count).toBe(0);
  }, 120_000);

  afterAll(async () => {
    const admin = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-rr-admin-${runId}` });
    for (const s of DEFAULT_LINE.stations) {
      await admin.publishAsync(topics.meta(line, s.id), '', { retain: true, qos: 1 });
      await admin.publishAsync(topics.state(line, s.id), '', { retain: true, qos: 1 });
    }
    await admin.endAsync();
    await rm(dir, { recursive: true, force: true });
  });

  it('the simulated run has faults, state changes and a few thousand snapshots', () => {
    expect(originalHeader.counts.telemetry).toBeGreaterThan(5_000);
    expect(originalHeader.counts.truth).toBe(8);
    expect(originalHeader.counts.state).toBeGreaterThan(8);
    expect(originalHeader.labels).toBe('truth');
  });

  it('holds identical readings in identical order, with an exact count', () => {
    expect(againHeader.counts.telemetry).toBe(originalHeader.counts.telemetry);
    // One publisher connection and one subscriber: the broker keeps the global order, not just per station.
    expect(readings(again)).toEqual(readings(original));
  });

  it('holds the same ground truth, meta and state, each marked replayed', () => {
    for (const kind of ['truth', 'meta', 'state'] as const) expect(messages(again, kind), kind).toEqual(messages(original, kind));
    expect(againHeader.counts).toEqual(originalHeader.counts);
    expect(again.every((e) => e.msg.replay === true)).toBe(true);
    expect(againHeader.source.kind).toBe('replay');
    expect(againHeader.stations.map((s) => [s.station, s.type, s.telemetry])).toEqual(originalHeader.stations.map((s) => [s.station, s.type, s.telemetry]));
  });
});
