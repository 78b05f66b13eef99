import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, StationView } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { requireServices } from '../../../test/support/services.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { TestPublisher, meta, status, uniqueLine } from './testing/fixtures.js';

const ok = await requireServices('mosquitto');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A private Mosquitto this test may stop and start, so the shared test broker is never disturbed. */
class PrivateBroker {
  private proc: ChildProcess | undefined;
  constructor(private readonly conf: string) {}

  async start(port: number): Promise<void> {
    this.proc = spawn('mosquitto', ['-c', this.conf], { stdio: 'ignore' });
    await vi.waitFor(
      () =>
        new Promise<void>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve()));
          s.once('error', reject);
        }),
      { timeout: 5_000, interval: 50 },
    );
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }
}

describe.skipIf(!ok)('api across a broker outage', () => {
  const line = uniqueLine('outage');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-mosq-'));
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
  let broker: PrivateBroker;
  let brokerUrl = '';
  let api: Api;
  let url = '';
  let client: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;

  beforeAll(async () => {
    const port = await freePort();
    brokerUrl = `mqtt://127.0.0.1:${port}`;
    const conf = path.join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    broker = new PrivateBroker(conf);
    await broker.start(port);
    await store.init();
    api = createApi(loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: brokerUrl, LINE: line }), { store, logger: pino({ level: 'silent' }) });
    url = (await api.start()).url;
  });

  afterAll(async () => {
    client?.close();
    await api?.stop();
    await broker?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
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

    await broker.start(Number(new URL(brokerUrl).port));
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
