import { describe, expect, it } from 'vitest';
import { AnomalySchema, StationMetaSchema, TelemetrySchema, TelemetrySchema as T } from './schemas.js';
import { decodePayload } from './decode.js';
import { parseTopic, topics } from './topics.js';

const good = { ts: 1764400000000, seq: 3, values: { rf_power: 1500.5, chamber_pressure: 35 }, context: { recipe: 'R1', step: 'main_etch' } };
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('TelemetrySchema', () => {
  it('accepts a well-formed snapshot', () => {
    expect(TelemetrySchema.parse(good)).toEqual(good);
  });

  it.each([
    ['missing ts', { seq: 1, values: { a: 1 } }],
    ['negative seq', { ...good, seq: -1 }],
    ['fractional ts', { ...good, ts: 1.5 }],
    ['string value', { ...good, values: { a: '1' } }],
    ['empty values', { ...good, values: {} }],
    ['bad sensor name', { ...good, values: { 'a b': 1 } }],
    ['unknown key', { ...good, extra: true }],
    ['unknown context key', { ...good, context: { tool: 'x' } }],
  ])('rejects %s', (_name, value) => {
    expect(T.safeParse(value).success).toBe(false);
  });
});

describe('decodePayload', () => {
  it('decodes a valid payload', () => {
    const r = decodePayload(enc(good), TelemetrySchema, 1024);
    expect(r).toEqual({ ok: true, value: good });
  });

  it('names the reason for each kind of bad payload', () => {
    const reason = (bytes: Uint8Array, max = 1 << 20) => {
      const r = decodePayload(bytes, TelemetrySchema, max);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(enc('{"ts": 1, '))).toMatch(/^invalid JSON/);
    expect(reason(enc('NaN'))).toMatch(/^invalid JSON/);
    expect(reason(new Uint8Array([0xff, 0xfe, 0x7b]))).toBe('payload is not valid UTF-8');
    expect(reason(enc(good), 10)).toMatch(/^payload too large/);
    expect(reason(enc({ ...good, values: { a: 'NaN' } }))).toMatch(/^schema: values\.a/);
    expect(reason(enc({ values: { a: 1 } }))).toMatch(/ts/);
  });
});

describe('topics', () => {
  it('builds and parses versioned station topics', () => {
    const t = topics.telemetry('fab1', 'etch-01');
    expect(t).toBe('linewatch/v1/fab1/etch-01/telemetry');
    expect(parseTopic(t)).toEqual({ line: 'fab1', station: 'etch-01', kind: 'telemetry' });
    expect(topics.shared('g', topics.all('telemetry'))).toBe('$share/g/linewatch/v1/+/+/telemetry');
  });

  it.each(['linewatch/v2/fab1/etch/telemetry', 'linewatch/v1/fab1/etch/unknown', 'linewatch/v1/fab1/et ch/telemetry', 'linewatch/v1/fab1/telemetry', "linewatch/v1/fab1/x';drop/telemetry"])(
    'rejects %s',
    (t) => {
      expect(parseTopic(t)).toBeUndefined();
    },
  );
});

describe('event schemas', () => {
  it('accepts an anomaly with contributors and rejects a bad station id', () => {
    const anomaly = {
      id: 'fab1/etch-01/1', line: 'fab1', station: 'etch-01', ts: 1, seq: 1, score: 3, threshold: 1, t2: 10, spe: 2,
      modelVersion: 'etch@1', severity: 'critical', contributors: [{ sensor: 'rf_power', value: 2, expected: 1, contribution: 0.8 }],
    } as const;
    expect(AnomalySchema.safeParse(anomaly).success).toBe(true);
    expect(AnomalySchema.safeParse({ ...anomaly, station: '../x' }).success).toBe(false);
    expect(StationMetaSchema.safeParse({ line: 'fab1', station: 's', type: 't', name: 'n', order: 0, sensors: [] }).success).toBe(false);
  });
});
