import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LineSnapshot, ServerToClientEvents, StationStatus, StationView } from '@linewatch/protocol';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { SqliteStore } from '@linewatch/store';
import { TestPublisher, anomaly, meta, state, status, uniqueLine } from './testing/fixtures.js';

const ok = await requireServices('mosquitto');
const SECRET = 'hunter2-broker-secret-xyz';

/** The real embedded store, with a switch to make it stop answering for the readiness test. */
class SwitchableStore extends SqliteStore {
  up = true;
  override async ping(): Promise<boolean> {
    return this.up && (await super.ping());
  }
}

describe.skipIf(!ok)('api against real Mosquitto and socket.io', () => {
  const line = uniqueLine('apitest');
  const store = new SwitchableStore({ path: ':memory:' }, pino({ level: 'silent' }));
  const logLines: string[] = [];
  const responses: string[] = [];
  let pub: TestPublisher;
  let api: Api;
  let url = '';
  let client: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;

  async function get(path: string, init?: RequestInit): Promise<{ status: number; body: unknown; text: string }> {
    const res = await fetch(`${url}${path}`, init);
    const text = await res.text();
    responses.push(text);
    let body: unknown = undefined;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (metrics, plain-text pages): callers use `text`.
    }
    return { status: res.status, body, text };
  }

  beforeAll(async () => {
    await store.init();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    // Published out of process order, before the API starts: it must pick them up as retained and sort them.
    await pub.publish(line, 'etch-01', 'meta', meta(line, 'etch-01', 2, 'Metal etch'));
    await pub.publish(line, 'load-01', 'meta', meta(line, 'load-01', 0, 'Load port'));
    await pub.publish(line, 'clean-01', 'meta', meta(line, 'clean-01', 1, 'Wet clean'));
    await pub.publish(line, 'etch-01', 'state', state({ state: 'ENGINEERING' }));
    await pub.publish(line, 'etch-01', 'status', status(line, 'etch-01', { health: 'WARN', score: 0.93 }));
    await pub.publish(line, 'load-01', 'status', status(line, 'load-01'));
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    const config = loadApiConfig({
      ALERTS_DB_PATH: ':memory:',
      PORT: '0',
      MQTT_URL: TEST_MQTT_URL,
      MQTT_USERNAME: 'linewatch-test',
      MQTT_PASSWORD: SECRET,
      LINE: line,
      DASHBOARD_DIR: '/nonexistent/linewatch-dashboard',
    });
    api = createApi(config, { store, logger: pino({ level: 'debug' }, sink) });
    url = (await api.start()).url;
  });

  afterAll(async () => {
    client?.close();
    await api?.stop();
    await pub?.close();
    await store.close();
  });

  it('lists retained stations in process order with their state and status', async () => {
    await vi.waitFor(async () => {
      const { body } = await get('/api/stations');
      expect((body as StationView[]).map((s) => s.meta.station)).toEqual(['load-01', 'clean-01', 'etch-01']);
    });
    const { body } = await get('/api/stations');
    const [load, clean, etch] = body as StationView[];
    expect(load?.status?.health).toBe('OK');
    expect(clean?.status).toBeNull();
    expect(etch?.state?.state).toBe('ENGINEERING');
    expect(etch?.status?.health).toBe('WARN');
    expect(etch?.lastSeen).toBe(etch?.status?.ts);
    const one = await get('/api/stations/etch-01');
    expect(one.status).toBe(200);
    expect((one.body as StationView).meta.name).toBe('Metal etch');
  });

  it('gives a socket client the snapshot, then live status and anomalies', async () => {
    client = connectSocket(url, { transports: ['websocket'], reconnection: false });
    const snapshot = await new Promise<LineSnapshot>((resolve) => client?.once('snapshot', resolve));
    expect(snapshot.line).toBe(line);
    expect(snapshot.brokerConnected).toBe(true);
    expect(snapshot.stations.map((s) => s.meta.station)).toEqual(['load-01', 'clean-01', 'etch-01']);

    const statuses: StationStatus[] = [];
    client.on('statuses', (batch) => statuses.push(...batch));
    const alarm = status(line, 'clean-01', {
      health: 'ALARM',
      score: 4.2,
      contributors: [{ sensor: 'rf_power', value: 1700, expected: 1500, contribution: 0.8 }],
    });
    await pub.publish(line, 'clean-01', 'status', alarm);
    await vi.waitFor(() => expect(statuses.find((s) => s.station === 'clean-01')?.health).toBe('ALARM'));

    const live = new Promise((resolve) => client?.once('anomaly', resolve));
    const a = anomaly(line, 'clean-01', Date.now());
    await pub.publish(line, 'clean-01', 'anomaly', a);
    expect(await live).toEqual(a);

    const again = new Promise<LineSnapshot>((resolve) => client?.once('snapshot', resolve));
    client.emit('resync');
    const resynced = await again;
    expect(resynced.anomalies[0]?.id).toBe(a.id);
    expect(resynced.stations[1]?.status?.health).toBe('ALARM');
  });

  it('rejects and counts bad messages without crashing, and keeps applying good ones', async () => {
    const rejectsBefore = await rejectCount('status');
    await pub.publish(line, 'load-01', 'status', 'not json at all{');
    await pub.publish(line, 'load-01', 'status', { health: 'GREAT' });
    await pub.publish(line, 'load-01', 'status', status(line, 'someone-else'));
    await pub.publish(line, 'load-01', 'status', status(line, 'load-01', { health: 'DATA_QUALITY' }));
    await vi.waitFor(async () => {
      const { body } = await get('/api/stations/load-01');
      expect((body as StationView).status?.health).toBe('DATA_QUALITY');
    });
    expect((await rejectCount('status')) - rejectsBefore).toBe(3);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('answers REST mistakes with clear JSON errors', async () => {
    const unknown = await get('/api/stations/nope-99');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: { code: 'not_found', message: expect.stringContaining('nope-99') } });

    const badId = await get('/api/stations/bad%20id');
    expect(badId.status).toBe(400);

    const reversed = await get('/api/stations/etch-01/history?from=2026-11-29T12:00:00Z&to=2026-11-29T11:00:00Z');
    expect(reversed.status).toBe(400);
    expect(reversed.body).toMatchObject({ error: { code: 'bad_request', message: expect.stringContaining('to must be after from') } });

    const garbage = await get('/api/stations/etch-01/history?from=yesterday');
    expect(garbage.status).toBe(400);
    expect((garbage.body as { error: { message: string } }).error.message).toMatch(/from/);

    const huge = await get('/api/stations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'a'.repeat(100_000) }) });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ error: { code: 'payload_too_large' } });

    const noRoute = await get('/api/nothing-here');
    expect(noRoute.status).toBe(404);
    expect(noRoute.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('serves history and anomalies from the store', async () => {
    const now = Date.now();
    await store.write({
      readings: [1, 2, 3].map((i) => ({ line, station: 'etch-01', ts: now - i * 1000, seq: i, values: { rf_power: 1500 + i } })),
      scores: [1, 2].map((i) => ({ line, station: 'etch-01', ts: now - i * 1000, seq: i, score: 0.2 * i, threshold: 1, t2: 1, spe: 1, anomalous: false, health: 'OK' as const, modelVersion: 'test@1' })),
      anomalies: [anomaly(line, 'etch-01', now - 5000), anomaly(line, 'etch-01', now - 1000), anomaly(line, 'load-01', now - 2000)],
    });
    const history = await get(`/api/stations/etch-01/history?from=${now - 60_000}&to=${now + 1}`);
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ station: 'etch-01', bucketMs: null });
    expect((history.body as { readings: unknown[] }).readings).toHaveLength(3);
    expect((history.body as { scores: unknown[] }).scores).toHaveLength(2);

    const day = await get(`/api/stations/etch-01/history?from=${now - 86_400_000}&to=${now}`);
    expect((day.body as { bucketMs: number }).bucketMs).toBeGreaterThanOrEqual(43_000);

    const list = await get('/api/anomalies?station=etch-01&limit=10');
    expect((list.body as Array<{ ts: number }>).map((a) => a.ts)).toEqual([now - 1000, now - 5000]);
    expect((await get('/api/anomalies?limit=0')).status).toBe(400);
  });

  it('reports readiness from the broker link and the store', async () => {
    expect((await get('/readyz')).body).toEqual({ status: 'ready', broker: true, store: true });
    store.up = false;
    const down = await get('/readyz');
    store.up = true;
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ store: false });
  });

  it('says how to build the dashboard when it is missing', async () => {
    const page = await get('/');
    expect(page.status).toBe(503);
    expect(page.text).toContain('npm run build');
  });

  it('exposes metrics and never leaks the broker password', async () => {
    const { text } = await get('/metrics');
    expect(text).toMatch(/linewatch_api_http_requests_total\{method="GET",route="\/api\/stations\/:station",status="404"\} [1-9]/);
    expect(text).toMatch(/linewatch_api_mqtt_messages_total\{kind="meta"\} 3/);
    expect(text).toMatch(/linewatch_api_mqtt_rejects_total\{kind="status"\} 3/);
    expect(text).toMatch(/linewatch_api_socket_clients 1/);
    expect(text).toMatch(/linewatch_api_broker_connected 1/);
    expect(logLines.length).toBeGreaterThan(0);
    for (const body of [...responses, ...logLines]) expect(body).not.toContain(SECRET);
  });

  async function rejectCount(kind: string): Promise<number> {
    const { text } = await get('/metrics');
    const m = new RegExp(`linewatch_api_mqtt_rejects_total\\{kind="${kind}"\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  }
});

describe.skipIf(!ok)('api with credentials inside MQTT_URL', () => {
  const URL_SECRET = 's3cret-in-the-url-7q';
  const logLines: string[] = [];
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
  let api: Api | undefined;

  afterAll(async () => {
    await api?.stop();
    await store.close();
  });

  it('never shows the URL password in /metrics, /api responses or the logs, from start to stop', async () => {
    await store.init();
    const withCredentials = new URL(TEST_MQTT_URL);
    withCredentials.username = 'lw-url-user';
    withCredentials.password = URL_SECRET;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    const config = loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: withCredentials.href, LINE: uniqueLine('apiurl'), DASHBOARD_DIR: '/nonexistent/linewatch-dashboard' });
    api = createApi(config, { store, logger: pino({ level: 'debug' }, sink) });
    const base = (await api.start()).url;
    const bodies: string[] = [];
    const text = async (path: string) => {
      const body = await (await fetch(`${base}${path}`)).text();
      bodies.push(body);
      return body;
    };
    // Connected with those credentials, so every connection log line has been written before the checks.
    await vi.waitFor(async () => expect(await text('/metrics')).toMatch(/linewatch_api_broker_connected 1/), { timeout: 10_000, interval: 50 });
    for (const path of ['/api/stations', '/api/stations/nope', '/api/stations/nope/history', '/api/anomalies', '/api/anomalies?limit=x', '/healthz', '/readyz', '/metrics']) {
      await text(path);
    }
    await api.stop();
    api = undefined;
    // Not vacuous: the broker URL did reach the logs (so redaction, not silence, keeps the secret out).
    expect(logLines.join('')).toContain(`@${withCredentials.host}`);
    expect(bodies.length).toBeGreaterThan(8);
    for (const body of [...bodies, ...logLines]) {
      expect(body).not.toContain(URL_SECRET);
      expect(body).not.toContain(encodeURIComponent(URL_SECRET));
    }
  });
});
