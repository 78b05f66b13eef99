import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { topics, type ReadingsBatch } from '@linewatch/protocol';
import { ApiMetrics } from './metrics.js';
import { ReadingsFeed, type ReadingsFeedDeps, type ReadingsSocket } from './readings-feed.js';

const T0 = 1_764_400_000_000;
const LINE = 'fab1';
const REPLAY = 'fab1-replay';

/** The broker link as the feed uses it: what it subscribes to, and a way to deliver messages. */
class FakeBroker extends EventEmitter {
  connected = false;
  /** mqtt.js keeps its reconnect wait here; the feed's capped backoff adjusts it. */
  readonly options = { reconnectPeriod: 1000 };
  readonly subscribed = new Set<string>();
  readonly calls: string[] = [];
  subscribe(filters: string[], _opts: unknown, done: (err: Error | null) => void): void {
    for (const f of filters) {
      this.subscribed.add(f);
      this.calls.push(`sub ${f}`);
    }
    done(null);
  }
  unsubscribe(filter: string, done: (err?: Error) => void): void {
    this.subscribed.delete(filter);
    this.calls.push(`unsub ${filter}`);
    done();
  }
  endAsync(): Promise<void> {
    return Promise.resolve();
  }
  connect(): void {
    this.connected = true;
    // A clean session starts with nothing.
    this.subscribed.clear();
    this.emit('connect');
  }
  deliver(line: string, station: string, payload: unknown): void {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    this.emit('message', topics.telemetry(line, station), Buffer.from(text));
  }
}

const socket = (id: string): ReadingsSocket & { rooms: Set<string> } => {
  const rooms = new Set<string>();
  return { id, rooms, join: (room: string | string[]) => void rooms.add(String(room)), leave: (room: string) => void rooms.delete(room) };
};

describe('ReadingsFeed', () => {
  let broker: FakeBroker;
  let metrics: ApiMetrics;
  let sent: Array<{ room: string; batch: ReadingsBatch }>;
  let feed: ReadingsFeed;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    broker = new FakeBroker();
    metrics = new ApiMetrics();
    sent = [];
    const io = { to: (room: string) => ({ emit: (_event: 'readings', batch: ReadingsBatch) => sent.push({ room, batch }) }) };
    feed = new ReadingsFeed({
      config: { MQTT_URL: 'mqtt://127.0.0.1:1', MQTT_USERNAME: '', MQTT_PASSWORD: '', MQTT_TLS: {}, MQTT_CLIENT_ID: 'lw-test', LINE, REPLAY_LINE: REPLAY },
      io: io as unknown as ReadingsFeedDeps['io'],
      metrics,
      logger: pino({ level: 'silent' }),
      connect: () => broker as unknown as MqttClient,
    });
    feed.start();
    broker.connect();
  });
  afterEach(async () => {
    await feed.stop();
    vi.useRealTimers();
  });

  const gauge = async () => (await metrics.watchedStations.get()).values[0]?.value;
  const counter = async (c: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string> = {}) =>
    (await c.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;

  it('subscribes to a station once however many watch it, and unsubscribes when the last one leaves', async () => {
    const a = socket('a');
    const b = socket('b');
    feed.watch(a, { line: LINE, station: 'etch-01' });
    feed.watch(b, { line: LINE, station: 'etch-01' });
    expect(broker.calls).toEqual([`sub ${topics.telemetry(LINE, 'etch-01')}`]);
    expect(a.rooms).toEqual(new Set(['readings:fab1/etch-01']));
    expect(await gauge()).toBe(1);
    feed.leave(a);
    expect(broker.subscribed.size).toBe(1);
    // b switches to a replayed station: the old one has no watcher left.
    feed.watch(b, { line: REPLAY, station: 'etch-01' });
    expect([...broker.subscribed]).toEqual([topics.telemetry(REPLAY, 'etch-01')]);
    expect(b.rooms).toEqual(new Set(['readings:fab1-replay/etch-01']));
    feed.watch(b, null);
    expect(broker.subscribed.size).toBe(0);
    expect(b.rooms.size).toBe(0);
    expect(await gauge()).toBe(0);
  });

  it('refuses other lines and bad ids, and a refused watch stops the last one', () => {
    const a = socket('a');
    feed.watch(a, { line: LINE, station: 'etch-01' });
    for (const bad of [{ line: 'fab2', station: 'etch-01' }, { line: LINE, station: '../#' }, { line: LINE, station: '+' }, 'etch-01', { line: LINE }, { line: LINE, station: 'etch-01', extra: 1 }]) {
      feed.watch(a, bad);
      expect(broker.subscribed.size).toBe(0);
      expect(feed.stations()).toEqual([]);
    }
    expect(broker.calls.filter((c) => c.startsWith('sub'))).toHaveLength(1);
  });

  it('batches the valid readings of a watched station to its room, and counts bad telemetry', async () => {
    const a = socket('a');
    feed.watch(a, { line: LINE, station: 'etch-01' });
    broker.deliver(LINE, 'etch-01', { ts: T0, seq: 1, values: { rf_power: 1500 }, context: { wafer: 'W1' } });
    broker.deliver(LINE, 'etch-01', { ts: T0 + 1, seq: 2, values: { rf_power: 'high' } });
    broker.deliver(LINE, 'etch-01', 'not json{');
    broker.deliver(LINE, 'etch-01', { ts: T0 + 2, seq: 3, values: { rf_power: 1501 }, replay: false });
    // Not watched: never sent (a late message after unsubscribing).
    broker.deliver(LINE, 'clean-01', { ts: T0, seq: 1, values: { flow: 1 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([
      {
        room: 'readings:fab1/etch-01',
        batch: {
          line: LINE,
          station: 'etch-01',
          readings: [
            { ts: T0, seq: 1, values: { rf_power: 1500 }, context: { wafer: 'W1' } },
            { ts: T0 + 2, seq: 3, values: { rf_power: 1501 } },
          ],
        },
      },
    ]);
    expect(await counter(metrics.rejects, { kind: 'telemetry' })).toBe(2);
    expect(await counter(metrics.readingsForwarded)).toBe(2);
    expect(await counter(metrics.readingsBatches)).toBe(1);
  });

  it('subscribes again after the broker link comes back, to what is watched then', () => {
    const a = socket('a');
    broker.connected = false;
    feed.watch(a, { line: LINE, station: 'etch-01' });
    feed.watch(socket('b'), { line: LINE, station: 'cmp-01' });
    feed.leave(socket('nobody'));
    feed.watch(a, null);
    broker.connect();
    expect([...broker.subscribed]).toEqual([topics.telemetry(LINE, 'cmp-01')]);
  });

  it('drops what waits for a station whose last watcher left, and says so', async () => {
    const a = socket('a');
    feed.watch(a, { line: LINE, station: 'etch-01' });
    broker.deliver(LINE, 'etch-01', { ts: T0, seq: 1, values: { rf_power: 1500 } });
    feed.leave(a);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([]);
    expect(await counter(metrics.readingsDropped, { reason: 'unwatched' })).toBe(1);
  });
});
