import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { until } from '../../../test/support/until.js';
import { createDetector, loadDetectorConfig } from './app.js';

/** `npm start` runs on embedded aedes, which speaks MQTT 3.1.1 only: the default config must work there. */
describe('detector against the embedded aedes broker', () => {
  it('connects with a persistent 3.1.1 session, stores readings and publishes UNMODELLED status', async () => {
    const logger = pino({ level: 'silent' });
    const broker = await Aedes.createBroker();
    const server = net.createServer((socket) => broker.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const modelsDir = await mkdtemp(join(tmpdir(), 'linewatch-aedes-'));
    const store = new SqliteStore({ path: ':memory:' }, logger);
    await store.init();
    const detector = createDetector(loadDetectorConfig({ MQTT_URL: url, MODELS_DIR: modelsDir, HTTP_PORT: '-1', WRITE_FLUSH_MS: '10' }), { store, logger });
    const probe = await mqtt.connectAsync(url, { clientId: 'probe', clean: true });
    try {
      await detector.start();
      const statuses: string[] = [];
      probe.on('message', (_t, payload) => statuses.push((JSON.parse(payload.toString()) as { health: string }).health));
      await probe.subscribeAsync(topics.status('fab1', 'tool-1'), { qos: 1 });
      for (let i = 0; i < 10; i++) {
        await probe.publishAsync(topics.telemetry('fab1', 'tool-1'), JSON.stringify({ ts: 1000 + i, seq: i, values: { x: i } }), { qos: 1 });
      }
      await probe.publishAsync(topics.telemetry('fab1', 'tool-1'), '{broken', { qos: 1 });
      // Wait for every outcome the assertions check, the dead letter included: it arrives after the readings.
      await until('10 readings written, the broken message dead-lettered and a status published', () => {
        const s = detector.stats();
        return s.readingsWritten >= 10 && s.deadLettered >= 1 && statuses.length > 0;
      }, { timeoutMs: 10_000 });
      expect(detector.stats()).toMatchObject({ readingsWritten: 10, deadLettered: 1, dropped: 0 });
      expect(await store.countReadings({ line: 'fab1', station: 'tool-1', from: 0, to: 10_000 })).toBe(10);
      expect(statuses.at(-1)).toBe('UNMODELLED');
    } finally {
      await detector.stop();
      await probe.endAsync();
      await store.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await rm(modelsDir, { recursive: true, force: true });
    }
  });
});
