/**
 * Wafer-level verdicts through the real API on real Mosquitto: kept and served newest first, pushed over socket.io,
 * alerted on (one alert per recipe step, fired at its faulty wafer and resolved by a later good one, delivered to a
 * real webhook receiver), and re-baselining a station by REST, which publishes a command the detector can parse.
 */
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandSchema, topics, type ClientToServerEvents, type DataQualityEvent, type LineSnapshot, type ServerToClientEvents, type WaferVerdict } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { TestPublisher, meta, state, status, uniqueLine, waferVerdict } from './testing/fixtures.js';
import type { WebhookPayload } from './webhooks/payload.js';
import { TestReceiver } from './webhooks/receiver.test-support.js';

const ok = await requireServices('mosquitto');
const TOKEN = `wafer-test-token-${Math.random().toString(36).slice(2)}`;
const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

describe.skipIf(!ok)('wafer verdicts and re-baselining through the API', () => {
  const line = uniqueLine('wafers');
  const station = 'etch-01';
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
  let pub: TestPublisher;
  let api: Api;
  let url = '';
  let hook: TestReceiver;
  let socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;
  let commands: MqttClient | undefined;

  const call = async (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    if (init.json !== undefined) headers.set('content-type', 'application/json');
    const res = await fetch(`${url}${path}`, { ...init, headers, ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}) });
    const text = await res.text();
    return { status: res.status, text, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const payloads = () => hook.accepted().map((r) => JSON.parse(r.body) as WebhookPayload);

  beforeAll(async () => {
    await store.init();
    hook = await TestReceiver.start();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    await pub.publish(line, station, 'meta', meta(line, station, 0, 'Metal etch'));
    await pub.publish(line, station, 'state', state());
    await pub.publish(line, station, 'status', status(line, station));
    const config = loadApiConfig({
      PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, DASHBOARD_DIR: '/nonexistent', API_TOKEN: TOKEN, ALERTS_DB_PATH: ':memory:',
      // Far longer than the test: a wafer alert must not wait for it.
      ALERT_FOR_MS: '600000', ALERT_CLEAR_HOLD_MS: '500', MQTT_CLIENT_ID: `lw-wafers-int-${process.pid}`,
    });
    api = createApi(config, { store, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
    ({ url } = await api.start());
    const created = await call('/api/webhooks', { method: 'POST', token: TOKEN, json: { url: hook.url(), secret: SECRET } });
    expect(created.status).toBe(201);
  }, 30_000);

  afterAll(async () => {
    socket?.close();
    await commands?.endAsync();
    await api?.stop();
    await pub?.close();
    await hook?.close();
    await store.close();
  });

  it('serves a station’s verdicts newest first, each once, in the snapshot and live over socket.io', async () => {
    const t = Date.now();
    const [w1, w2, w3] = [waferVerdict(line, station, 'W01', t - 300_000, { verdict: 'ok', score: 0.3, contributors: [] }), waferVerdict(line, station, 'W02', t - 200_000, { verdict: 'ok', score: 0.4, contributors: [] }), waferVerdict(line, station, 'W03', t - 100_000, { verdict: 'baselining', score: 0, contributors: [] })];
    // Out of order, and W02 twice (QoS 1 may redeliver).
    for (const v of [w2, w1, w2, w3]) await pub.publish(line, station, 'wafer', v);
    const listed = await until('three verdicts', async () => {
      const got = (await call(`/api/stations/${station}/wafers`)).json as WaferVerdict[];
      return got.length >= 3 ? got : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(((await call(`/api/stations/${station}/wafers`)).json as WaferVerdict[]).map((v) => v.wafer)).toEqual(['W03', 'W02', 'W01']);
    expect(listed[0]).toEqual(w3);
    expect(((await call(`/api/stations/${station}/wafers?limit=1`)).json as WaferVerdict[]).map((v) => v.wafer)).toEqual(['W03']);
    expect((await call('/api/stations/nope-01/wafers')).status).toBe(404);
    expect((await call(`/api/stations/${station}/wafers?line=some-other-line`)).status).toBe(404);
    expect((await call(`/api/stations/${station}/wafers?limit=0`)).status).toBe(400);

    socket = connectSocket(url, { transports: ['websocket'] });
    const snapshot = await new Promise<LineSnapshot>((resolve) => socket?.once('snapshot', resolve));
    expect(snapshot.wafers.map((v) => v.wafer)).toEqual(['W03', 'W02', 'W01']);
    expect(snapshot.replay.wafers).toEqual([]);
    const pushed = new Promise<WaferVerdict>((resolve) => socket?.once('wafer', resolve));
    const quality = new Promise<DataQualityEvent>((resolve) => socket?.once('quality', resolve));
    const w4 = waferVerdict(line, station, 'W04', t, { verdict: 'ok', score: 0.2, contributors: [] });
    await pub.publish(line, station, 'wafer', w4);
    const issue: DataQualityEvent = { line, station, kind: 'stuck', sensor: 'rf_power', since: t, ts: t, detail: 'unchanged for 60 s', state: 'raised' };
    await pub.publish(line, station, 'quality', issue);
    expect(await pushed).toEqual(w4);
    expect(await quality).toEqual(issue);
  });

  it('fires one wafer alert per step at its faulty wafer, unmuted by STANDBY, and resolves it once after a good wafer', async () => {
    const t = Date.now();
    const fault = waferVerdict(line, station, 'W10', t, { score: 3.4 });
    await pub.publish(line, station, 'wafer', fault);
    // The tool waits for its next wafer: STANDBY must not mute the faulty wafer's alert.
    await pub.publish(line, station, 'state', state({ state: 'STANDBY', since: t }));
    await pub.publish(line, station, 'wafer', fault); // a redelivery is not a second wafer
    const firing = await until('firing webhook', () => payloads().find((p) => p.alerts[0]?.kind === 'firing'), { timeoutMs: 10_000 });
    const [alert] = firing.alerts;
    expect(alert?.labels).toMatchObject({ alertname: 'wafer/ETCH-AL-01/main_etch', line, station, level: 'wafer', severity: 'critical', class: 'process' });
    expect(alert?.annotations).toMatchObject({ wafer: 'W10', lot: 'L0001', step: 'main_etch', indicators: 'rf_power.mean 1620 (expected 1500, 60%), step.duration 75 (expected 60, 25%)' });
    expect(alert?.annotations.sampleVerdict).toBe('OK, score 0.31 (threshold 1)');
    expect(alert).toMatchObject({ level: 'wafer', wafer: { wafer: 'W10', step: 'main_etch', verdictId: fault.id }, equipmentState: 'PRODUCTIVE', score: 3.4 });
    expect(alert?.contributors.map((c) => `${c.sensor}.${c.stat}`)).toEqual(['rf_power.mean', 'step.duration']);

    await pub.publish(line, station, 'state', state({ state: 'PRODUCTIVE', since: Date.now() }));
    await pub.publish(line, station, 'wafer', waferVerdict(line, station, 'W11', Date.now(), { verdict: 'ok', score: 0.2, contributors: [] }));
    await until('resolved webhook', () => payloads().find((p) => p.alerts[0]?.kind === 'resolved'), { timeoutMs: 10_000 });
    // Long past the hold: nothing more comes.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(payloads().map((p) => p.alerts[0]?.kind)).toEqual(['firing', 'resolved']);
    expect(payloads().map((p) => p.alerts[0]?.fingerprint)).toEqual([alert?.fingerprint, alert?.fingerprint]);
    expect(alert?.fingerprint).toMatch(new RegExp(`^${line}/${station}/wafer/ETCH-AL-01/main_etch/\\d+$`));
    const alerts = (await call(`/api/alerts?line=${line}`)).json as { source: string; state: string; level: string }[];
    expect(alerts.map((a) => [a.source, a.state, a.level])).toEqual([['wafer/ETCH-AL-01/main_etch', 'resolved', 'wafer']]);
  }, 30_000);

  it('re-baselines over REST: the token is required, the body is checked, and the detector gets a valid command', async () => {
    commands = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-wafers-cmd-${process.pid}`, reconnectPeriod: 0 });
    const received: unknown[] = [];
    commands.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString('utf8'))));
    await commands.subscribeAsync(topics.command(line, station), { qos: 1 });
    const path = `/api/stations/${station}/baseline`;

    expect((await call(path, { method: 'POST', json: { wafers: 5 } })).status).toBe(401);
    expect((await call(path, { method: 'POST', json: { wafers: 5 }, token: 'not-the-token-0123456789' })).status).toBe(403);
    for (const body of [{ wafers: 0 }, { wafers: 51 }, { wafers: 2.5 }, { wafers: 'five' }, { wafers: 3, reason: 'x'.repeat(201) }, { wafers: 3, extra: true }]) {
      const bad = await call(path, { method: 'POST', json: body, token: TOKEN });
      expect(bad.status, JSON.stringify(body)).toBe(422);
      expect((bad.json as { error: { code: string; message: string } }).error).toMatchObject({ code: 'unprocessable', message: expect.stringMatching(/^invalid body: /) });
    }
    expect((await call('/api/stations/nope-01/baseline', { method: 'POST', json: {}, token: TOKEN })).status).toBe(404);

    const before = Date.now();
    const accepted = await call(path, { method: 'POST', json: { wafers: 7, reason: 'after PM: chamber clean' }, token: TOKEN });
    expect(accepted.status).toBe(202);
    const command = CommandSchema.parse(accepted.json);
    expect(command).toMatchObject({ type: 'rebaseline', wafers: 7, reason: 'after PM: chamber clean' });
    expect(command.requestedAt).toBeGreaterThanOrEqual(before);
    expect(command.id).toBe(`rebaseline/${line}/${station}/${command.requestedAt}`);
    // Without a body: the default of 5 wafers.
    const defaulted = await call(path, { method: 'POST', token: TOKEN });
    expect(defaulted.status).toBe(202);
    expect(defaulted.json).toMatchObject({ type: 'rebaseline', wafers: 5 });

    await until('both commands on the command topic', () => (received.length >= 2 ? true : undefined), { timeoutMs: 5_000 });
    expect(received.map((m) => CommandSchema.parse(m))).toEqual([command, defaulted.json]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/linewatch_api_commands_total\{type="rebaseline",outcome="published"\} 2/);
    expect(metrics).not.toMatch(/linewatch_api_commands_total\{type="rebaseline",outcome="failed"\}/);
  });
});
