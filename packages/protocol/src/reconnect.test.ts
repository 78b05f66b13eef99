import { EventEmitter } from 'node:events';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { cappedReconnect } from './reconnect.js';

/** Stands in for an mqtt.js client: the backoff only reads and writes `options.reconnectPeriod` on its events. */
class FakeClient extends EventEmitter {
  options: { reconnectPeriod?: number } = { reconnectPeriod: 1000 };
}

describe('cappedReconnect', () => {
  it('doubles the wait on every lost attempt up to the cap, and starts again from the minimum once connected', () => {
    const client = cappedReconnect(new FakeClient(), 1000, 10_000);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      client.emit('close');
      waits.push(client.options.reconnectPeriod!);
    }
    expect(waits).toEqual([2000, 4000, 8000, 10_000, 10_000, 10_000]);
    client.emit('connect');
    expect(client.options.reconnectPeriod).toBe(1000);
  });

  it('leaves a client that must not reconnect alone', () => {
    const client = new FakeClient();
    client.options.reconnectPeriod = 0;
    cappedReconnect(client);
    client.emit('close');
    expect(client.options.reconnectPeriod).toBe(0);
  });

  it('fits a real mqtt.js client', () => {
    // Nothing listens on port 1 of loopback: the client only has to exist.
    const client = mqtt.connect('mqtt://127.0.0.1:1', { reconnectPeriod: 5000 });
    client.on('error', () => undefined);
    cappedReconnect(client);
    expect(client.options.reconnectPeriod).toBe(1000);
    client.end(true);
  });
});
