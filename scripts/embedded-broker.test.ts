import mqtt from 'mqtt';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EmbeddedBroker } from './embedded-broker.js';

describe('EmbeddedBroker', () => {
  it('carries QoS 1 messages and stops promptly while an outside client is still connected', async () => {
    const broker = new EmbeddedBroker({ port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
    await broker.start();
    const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await sub.subscribeAsync('t/#', { qos: 1 });
    const got = new Promise<string>((resolve) => sub.once('message', (_t, p) => resolve(p.toString())));
    const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await pub.publishAsync('t/1', 'hello', { qos: 1 });
    expect(await got).toBe('hello');
    await pub.endAsync();
    // `sub` stays connected, as an MQTT explorer would: stop() must not wait for it to hang up.
    const began = Date.now();
    await broker.stop();
    expect(Date.now() - began).toBeLessThan(2_000);
    await sub.endAsync(true);
  });
});
