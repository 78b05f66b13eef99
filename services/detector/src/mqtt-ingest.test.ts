import { redactUrl } from '@linewatch/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadDetectorConfig } from './config.js';
import { DeadLetterer } from './dead-letter.js';
import { EventBus } from './event-bus.js';
import { DetectorMetrics } from './metrics.js';
import { MqttIngest, stableHash } from './mqtt-ingest.js';

describe('stableHash', () => {
  it('is the FNV-1a 32-bit hash (stable across processes)', () => {
    expect(stableHash('')).toBe(0x811c9dc5);
    expect(stableHash('a')).toBe(0xe40c292c);
    expect(stableHash('foobar')).toBe(0xbf9cf968);
  });

  it('spreads stations over partitions', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 300; i++) counts[stableHash(`fab1/tool-${i}`) % 3]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(60);
  });
});

describe('redactUrl', () => {
  it('hides credentials in a broker URL', () => {
    expect(redactUrl('mqtt://user:secret@broker:1883')).not.toContain('secret');
    expect(redactUrl('mqtt://user:secret@broker:1883')).not.toContain('user');
    expect(redactUrl('mqtt://broker:1883')).toBe('mqtt://broker:1883');
  });
});

describe('MqttIngest dispatch', () => {
  it('dead-letters a message whose handler throws, once, and keeps the counts balanced', () => {
    const logger = pino({ level: 'silent' });
    const metrics = new DetectorMetrics();
    const published: { topic: string; payload: string }[] = [];
    // The fault: a config read that throws mid-dispatch, standing in for any bug in a handler.
    const config = Object.defineProperty({ ...loadDetectorConfig({}) }, 'maxPayloadBytes', {
      get: () => {
        throw new Error('boom');
      },
    });
    const ingest = new MqttIngest({
      config,
      bus: new EventBus(logger, metrics),
      deadLetters: new DeadLetterer({ logger, metrics, publish: (topic, payload) => published.push({ topic, payload }), service: 'detector' }),
      metrics,
      logger,
      backpressure: () => false,
      waitForRoom: async () => undefined,
      durable: async () => undefined,
    });
    const acked: (Error | undefined)[] = [];
    type Packet = { topic: string; payload: Buffer; qos: number };
    const onPublish = (ingest as unknown as { onPublish: (p: Packet, done: (err?: Error) => void) => void }).onPublish.bind(ingest);
    onPublish({ topic: 'linewatch/v1/fab1/etch-01/telemetry', payload: Buffer.from('{"ts":1,"seq":0,"values":{"a":1}}'), qos: 0 }, (err) => acked.push(err));
    expect(acked).toEqual([undefined]);
    expect(metrics.stats).toMatchObject({ received: 1, valid: 0, deadLettered: 1, handlerErrors: 1 });
    expect(published).toHaveLength(1);
    expect(JSON.parse(published[0]!.payload)).toMatchObject({ topic: 'linewatch/v1/fab1/etch-01/telemetry', reason: 'handler error: boom' });
  });
});

describe('MqttIngest station cap', () => {
  it('dead-letters telemetry, and apart from it meta and state, of stations past MAX_STATIONS, and keeps serving the ones it has', () => {
    const logger = pino({ level: 'silent' });
    const metrics = new DetectorMetrics();
    const bus = new EventBus(logger, metrics);
    const seen: string[] = [];
    bus.on('telemetry', ({ station }) => {
      seen.push(station);
    });
    bus.on('state', ({ station }) => {
      seen.push(`state:${station}`);
    });
    const published: string[] = [];
    const ingest = new MqttIngest({
      config: loadDetectorConfig({ MAX_STATIONS: '2', MAX_RATE_PER_STATION: '0' }),
      bus, metrics, logger,
      deadLetters: new DeadLetterer({ logger, metrics, publish: (_topic, payload) => published.push(payload), service: 'detector' }),
      backpressure: () => false,
      waitForRoom: async () => undefined,
      durable: async () => undefined,
    });
    type Packet = { topic: string; payload: Buffer; qos: number };
    const onPublish = (ingest as unknown as { onPublish: (p: Packet, done: (err?: Error) => void) => void }).onPublish.bind(ingest);
    const telemetry = (station: string, seq: number) =>
      onPublish({ topic: `linewatch/v1/fab1/${station}/telemetry`, payload: Buffer.from(JSON.stringify({ ts: Date.now(), seq, values: { a: 1 } })), qos: 0 }, () => undefined);
    const state = (station: string) =>
      onPublish({ topic: `linewatch/v1/fab1/${station}/state`, payload: Buffer.from(JSON.stringify({ state: 'PRODUCTIVE', since: Date.now() })), qos: 0 }, () => undefined);
    telemetry('etch-01', 0);
    telemetry('etch-02', 0);
    telemetry('made-up-1', 0);
    // Meta and state count apart (every instance gets the whole line's): two more fit, a third does not.
    state('etch-01');
    state('made-up-2');
    state('made-up-3');
    telemetry('etch-01', 1);
    expect(seen).toEqual(['etch-01', 'etch-02', 'state:etch-01', 'state:made-up-2', 'etch-01']);
    expect(published.map((p) => (JSON.parse(p) as { reason: string }).reason)).toEqual([
      'too many stations: this detector already tracks 2 (MAX_STATIONS)',
      'too many stations: this detector already tracks 2 (MAX_STATIONS)',
    ]);
    expect(metrics.stats).toMatchObject({ received: 7, valid: 5, deadLettered: 2 });
  });
});
