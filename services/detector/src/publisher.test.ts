import { DataQualityEventSchema, topics, type DataQualityEvent, type StationStatus } from '@linewatch/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from './event-bus.js';
import { DetectorMetrics } from './metrics.js';
import { Publisher } from './publisher.js';

const status = (ts: number, health: StationStatus['health'] = 'OK'): StationStatus => ({
  line: 'l', station: 's', health, since: 0, ts, score: 0.1, threshold: 1, modelVersion: 'v', contributors: [],
});

describe('Publisher status throttle', () => {
  let sent: { topic: string; ts: number; health: string; retain: boolean }[];
  let bus: EventBus;
  let publisher: Publisher;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    const metrics = new DetectorMetrics();
    bus = new EventBus(pino({ level: 'silent' }), metrics);
    publisher = new Publisher({
      bus, metrics, logger: pino({ level: 'silent' }), minIntervalMs: 250,
      publish: (topic, payload, opts) => {
        const s = JSON.parse(payload) as StationStatus;
        sent.push({ topic, ts: s.ts, health: s.health, retain: opts.retain });
      },
    });
    publisher.start();
  });
  afterEach(() => vi.useRealTimers());

  it('publishes at most once per interval, then the latest, and at once on a health change', async () => {
    bus.emit('status', { status: status(1), healthChanged: true });
    bus.emit('status', { status: status(2), healthChanged: false });
    bus.emit('status', { status: status(3), healthChanged: false });
    expect(sent.map((s) => s.ts)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(250);
    expect(sent.map((s) => s.ts)).toEqual([1, 3]);
    bus.emit('status', { status: status(4, 'WARN'), healthChanged: true });
    expect(sent.map((s) => s.ts)).toEqual([1, 3, 4]);
    expect(sent.every((s) => s.retain && s.topic === topics.status('l', 's'))).toBe(true);
  });

  it('publishes a held-back status on stop', () => {
    bus.emit('status', { status: status(1), healthChanged: true });
    bus.emit('status', { status: status(2), healthChanged: false });
    publisher.stop();
    expect(sent.map((s) => s.ts)).toEqual([1, 2]);
  });
});

describe('Publisher data-quality events', () => {
  it('publishes each raised and cleared issue on the quality topic at QoS 1, not retained, and none as an anomaly', () => {
    const sent: { topic: string; payload: string; qos: number; retain: boolean }[] = [];
    const metrics = new DetectorMetrics();
    const bus = new EventBus(pino({ level: 'silent' }), metrics);
    new Publisher({ bus, metrics, logger: pino({ level: 'silent' }), minIntervalMs: 250, publish: (topic, payload, opts) => void sent.push({ topic, payload, ...opts }) }).start();
    const event: DataQualityEvent = { line: 'l', station: 's', kind: 'stuck', sensor: 'rf_power', since: 5, detail: '10 identical readings', ts: 5, state: 'raised' };
    bus.emit('quality', { event });
    bus.emit('quality', { event: { ...event, ts: 9, state: 'cleared' } });
    expect(sent.map((m) => [m.topic, m.qos, m.retain])).toEqual([
      [topics.quality('l', 's'), 1, false],
      [topics.quality('l', 's'), 1, false],
    ]);
    expect(sent.map((m) => DataQualityEventSchema.parse(JSON.parse(m.payload)))).toEqual([event, { ...event, ts: 9, state: 'cleared' }]);
    expect(metrics.stats.anomalies).toBe(0);
  });
});
