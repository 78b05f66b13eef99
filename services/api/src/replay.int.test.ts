/**
 * Replays from the API against real Mosquitto, with the real detector scoring the replay line: the whole of
 * `npm start`'s stack (scripts/line.ts) except the simulator, on a line id of its own.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LINE } from '@linewatch/simulators';
import { parseTopic, topics, type ClientToServerEvents, type LineSnapshot, type RecordingInfo, type ReplayLineEvent, type ReplayStatus, type ServerToClientEvents } from '@linewatch/protocol';
import type { RecordingHeader } from '@linewatch/recording';
import { startLine, type RunningLine } from '../../../scripts/line.js';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { uniqueLine } from './testing/fixtures.js';
import { writeTestRecording } from './testing/recording.js';

const ok = await requireServices('mosquitto');
const TOKEN = `replay-test-token-${Math.random().toString(36).slice(2)}`;
const RECORDING = 'etch-step.jsonl.gz';
/** 60 s of the line at 2 Hz with a step fault on etch-01: 6 s at 10×. */
const SECONDS = 60;
const RATE_HZ = 2;
const POLL = { timeoutMs: 30_000, intervalMs: 50 };

interface Answer<T = unknown> {
  status: number;
  body: T;
}

describe.skipIf(!ok)('replays from the API, scored by the real detector', () => {
  const line = uniqueLine('replayapi');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-replay-int-'));
  const detectorClientId = `lw-replay-int-detector-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  let running: RunningLine;
  let replayLine = '';
  let header: RecordingHeader;
  let watcher: mqtt.MqttClient;
  let client: Socket<ServerToClientEvents, ClientToServerEvents>;
  /** Every message the broker delivered on the replay line (kind, payload) and on the live line. */
  const onReplayLine: Array<{ kind: string; station: string; payload: Record<string, unknown> }> = [];
  const onLiveLine: string[] = [];
  const replayEvents: Array<{ at: number; status: ReplayStatus }> = [];
  const lineEvents: ReplayLineEvent[] = [];
  const liveStatusLines: string[] = [];

  async function call<T = unknown>(method: string, url: string, options: { token?: string; body?: unknown; raw?: string; base?: string } = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.raw !== undefined) headers['content-type'] = 'text/plain';
    const body = options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
    const res = await fetch(`${options.base ?? running.url}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    return { status: res.status, body: (await res.json()) as T };
  }

  beforeAll(async () => {
    header = await writeTestRecording(path.join(dir, RECORDING), {
      line: 'recorded-line',
      seconds: SECONDS,
      rateHz: RATE_HZ,
      seed: 21,
      scenario: { faults: [{ station: 'etch-01', type: 'step', sensors: ['chamber_pressure'], at: 20, duration: 30 }] },
    });
    running = await startLine({
      mqttUrl: TEST_MQTT_URL,
      mqttPort: 0,
      store: { sqlitePath: ':memory:' },
      httpHost: '127.0.0.1',
      httpPort: 0,
      detectorHttpPort: -1,
      line: { ...DEFAULT_LINE, line },
      simulate: false,
      scenario: { faults: [] },
      seed: 1,
      rateHz: 1,
      env: { ALERTS_DB_PATH: ':memory:', MQTT_CLIENT_ID: detectorClientId, API_TOKEN: TOKEN, RECORDINGS_DIR: dir },
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    replayLine = running.replayLine;
    watcher = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-replay-int-watch-${process.pid}` });
    watcher.on('message', (topic, payload) => {
      const t = parseTopic(topic);
      if (!t || payload.byteLength === 0) return;
      if (t.line === replayLine) onReplayLine.push({ kind: t.kind, station: t.station, payload: JSON.parse(payload.toString()) as Record<string, unknown> });
      else if (t.line === line) onLiveLine.push(topic);
    });
    await watcher.subscribeAsync([`linewatch/v1/${replayLine}/#`, `linewatch/v1/${line}/#`], { qos: 1 });
    client = connectSocket(running.url, { transports: ['websocket'], reconnection: false });
    client.on('replay', (status) => replayEvents.push({ at: Date.now(), status }));
    client.on('replayLine', (event) => lineEvents.push(event));
    client.on('statuses', (batch) => liveStatusLines.push(...batch.map((s) => s.line)));
    await new Promise<void>((resolve) => client.once('snapshot', () => resolve()));
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await watcher?.endAsync();
    await running?.stop();
    // Leave nothing retained or persistent on the shared broker.
    const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-replay-int-clean-${process.pid}` });
    for (const s of DEFAULT_LINE.stations)
      for (const kind of ['status', 'meta', 'state'] as const) await cleaner.publishAsync(topics[kind](replayLine, s.id), '', { retain: true, qos: 1 });
    await cleaner.endAsync();
    for (const id of [detectorClientId, `${detectorClientId}-replay`]) {
      const session = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: id, clean: true }).catch(() => undefined);
      await session?.endAsync();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('plays into a line of its own, never the live one', () => {
    expect(replayLine).toBe(`${line}-replay`);
  });

  it('lists the stored recordings from their headers', async () => {
    const { status, body } = await call<RecordingInfo[]>('GET', '/api/recordings');
    expect(status).toBe(200);
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({ name: RECORDING, error: null, lines: ['recorded-line'], labels: 'truth', counts: header.counts });
    expect(body[0]?.stations).toHaveLength(DEFAULT_LINE.stations.length);
  });

  it('refuses changes without the right token: 401 without one, 403 with a wrong one', async () => {
    const body = { recording: RECORDING, speed: 10 };
    const missing = await call('POST', '/api/replay', { body });
    expect(missing).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const wrong = await call('POST', '/api/replay', { body, token: `${TOKEN}-not` });
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: 'the API token is wrong' } } });
    expect((await call('DELETE', '/api/replay', { token: 'nope' })).status).toBe(403);
    expect((await call('DELETE', '/api/replay')).status).toBe(401);
    expect((await call<ReplayStatus>('GET', '/api/replay')).body.state).toBe('idle');
  });

  it('answers a bad body with 400 naming the problem', async () => {
    const bad: unknown[] = [
      { recording: RECORDING, speed: 0 },
      { recording: RECORDING, speed: 101 },
      { recording: RECORDING, speed: 'fast' },
      { recording: RECORDING, speed: '10' },
      { recording: RECORDING },
      { speed: 10 },
      { recording: RECORDING, speed: 10, timestamps: 'later' },
      { recording: RECORDING, speed: 10, line: 'fab1' },
      [RECORDING],
    ];
    for (const body of bad) {
      const answer = await call<{ error: { code: string; message: string } }>('POST', '/api/replay', { body, token: TOKEN });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('bad_request');
    }
    expect((await call('POST', '/api/replay', { raw: 'recording=x', token: TOKEN })).status).toBe(400);
    const speed = await call<{ error: { message: string } }>('POST', '/api/replay', { body: { recording: RECORDING, speed: 500 }, token: TOKEN });
    expect(speed.body.error.message).toMatch(/speed/);
  });

  it('rejects recording names that leave the recordings folder, and unknown ones with 404', async () => {
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    for (const recording of ['../etc.jsonl.gz', `../${path.basename(dir)}/${RECORDING}`, '/etc/passwd', `${dir}/${RECORDING}`, `sub/../${RECORDING}`, '..', '.']) {
      const answer = await call<{ error: { code: string } }>('POST', '/api/replay', { body: { recording, speed: 10 }, token: TOKEN });
      expect(answer.status, recording).toBe(400);
    }
    const unknown = await call<{ error: { message: string } }>('POST', '/api/replay', { body: { recording: 'nope.jsonl.gz', speed: 10 }, token: TOKEN });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('nope.jsonl.gz');
    expect((await call<ReplayStatus>('GET', '/api/replay')).body.state).toBe('idle');
  });

  it('starts a replay (202), refuses a second one (409), and publishes the recording on the replay line, marked replayed', async () => {
    const began = Date.now();
    const started = await call<ReplayStatus>('POST', '/api/replay', { body: { recording: RECORDING, speed: 10 }, token: TOKEN });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ state: 'starting', line: replayLine, run: { recording: RECORDING, speed: 10, loop: false, timestamps: 'shifted' } });
    const second = await call<{ error: { code: string; message: string } }>('POST', '/api/replay', { body: { recording: RECORDING, speed: 'max' }, token: TOKEN });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain(RECORDING);

    const done = await until('the replay to complete', async () => {
      const { body } = await call<ReplayStatus>('GET', '/api/replay');
      return body.state === 'completed' ? body : body.state === 'failed' ? Promise.reject(new Error(JSON.stringify(body))) : undefined;
    }, { ...POLL, intervalMs: 200 });
    const total = header.counts.telemetry + header.counts.state + header.counts.meta + header.counts.truth;
    expect(done.run?.result).toMatchObject({ outcome: 'completed', sent: total, errors: 0, unacked: 0, error: null });
    expect(done.run?.progress).toMatchObject({ sent: total, total, fraction: 1 });
    // About 6 s at 10×; a replay that ignored the speed would take milliseconds.
    expect(Date.now() - began).toBeGreaterThan(((SECONDS - 5) * 1000) / 10);

    const telemetry = await until('every replayed snapshot at the broker', () => {
      const seen = onReplayLine.filter((m) => m.kind === 'telemetry');
      return new Set(seen.map((m) => `${m.station}/${String(m.payload.seq)}`)).size >= header.counts.telemetry ? seen : undefined;
    }, { ...POLL, progress: () => onReplayLine.length });
    expect(new Set(telemetry.map((m) => `${m.station}/${String(m.payload.seq)}`)).size).toBe(header.counts.telemetry);
    const published = onReplayLine.filter((m) => ['telemetry', 'state', 'meta', 'truth'].includes(m.kind));
    expect(published.length).toBeGreaterThanOrEqual(total);
    expect(published.filter((m) => m.payload.replay !== true)).toEqual([]);
    expect(onReplayLine.filter((m) => m.kind === 'meta').every((m) => m.payload.line === replayLine)).toBe(true);
    expect(onLiveLine).toEqual([]);
  }, 60_000);

  it('sends the progress to socket.io clients, at most about 4 a second', async () => {
    const playing = replayEvents.filter((e) => e.status.state === 'playing');
    expect(playing.length).toBeGreaterThan(3);
    const sent = playing.map((e) => e.status.run?.progress.sent ?? 0);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
    expect(replayEvents.map((e) => e.status.state)).toContain('completed');
    const span = playing.at(-1)!.at - playing[0]!.at;
    expect(playing.length).toBeLessThanOrEqual(Math.ceil(span / 250) + 2);
  });

  it('has the detector score the replay line: its statuses and anomalies reach the API, kept apart from the live line', async () => {
    const snapshot = await until('the replay line with statuses in the snapshot', async () => {
      const snap = await new Promise<LineSnapshot>((resolve) => {
        client.once('snapshot', resolve);
        client.emit('resync');
      });
      const stations = snap.replay.stations;
      return stations.length === DEFAULT_LINE.stations.length && stations.every((s) => s.status !== null) && snap.replay.anomalies.length > 0 ? snap : undefined;
    }, { ...POLL, intervalMs: 250 });
    expect(snapshot.line).toBe(line);
    expect(snapshot.stations).toEqual([]);
    expect(snapshot.anomalies).toEqual([]);
    expect(snapshot.replay.status.state).toBe('completed');
    expect(snapshot.replay.stations.every((s) => s.meta.line === replayLine && s.status?.line === replayLine && s.status.replay === true)).toBe(true);
    expect(snapshot.replay.anomalies.every((a) => a.line === replayLine && a.station === 'etch-01')).toBe(true);
    // Live, they came as replay-line events only; no plain status event was of the replay line.
    expect(lineEvents.some((e) => e.kind === 'statuses' && e.statuses.length > 0 && e.statuses.every((s) => s.line === replayLine))).toBe(true);
    expect(lineEvents.some((e) => e.kind === 'anomaly' && e.anomaly.line === replayLine)).toBe(true);
    expect(lineEvents.every((e) => e.line === replayLine)).toBe(true);
    expect(liveStatusLines.filter((l) => l !== line)).toEqual([]);
  }, 40_000);

  it('stops a replay on DELETE, and GET shows how it ended', async () => {
    const resets = lineEvents.filter((e) => e.kind === 'reset').length;
    const started = await call<ReplayStatus>('POST', '/api/replay', { body: { recording: RECORDING, speed: 1, loop: true }, token: TOKEN });
    expect(started.status).toBe(202);
    await until('the slow replay to send something', async () => {
      const { body } = await call<ReplayStatus>('GET', '/api/replay');
      return body.state === 'playing' && (body.run?.progress.sent ?? 0) > 0;
    }, POLL);
    // The new replay cleared the replay line first.
    expect(lineEvents.filter((e) => e.kind === 'reset').length).toBe(resets + 1);
    const stopped = await call<ReplayStatus>('DELETE', '/api/replay', { token: TOKEN });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ state: 'stopped', run: { loop: true, speed: 1, result: { outcome: 'stopped' } } });
    expect(stopped.body.run?.result?.sent).toBeLessThan(header.counts.telemetry);
    const shown = await call<ReplayStatus>('GET', '/api/replay');
    expect(shown.body).toEqual(stopped.body);
    // Nothing more arrives once it has stopped.
    const count = onReplayLine.filter((m) => m.kind === 'telemetry').length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(onReplayLine.filter((m) => m.kind === 'telemetry').length).toBe(count);
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toMatch(/linewatch_api_replays_total\{outcome="completed"\} 1\n/);
    expect(metrics).toMatch(/linewatch_api_replays_total\{outcome="stopped"\} 1\n/);
    expect(metrics).toMatch(/linewatch_api_replay_running 0\n/);
  }, 40_000);
});
