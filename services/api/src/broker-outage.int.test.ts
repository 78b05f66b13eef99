import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, StationView } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { requireServices } from '../../../test/support/services.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { TestPublisher, meta, status, uniqueLine } from './testing/fixtures.js';
import { OwnMosquitto } from '../../../test/support/own-mosquitto.js';

const ok = await requireServices('mosquitto');


describe.skipIf(!ok)('api across a broker outage', () => {
  const line = uniqueLine('outage');
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
  // A Mosquitto of its own that it may stop and start, so the shared test broker is never disturbed.
  const broker = new OwnMosquitto({ persistence: false });
  let brokerUrl = '';
  let api: Api;
  let url = '';
  let client: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;

  beforeAll(async () => {
    await broker.start();
    brokerUrl = broker.url;
    await store.init();
    api = createApi(loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: brokerUrl, LINE: line }), { store, logger: pino({ level: 'silent' }) });
    url = (await api.start()).url;
  });

  afterAll(async () => {
    client?.close();
    await api?.stop();
    await broker.dispose();
    await store.close();
  });

  it('reports the outage, then resubscribes and takes new messages after the broker returns', async () => {
    const pub1 = await TestPublisher.connect(brokerUrl);
    await pub1.publish(line, 'etch-01', 'meta', meta(line, 'etch-01', 0));
    await vi.waitFor(async () => expect(await (await fetch(`${url}/api/stations`)).json()).toHaveLength(1));
    await pub1.close(false);

    client = connectSocket(url, { transports: ['websocket'] });
    const links: boolean[] = [];
    client.on('broker', (l) => links.push(l.connected));
    await new Promise((resolve) => client?.once('snapshot', resolve));

    await broker.stop();
    await vi.waitFor(() => expect(links).toContain(false), { timeout: 5_000 });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);

    await broker.start();
    await vi.waitFor(() => expect(links.at(-1)).toBe(true), { timeout: 10_000 });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    // Only a fresh subscription sees this: the private broker kept no session across its restart.
    const pub2 = await TestPublisher.connect(brokerUrl);
    expect(await (await fetch(`${url}/api/stations`)).json()).toHaveLength(1);
    await pub2.publish(line, 'etch-01', 'status', status(line, 'etch-01', { health: 'WARN' }));
    await vi.waitFor(async () => {
      const [view] = (await (await fetch(`${url}/api/stations`)).json()) as StationView[];
      expect(view?.status?.health).toBe('WARN');
    });
    await pub2.close();
  });
});
