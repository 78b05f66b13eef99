import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@linewatch/protocol';
import { readEntries, readHeader, type RecordingEntry } from '@linewatch/recording';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { DEFAULT_LINE, type LineDef } from '../line.js';
import { SimulatorRunner } from '../runner.js';
import { LineSimulator } from '../simulator.js';
import { MqttRecorder, type MqttRecorderOptions } from './mqtt-recorder.js';

const ok = await requireServices('mosquitto');
const logger = pino({ level: 'silent' });
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const START = 1_764_400_000_000;
let dir: string;
let admin: MqttClient;
const linesUsed: string[] = [];

function lineDef(name: string): LineDef {
  const line = `rec-${name}-${runId}`;
  linesUsed.push(line);
  return { ...DEFAULT_LINE, line };
}

function recorder(line: string, over: Partial<MqttRecorderOptions> = {}): MqttRecorder {
  return new MqttRecorder({
    url: TEST_MQTT_URL, clientId: `lw-rec-${line}`, line, protocolVersion: 4, sessionExpiryS: 60, out: join(dir, `${line}.jsonl.gz`),
    maxPayloadBytes: 64 * 1024, logger, ...over,
  });
}

async function publishRun(line: LineDef, rateHz: number, seconds: number, maxInflight = 500): Promise<SimulatorRunner> {
  const simulator = new LineSimulator({ line, scenario: { faults: [{ station: 'etch-01', type: 'step', at: 1, duration: 2 }] }, seed: 4, rateHz, startTs: START });
  const runner = new SimulatorRunner({ simulator, mqttUrl: TEST_MQTT_URL, logger, realtime: false, durationMs: seconds * 1000, clientId: `lw-rec-pub-${line.line}`, maxInflight });
  await runner.start();
  return runner;
}

async function entries(path: string): Promise<RecordingEntry[]> {
  const out: RecordingEntry[] = [];
  for await (const e of readEntries(path)) out.push(e);
  return out;
}

/**
 * Per station, the recorded seqs must be exactly 0..n-1: nothing lost, nothing twice. In arrival order, unless
 * `reordered` says how many arrived late (a reconnect); then as a set, and exactly that many out of place.
 */
function expectEverySeqOnce(recorded: RecordingEntry[], perStation: number, reordered = 0): void {
  const seqs = new Map<string, number[]>();
  for (const e of recorded) if (e.kind === 'telemetry') seqs.set(e.station, [...(seqs.get(e.station) ?? []), e.msg.seq]);
  expect(seqs.size).toBe(8);
  let late = 0;
  for (const [station, list] of seqs) {
    let max = -1;
    for (const seq of list) {
      if (seq < max) late++;
      max = Math.max(max, seq);
    }
    expect([...list].sort((a, b) => a - b), station).toEqual(Array.from({ length: perStation }, (_, i) => i));
  }
  expect(late).toBe(reordered);
}

