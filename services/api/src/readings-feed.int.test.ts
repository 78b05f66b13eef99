import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LineSnapshot, LineStats, ReadingsBatch, ServerToClientEvents } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { TestPublisher, meta, status, uniqueLine } from './testing/fixtures.js';

const ok = await requireServices('mosquitto');

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A socket client that keeps every `readings` batch it gets, with its arrival time. */
async function connect(url: string): Promise<{ socket: Client; batches: Array<{ at: number; batch: ReadingsBatch }>; snapshot: LineSnapshot }> {
  const socket: Client = connectSocket(url, { transports: ['websocket'], reconnection: false });
  const batches: Array<{ at: number; batch: ReadingsBatch }> = [];
  socket.on('readings', (batch) => batches.push({ at: Date.now(), batch }));
  const snapshot = await new Promise<LineSnapshot>((resolve) => socket.once('snapshot', resolve));
  return { socket, batches, snapshot };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!ok)('live readings of watched stations, against real Mosquitto and socket.io', () => {
  const line = uniqueLine('readings');
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
  const clients: Client[] = [];
  let pub: TestPublisher;
  let api: Api;
  let url = '';
  let seq = 0;

  const telemetry = (station: string, patch: Record<string, unknown> = {}) => pub.publish(line, station, 'telemetry', { ts: Date.now(), seq: ++seq, values: { rf_power: 1500 + (seq % 7) }, ...patch });
  const metric = async (pattern: string): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = new RegExp(`^${pattern.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };

  beforeAll(async () => {
    await store.init();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    await pub.publish(line, 'etch-01', 'meta', meta(line, 'etch-01', 3));
    await pub.publish(line, 'unload-01', 'meta', meta(line, 'unload-01', 7));
    const config = loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, DASHBOARD_DIR: '/nonexistent/linewatch-dashboard' });
    api = createApi(config, { store, logger: pino({ level: 'silent' }) });
    url = (await api.start()).url;
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await api?.stop();
    await pub?.close();
    await store.close();
  });

  it('sends a watcher every reading of its station in a few batches a second, and nothing to others', async () => {
    const watcher = await connect(url);
    const bystander = await connect(url);
    clients.push(watcher.socket, bystander.socket);
    watcher.socket.emit('watch', { line, station: 'etch-01' });
    // The subscription is live once a probe reading comes through.
    await vi.waitFor(
      async () => {
        await telemetry('etch-01');
        expect(watcher.batches.length).toBeGreaterThan(0);
      },
      { timeout: 5_000, interval: 100 },
    );
    await sleep(300);
    const probes = watcher.batches.flatMap((b) => b.batch.readings).length;
    const telemetryBefore = await metric('linewatch_api_mqtt_messages_total{kind="telemetry"}');
    watcher.batches.length = 0;

    // 200 readings at ~200 a second, with a bad one and another station's in between.
    const first = seq + 1;
    const startedAt = Date.now();
    for (let i = 0; i < 200; i++) {
      await telemetry('etch-01', i === 50 ? { context: { lot: 'L1', wafer: 'W7' } } : {});
      if (i === 100) {
        await pub.publish(line, 'etch-01', 'telemetry', { ts: Date.now(), seq: 0, values: { rf_power: 'high' } });
        await telemetry('clean-01');
      }
      await sleep(5);
    }
    const last = seq;
    await vi.waitFor(() => expect(watcher.batches.flatMap((b) => b.batch.readings).at(-1)?.seq).toBe(last), { timeout: 5_000, interval: 50 });
    const elapsed = Date.now() - startedAt;

    const readings = watcher.batches.flatMap((b) => b.batch.readings);
    const expected = Array.from({ length: last - first + 1 }, (_, i) => first + i).filter((s) => s !== first + 101);
    expect(readings.map((r) => r.seq)).toEqual(expected);
    expect(readings).toHaveLength(200);
    expect(readings[50]?.context).toEqual({ lot: 'L1', wafer: 'W7' });
    expect(watcher.batches.every((b) => b.batch.line === line && b.batch.station === 'etch-01')).toBe(true);
    // Batched: at most one per 250 ms (a batch or two of slack for the edges), and far fewer than readings.
    expect(watcher.batches.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    expect(watcher.batches.length).toBeGreaterThan(1);
    const gaps = watcher.batches.slice(1).map((b, i) => b.at - (watcher.batches[i]?.at ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(150);
    expect(bystander.batches).toEqual([]);

    // Only the watched station's telemetry reaches the API (no wildcard): clean-01's was never taken.
    expect((await metric('linewatch_api_mqtt_messages_total{kind="telemetry"}')) - telemetryBefore).toBe(200);
    expect(await metric('linewatch_api_mqtt_rejects_total{kind="telemetry"}')).toBe(1);
    expect(await metric('linewatch_api_readings_forwarded_total')).toBe(200 + probes);
    expect(await metric('linewatch_api_watched_stations')).toBe(1);

    // watch(null): the API unsubscribes, so more telemetry is neither received nor sent.
    watcher.socket.emit('watch', null);
    await vi.waitFor(async () => expect(await metric('linewatch_api_watched_stations')).toBe(0));
    await sleep(200);
    const receivedAfter = await metric('linewatch_api_mqtt_messages_total{kind="telemetry"}');
    const batchesAfter = watcher.batches.length;
    for (let i = 0; i < 10; i++) await telemetry('etch-01');
    await sleep(600);
    expect(watcher.batches.length).toBe(batchesAfter);
    expect(await metric('linewatch_api_mqtt_messages_total{kind="telemetry"}')).toBe(receivedAfter);
  });

  it('stops a watch when its socket disconnects, and refuses lines other than the live and the replay line', async () => {
    const a = await connect(url);
    const b = await connect(url);
    clients.push(a.socket, b.socket);
    a.socket.emit('watch', { line: `${line}-replay`, station: 'etch-01' });
    b.socket.emit('watch', { line: 'some-other-line', station: 'etch-01' });
    await vi.waitFor(async () => expect(await metric('linewatch_api_watched_stations')).toBe(1));
    await vi.waitFor(
      async () => {
        await pub.publish(`${line}-replay`, 'etch-01', 'telemetry', { ts: Date.now(), seq: ++seq, values: { rf_power: 1 }, replay: true });
        expect(a.batches.length).toBeGreaterThan(0);
      },
      { timeout: 5_000, interval: 100 },
    );
    expect(a.batches[0]?.batch.line).toBe(`${line}-replay`);
    await pub.publish('some-other-line', 'etch-01', 'telemetry', { ts: Date.now(), seq: 1, values: { rf_power: 1 } });
    a.socket.close();
    await vi.waitFor(async () => expect(await metric('linewatch_api_watched_stations')).toBe(0));
    expect(b.batches).toEqual([]);
  });

  it('counts wafers at the last station in the snapshot and in lineStats', async () => {
    const now = Date.now();
    await pub.publish(line, 'etch-01', 'status', status(line, 'etch-01', { ts: now, context: { wafer: 'E1' } }));
    for (const [i, wafer] of ['U1', 'U1', 'U2', 'U3'].entries())
      await pub.publish(line, 'unload-01', 'status', status(line, 'unload-01', { ts: now + i, context: { lot: 'L1', wafer } }));
    const c = await connect(url);
    clients.push(c.socket);
    const stats = await new Promise<LineStats>((resolve) => c.socket.on('lineStats', (s) => s.wafers === 3 && resolve(s)));
    expect(stats).toMatchObject({ station: 'unload-01', wafers: 3 });
    expect(stats.wafersPerHour).toBeGreaterThan(0);
    const fresh = await connect(url);
    clients.push(fresh.socket);
    expect(fresh.snapshot.stats).toMatchObject({ station: 'unload-01', wafers: 3 });
  }, 10_000);
});
