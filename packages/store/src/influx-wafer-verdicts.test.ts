import { describe, expect, it } from 'vitest';
import type { WaferVerdict } from '@linewatch/protocol';
import { byNewestStep, rowToWaferVerdict, waferVerdictToPoint, waferVerdictsQuery } from './influx-wafer-verdicts.js';

const verdict: WaferVerdict = {
  id: 'fab1/etch-01/L0001-03/main_etch/1800000000000',
  line: 'fab1',
  station: 'etch-01',
  wafer: 'L0001-03',
  lot: 'L0001',
  recipe: 'ETCH-AL-01',
  step: 'main_etch',
  start: 1_800_000_000_000,
  end: 1_800_000_060_000,
  samples: 60,
  verdict: 'fault',
  score: 2.5,
  threshold: 1,
  t2: 40,
  spe: null,
  modelVersion: 'wafer-etch@1',
  baseline: 'b3',
  contributors: [{ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.8, stat: 'slope' }],
};

describe('wafer verdicts in InfluxDB', () => {
  it('tags only bounded sets; wafer and lot ids, which grow without limit, are fields', () => {
    const point = waferVerdictToPoint(verdict);
    expect(point.measurement).toBe('wafer_verdict');
    expect(point.tags).toEqual({ line: 'fab1', station: 'etch-01', recipe: 'ETCH-AL-01', step: 'main_etch', verdict: 'fault', replay: 'false' });
    expect(point.fields).toMatchObject({ id: verdict.id, wafer: 'L0001-03', lot: 'L0001', start: verdict.start, samples: 60, model_version: 'wafer-etch@1', baseline: 'b3' });
    // Line protocol has no null: a missing SPE is a missing field.
    expect(point.fields).not.toHaveProperty('spe');
    expect(point.timestamp).toBe(verdict.end);
  });

  it('reads a row back to the verdict it was written from', () => {
    const point = waferVerdictToPoint(verdict);
    const row = { ...point.tags, ...point.fields, time: new Date(verdict.end) };
    expect(rowToWaferVerdict(row)).toEqual(verdict);
    const replayed = waferVerdictToPoint({ ...verdict, replay: true });
    expect(rowToWaferVerdict({ ...replayed.tags, ...replayed.fields, time: new Date(verdict.end) }).replay).toBe(true);
  });

  it('queries newest first within the time range of the step ends, with a checked limit', () => {
    expect(waferVerdictsQuery('db', { line: 'fab1', station: 'etch-01', from: 1, to: 2, limit: 5 })).toBe(
      `SELECT * FROM "db"."raw"."wafer_verdict" WHERE "line" = 'fab1' AND "station" = 'etch-01' AND time >= 1ms AND time < 2ms ORDER BY time DESC LIMIT 5`,
    );
    expect(waferVerdictsQuery('db', {})).toContain('LIMIT 100');
    expect(() => waferVerdictsQuery('db', { station: "x' OR '1'='1" })).toThrow('invalid station id');
    expect(() => waferVerdictsQuery('db', { limit: 0 })).toThrow('limit');
  });

  it('orders by the end of the step, then by id', () => {
    const a = { ...verdict, id: 'a', end: 2 };
    const b = { ...verdict, id: 'b', end: 2 };
    const c = { ...verdict, id: 'c', end: 3 };
    expect([b, a, c].sort(byNewestStep).map((v) => v.id)).toEqual(['c', 'a', 'b']);
  });
});
