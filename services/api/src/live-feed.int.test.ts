import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, StationStatus } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { TestPublisher, meta, status, uniqueLine } from './testing/fixtures.js';

const ok = await requireServices('mosquitto');
const STATIONS = 50;
const ROUNDS = 40;

describe.skipIf(!ok)('live feed under a fast line (real Mosquitto, real socket.io)', () => {
  const line = uniqueLine('feedload');
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
  const ids = Array.from({ length: STATIONS }, (_, i) => `tool-${String(i).padStart(2, '0')}`);
  let pub: TestPublisher;
  let api: Api;
  let client: Socket<ServerToClientEvents, ClientToServerEvents>;

  beforeAll(async () => {
    await store.init();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    for (const [i, id] of ids.entries()) await pub.publish(line, id, 'meta', meta(line, id, i));
    api = createApi(loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line }), { store, logger: pino({ level: 'silent' }) });
    const { port } = await api.start();
    client = connectSocket(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve) => client.once('snapshot', () => resolve()));
  });

  afterAll(async () => {
    client?.close();
    await api?.stop();
    await pub?.close();
    await store.close();
  });

  it('sends 50 stations reporting 20 times a second in a few messages a second, every station’s latest in them, an alarm at once', async () => {
    const messages: Array<{ at: number; batch: StationStatus[] }> = [];
    client.on('statuses', (batch) => messages.push({ at: Date.now(), batch }));
    const latest = new Map<string, number>();
    const started = Date.now();
    // 40 rounds of every station, 50 ms apart: 2,000 statuses in 2 s (bounded).
    for (let round = 0; round < ROUNDS; round++) {
      const sends: Array<Promise<void>> = [];
      for (const id of ids) {
        const score = round / 100 + ids.indexOf(id) / 10_000;
        latest.set(id, score);
        sends.push(pub.publish(line, id, 'status', status(line, id, { score, ts: Date.now() })));
      }
      await Promise.all(sends);
      await new Promise((r) => setTimeout(r, 50));
    }
    const publishSeconds = (Date.now() - started) / 1_000;
    await vi.waitFor(() => {
      const seen = new Map<string, number | null>();
      for (const m of messages) for (const s of m.batch) seen.set(s.station, s.score);
      expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(latest));
    });
    // The first status of each station is news (its health was unknown): up to 50 at once, then 4 a second.
    const known = new Set<string>();
    const index = messages.findIndex((m) => {
      for (const s of m.batch) known.add(s.station);
      return known.size === STATIONS;
    });
    const rest = messages.slice(index + 1);
    const seconds = ((rest.at(-1)?.at ?? started) - (messages[index]?.at ?? started)) / 1_000;
    expect(seconds).toBeGreaterThan(1);
    expect(rest.length / seconds).toBeLessThanOrEqual(5);
    // Each station's latest at most 4 times a second (plus its first, and one batch either side), however long the
    // rounds took on a loaded machine; and far fewer than one per status sent.
    const forwarded = messages.reduce((n, m) => n + m.batch.length, 0);
    expect(forwarded).toBeLessThanOrEqual(STATIONS * (Math.ceil(4 * publishSeconds) + 3));
    expect(forwarded).toBeLessThan(ROUNDS * STATIONS / 2);

    // An alarm does not wait for the next batch.
    const sentAt = Date.now();
    await pub.publish(line, 'tool-07', 'status', status(line, 'tool-07', { health: 'ALARM', score: 5 }));
    await vi.waitFor(() => expect(messages.some((m) => m.batch.some((s) => s.station === 'tool-07' && s.health === 'ALARM'))).toBe(true));
    const alarm = messages.find((m) => m.batch.some((s) => s.health === 'ALARM'));
    expect((alarm?.at ?? Infinity) - sentAt).toBeLessThan(200);
  });
});
