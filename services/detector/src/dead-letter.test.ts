import { DeadLetterSchema, decodePayload, TelemetrySchema, topics } from '@linewatch/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildDeadLetter, classifyReason, DeadLetterer, FUTURE_TS_REASON, RATE_LIMITED_REASON } from './dead-letter.js';
import { DetectorMetrics } from './metrics.js';

const enc = (s: string) => new TextEncoder().encode(s);
const MAX = 65_536;
const reasonOf = (payload: Uint8Array) => {
  const r = decodePayload(payload, TelemetrySchema, MAX);
  if (r.ok) throw new Error('expected a decode failure');
  return r.reason;
};

describe('telemetry decoding and reason classes', () => {
  const cases: [string, Uint8Array, string][] = [
    ['non-JSON', enc('hello {'), 'invalid_json'],
    ['wrong types', enc(JSON.stringify({ ts: 'yesterday', seq: 1, values: { a: 1 } })), 'schema'],
    ["a string 'NaN' value", enc(JSON.stringify({ ts: 1, seq: 1, values: { a: 'NaN' } })), 'schema'],
    ['missing fields', enc(JSON.stringify({ values: { a: 1 } })), 'schema'],
    ['empty values', enc(JSON.stringify({ ts: 1, seq: 1, values: {} })), 'schema'],
    ['unknown keys', enc(JSON.stringify({ ts: 1, seq: 1, values: { a: 1 }, extra: true })), 'schema'],
    ['non-UTF-8 bytes', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'not_utf8'],
    ['a 1 MB payload', new Uint8Array(1024 * 1024).fill(0x20), 'too_large'],
  ];
  it.each(cases)('dead-letters %s with class %s', (_name, payload, reasonClass) => {
    expect(classifyReason(reasonOf(payload))).toBe(reasonClass);
  });

  it('accepts a good snapshot', () => {
    expect(decodePayload(enc(JSON.stringify({ ts: 1, seq: 1, values: { a: 1.5 } })), TelemetrySchema, MAX).ok).toBe(true);
  });

  it('classifies topic and meta mismatch reasons', () => {
    expect(classifyReason('topic is not a linewatch station topic')).toBe('bad_topic');
    expect(classifyReason('meta ids a/b do not match the topic')).toBe('topic_mismatch');
    expect(classifyReason(`${RATE_LIMITED_REASON}: over 200 snapshots/s`)).toBe('rate_limited');
    expect(classifyReason(`${FUTURE_TS_REASON}: ts 1`)).toBe('bad_timestamp');
  });
});

describe('buildDeadLetter', () => {
  it('keeps short UTF-8 payloads whole', () => {
    const dl = buildDeadLetter('t', enc('héllo'), 'invalid JSON: x', 5, 'detector');
    expect(DeadLetterSchema.parse(dl)).toEqual({
      topic: 't', reason: 'invalid JSON: x', payload: 'héllo', encoding: 'utf8', bytes: 6, truncated: false, receivedAt: 5, service: 'detector',
    });
  });

  it('base64-encodes payloads that are not UTF-8', () => {
    const bytes = new Uint8Array([0xff, 0x00, 0xfe]);
    const dl = buildDeadLetter('t', bytes, 'payload is not valid UTF-8', 5, 'detector');
    expect(dl).toMatchObject({ encoding: 'base64', payload: Buffer.from(bytes).toString('base64'), bytes: 3, truncated: false });
  });

  it('cuts a 1 MB payload to 2048 chars and says so', () => {
    const dl = buildDeadLetter('t', new Uint8Array(1024 * 1024).fill(0x61), 'payload too large', 5, 'detector');
    expect(dl).toMatchObject({ encoding: 'utf8', bytes: 1024 * 1024, truncated: true });
    expect(dl.payload).toHaveLength(2048);
  });

  it('does not mistake a multi-byte character cut at the window edge for bad UTF-8', () => {
    const dl = buildDeadLetter('t', enc('é'.repeat(10_000)), 'payload too large', 5, 'detector');
    expect(dl.encoding).toBe('utf8');
    expect(dl.payload).toBe('é'.repeat(2048));
  });

  it('cuts large non-UTF-8 payloads to 2048 base64 chars', () => {
    const dl = buildDeadLetter('t', new Uint8Array(100_000).fill(0xff), 'payload is not valid UTF-8', 5, 'detector');
    expect(dl).toMatchObject({ encoding: 'base64', truncated: true });
    expect(dl.payload.length).toBeLessThanOrEqual(2048);
  });
});

describe('DeadLetterer', () => {
  it('counts by reason class, publishes a valid dead letter, and rate-limits the warning', async () => {
    const metrics = new DetectorMetrics();
    const published: { topic: string; payload: string }[] = [];
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const dl = new DeadLetterer({ logger, metrics, publish: (topic, payload) => published.push({ topic, payload }), service: 'detector', now: () => 1000 });
    for (let i = 0; i < 3; i++) dl.deadLetter('linewatch/v1/l/s/telemetry', enc('nope'), 'invalid JSON: Unexpected token');
    dl.deadLetter('linewatch/v1/l/s/telemetry', new Uint8Array([0xff]), 'payload is not valid UTF-8');
    expect(metrics.stats.deadLettered).toBe(4);
    expect(published).toHaveLength(4);
    expect(published.every((p) => p.topic === topics.deadLetter)).toBe(true);
    expect(DeadLetterSchema.parse(JSON.parse(published[0]!.payload))).toMatchObject({ reason: 'invalid JSON: Unexpected token', payload: 'nope' });
    const text = await metrics.registry.getSingleMetricAsString('linewatch_dead_letters_total');
    expect(text).toContain('linewatch_dead_letters_total{reason="invalid_json"} 3');
    expect(text).toContain('linewatch_dead_letters_total{reason="not_utf8"} 1');
    expect(lines).toHaveLength(2);
  });

  it('survives a publish that throws', () => {
    const metrics = new DetectorMetrics();
    const dl = new DeadLetterer({
      logger: pino({ level: 'silent' }), metrics, service: 'detector',
      publish: () => {
        throw new Error('broker gone');
      },
    });
    expect(() => dl.deadLetter('x', enc('y'), 'invalid JSON')).not.toThrow();
    expect(metrics.stats.deadLettered).toBe(1);
  });

  it('republishes at most the burst plus the steady rate, and counts the rest', () => {
    const metrics = new DetectorMetrics();
    let now = 0;
    const published: string[] = [];
    const dl = new DeadLetterer({
      logger: pino({ level: 'silent' }), metrics, service: 'detector', now: () => now, publishPerS: 10, publishBurst: 5,
      publish: (_topic, payload) => published.push(payload),
    });
    for (let i = 0; i < 100; i++) dl.deadLetter('x', enc('y'), 'invalid JSON');
    expect(published).toHaveLength(5);
    now += 1000;
    for (let i = 0; i < 100; i++) dl.deadLetter('x', enc('y'), `${RATE_LIMITED_REASON}: over 1 snapshots/s`);
    expect(published).toHaveLength(10);
    expect(metrics.stats.deadLettered).toBe(200);
    expect(metrics.stats.deadLettersUnpublished).toBe(190);
  });
});
