import { describe, expect, it } from 'vitest';
import { anomalyToPoint, readingToPoint, rowToAnomaly, rowToReading, scoreToPoint, sensorFromColumn, type InfluxRow } from './influx-schema.js';
import type { ReadingPoint } from './types.js';

const reading: ReadingPoint = {
  line: 'fab1',
  station: 'etch-01',
  ts: 1_800_000_000_123,
  seq: 42,
  values: { rf_power: 1500.5, seq: 7, time: 3 },
  context: { recipe: 'ETCH-AL-01', step: 'main\netch', lot: 'L0001', wafer: 'L0001-03' },
};

describe('Influx schema', () => {
  it('puts bounded context in tags and unbounded ids in fields, at the reading ts', () => {
    const point = readingToPoint(reading);
    expect(point.tags).toEqual({ line: 'fab1', station: 'etch-01', recipe: 'ETCH-AL-01', step: 'main etch', replay: 'false' });
    expect(point.fields).toEqual({ rf_power: 1500.5, 's.seq': 7, 's.time': 3, seq: 42, lot: 'L0001', wafer: 'L0001-03' });
    expect(point.timestamp).toBe(reading.ts);
  });

  it('derives the tag set from the reading alone, so a redelivery hits the same series', () => {
    expect(readingToPoint(structuredClone(reading))).toEqual(readingToPoint(reading));
    expect(readingToPoint({ ...reading, replay: true }).tags?.replay).toBe('true');
  });

  it('keeps state-dependent score fields out of the tags', () => {
    const point = scoreToPoint({ line: 'fab1', station: 'etch-01', ts: 1, seq: 1, score: 2, threshold: 1, t2: 3, spe: 4, anomalous: true, health: 'ALARM', modelVersion: 'etch@1' });
    expect(Object.keys(point.tags ?? {}).sort()).toEqual(['line', 'model', 'replay', 'station']);
    expect(point.fields).toMatchObject({ health: 'ALARM', anomalous: true });
  });

  it('maps columns back to sensors, unescaping reserved names and skipping meta columns', () => {
    expect(sensorFromColumn('s.seq')).toBe('seq');
    expect(sensorFromColumn('seq')).toBeNull();
    expect(sensorFromColumn('mean_mean_rf_power', 'mean_mean_')).toBe('rf_power');
    expect(sensorFromColumn('last_seq', 'mean_')).toBeNull();
    const row = { time: new Date(reading.ts), rf_power: 1500.5, 's.seq': 7, 's.time': 3, seq: 42, line: 'fab1', station: 'etch-01', recipe: 'R', step: null, lot: 'L', wafer: null, replay: 'false' };
    expect(rowToReading(row as unknown as InfluxRow)).toEqual({ ts: reading.ts, seq: 42, values: { rf_power: 1500.5, seq: 7, time: 3 }, context: { recipe: 'R', lot: 'L' } });
  });

  it('round-trips an anomaly through its point', () => {
    const anomaly = {
      id: 'fab1/etch-01/1', line: 'fab1', station: 'etch-01', ts: 1_800_000_000_000, seq: 7, score: 3.2, threshold: 1, t2: 40.1,
      t2Limit: 30, spe: 2.2, modelVersion: 'etch@1', severity: 'critical' as const, replay: true,
      contributors: [{ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 }], context: { lot: 'L1' },
    };
    const point = anomalyToPoint(anomaly);
    const row = { time: new Date(anomaly.ts), ...point.tags, ...point.fields } as unknown as InfluxRow;
    expect(rowToAnomaly(row)).toEqual(anomaly);
  });
});