describe.skipIf(!ok)('MqttRecorder against Mosquitto', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lw-rec-int-'));
    admin = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-rec-admin-${runId}` });
  });
  afterAll(async () => {
    for (const line of linesUsed) {
      for (const s of DEFAULT_LINE.stations) {
        await admin.publishAsync(topics.meta(line, s.id), '', { retain: true, qos: 1 });
        await admin.publishAsync(topics.state(line, s.id), '', { retain: true, qos: 1 });
      }
    }
    await admin.endAsync();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps up with a publisher going as fast as Mosquitto acks, losing nothing', async () => {
    const line = lineDef('rate');
    const rec = recorder(line.line);
    await rec.start();
    const began = Date.now();
    const runner = await publishRun(line, 500, 10, 1000);
    await runner.done();
    const publishedMs = Date.now() - began;
    await runner.stop();
    const expected = runner.stats.telemetry;
    await until('every snapshot recorded', () => rec.stats.written.telemetry >= expected, { timeoutMs: 60_000, intervalMs: 20, progress: () => rec.stats.written });
    const recordedMs = Date.now() - began;
    const header = await rec.stop();
    console.log(`[measure] recording from Mosquitto: ${expected} snapshots published in ${publishedMs} ms (${Math.round(expected / (publishedMs / 1000))}/s), ` +
      `all recorded after ${recordedMs} ms (${Math.round(expected / (recordedMs / 1000))}/s); writer waits ${rec.stats.writerWaits}`);
    expect(header.counts.telemetry).toBe(expected);
    expect(header.source).toEqual({ kind: 'mqtt', detail: TEST_MQTT_URL });
    expect(rec.stats).toMatchObject({ lost: 0, duplicates: 0, reordered: 0, replayed: 0 });
    expect(rec.stats.invalid.count).toBe(0);
    expectEverySeqOnce(await entries(join(dir, `${line.line}.jsonl.gz`)), expected / 8);
  }, 120_000);

  it('survives a dropped connection: the persistent session redelivers, nothing is lost or written twice', async () => {
    const line = lineDef('drop');
    const rec = recorder(line.line);
    await rec.start();
    const runner = await publishRun(line, 100, 60);
    await until('recording under way', () => rec.stats.written.telemetry > 2_000, { timeoutMs: 20_000 });
    // Cut the TCP connection under the client, as a network fault would; mqtt.js reconnects by itself.
    (rec as unknown as { client: MqttClient }).client.stream.destroy();
    await runner.done();
    await runner.stop();
    const expected = runner.stats.telemetry;
    await until('every snapshot recorded after the reconnect', () => rec.stats.written.telemetry >= expected, { timeoutMs: 30_000, progress: () => rec.stats });
    const header = await rec.stop();
    expect(rec.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(rec.stats.lost).toBe(0);
    expect(header.counts.telemetry).toBe(expected);
    // Redeliveries of what was written before the cut are recognised and skipped.
    expect(rec.stats.duplicates).toBeGreaterThan(0);
    expectEverySeqOnce(await entries(join(dir, `${line.line}.jsonl.gz`)), expected / 8, rec.stats.reordered);
  }, 120_000);

  it('counts and lists invalid messages without writing them, and stops at --count exactly', async () => {
    const line = lineDef('bad');
    const rec = recorder(line.line, { maxTelemetry: 50 });
    await rec.start();
    const bad = [
      [topics.telemetry(line.line, 'etch-01'), '{"ts":1,'],
      [topics.telemetry(line.line, 'etch-01'), JSON.stringify({ ts: 1, seq: -5, values: { a: 1 } })],
      [topics.meta(line.line, 'etch-01'), JSON.stringify({ line: 'other', station: 'etch-01', type: 'etch', name: 'x', order: 1, sensors: [{ name: 'a', unit: '', min: 0, max: 1 }] })],
      [topics.state(line.line, 'etch-01'), ''],
    ] as const;
    for (const [topic, payload] of bad) await admin.publishAsync(topic, payload, { qos: 1 });
    const runner = await publishRun(line, 10, 30);
    await rec.limitReached;
    const header = await rec.stop();
    await runner.stop();
    expect(header.counts.telemetry).toBe(50);
    expect(rec.stats.invalid.count).toBe(3);
    expect(rec.stats.cleared).toBe(1);
    expect(rec.stats.invalid.list().map((r) => r.reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/invalid JSON/), expect.stringMatching(/^schema: seq/), expect.stringMatching(/meta ids other\/etch-01 do not match/)]),
    );
    const recorded = await entries(join(dir, `${line.line}.jsonl.gz`));
    // Meta and state came before the line's first snapshot: written just before it, at its time.
    const firstTelemetry = recorded.findIndex((e) => e.kind === 'telemetry');
    expect(recorded.slice(0, firstTelemetry).map((e) => e.kind)).toEqual(Array.from({ length: 8 }, () => ['meta', 'state']).flat());
    expect(recorded.slice(0, firstTelemetry).every((e) => e.at === recorded[firstTelemetry]!.at)).toBe(true);
    expect((await readHeader(join(dir, `${line.line}.jsonl.gz`))).counts.meta).toBe(8);
  }, 60_000);

  it('leaves no queue behind on the broker once stopped', async () => {
    const line = lineDef('gone');
    for (const protocolVersion of [4, 5] as const) {
      const clientId = `lw-rec-gone-${protocolVersion}-${runId}`;
      const rec = recorder(line.line, { clientId, protocolVersion, out: join(dir, `gone-${protocolVersion}.jsonl.gz`) });
      await rec.start();
      await rec.stop();
      await admin.publishAsync(topics.telemetry(line.line, 'etch-01'), JSON.stringify({ ts: 1, seq: 1, values: { a: 1 } }), { qos: 1 });
      const probe = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: false, protocolVersion, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}) });
      const got: string[] = [];
      probe.on('message', (topic) => got.push(topic));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(got, `protocol ${protocolVersion}`).toEqual([]);
      await probe.endAsync();
      await (await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true })).endAsync();
    }
  });
});
