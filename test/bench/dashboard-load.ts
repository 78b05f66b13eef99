import type { ProcessContext } from '@linewatch/protocol';
import { StateMessageSchema, StationMetaSchema, TelemetrySchema, topics } from '@linewatch/protocol';
import pino from 'pino';
import type { ReadingPoint, ScorePoint } from '@linewatch/store';
import { fitAndWrite } from '../../services/detector/src/backtest/training.js';
import { sensorNames, syntheticRows } from './synthetic.js';

/**
 * The synthetic line of `bench:dashboard`: `stations` stations of one type (`synth`) with `sensors` correlated
 * sensors each, and one PCA model for that type, so the real detector scores every snapshot. The rows are
 * bench:backtest's (synthetic.ts), widened to any sensor count.
 */
export interface LoadShape {
  stations: number;
  sensors: number;
  /** Snapshots per second per station. */
  hz: number;
}

export const STATION_TYPE = 'synth';
/** Distinct snapshots each publisher cycles through; a station starts at its own offset, so neighbours differ. */
const POOL_ROWS = 3_000;

export { sensorNames };
export const stationIds = (stations: number): string[] => Array.from({ length: stations }, (_, i) => `synth-${String(i + 1).padStart(3, '0')}`);

/** Trains the one model of the synthetic type into `modelsDir` (about a second for 20 sensors). */
export async function writeSyntheticModel(modelsDir: string, sensors: number): Promise<void> {
  const rows = syntheticRows(Math.max(2_000, sensors * 100), sensors, 3);
  const contexts: (ProcessContext | undefined)[] = rows.map(() => undefined);
  const fitted = await fitAndWrite(modelsDir, [
    { name: STATION_TYPE, features: sensorNames(sensors), rows, contexts, ts: [Date.now()], excluded: { faulty: 0, incomplete: 0 } },
  ]);
  if ((fitted[0]?.files.length ?? 0) === 0) throw new Error(`no model was fitted for ${sensors} sensors`);
}

/** Retained meta and state of every station: the detector models a station from its meta, the page lists it. */
export function stationMessages(line: string, shape: LoadShape, now: number): { topic: string; payload: string }[] {
  const sensors = sensorNames(shape.sensors).map((name, j) => ({ name, unit: 'a.u.', min: 0, max: 200 + j * 10 }));
  return stationIds(shape.stations).flatMap((station, order) => [
    {
      topic: topics.meta(line, station),
      payload: JSON.stringify(StationMetaSchema.parse({ line, station, type: STATION_TYPE, name: `Synthetic ${order + 1}`, order, sensors })),
    },
    { topic: topics.state(line, station), payload: JSON.stringify(StateMessageSchema.parse({ state: 'PRODUCTIVE', since: now - 3_600_000 })) },
  ]);
}

/**
 * Snapshot bodies without ts and seq, each starting with `,` so the publisher only prepends `{"ts":…,"seq":…`
 * (as snapshots.ts does). Validated once with their final shape.
 */
export function telemetryPool(sensors: number): string[] {
  const names = sensorNames(sensors);
  return syntheticRows(POOL_ROWS, sensors, 11).map((row) => {
    const values = Object.fromEntries(names.map((name, j) => [name, Math.round((row[j] as number) * 1000) / 1000]));
    const { ts: _ts, seq: _seq, ...rest } = TelemetrySchema.parse({ ts: 1, seq: 0, values });
    return `,${JSON.stringify(rest).slice(1)}`;
  });
}

/** Topics whose retained messages a run leaves behind (ours and the detector's), cleared when it ends. */
export function retainedTopics(line: string, stations: number): string[] {
  return stationIds(stations).flatMap((station) => (['meta', 'state', 'status'] as const).map((kind) => topics[kind](line, station)));
}

/**
 * What the line stored before the page opened: `spanMs` of every station's readings and scores (score well under
 * its limit), written into the store the detector then goes on writing. The page opens on a line that has been
 * running, with its live charts and sparklines already full, so the run measures the steady state, not the minutes
 * in which the windows fill up.
 */
export async function prefillHistory(sqlitePath: string, line: string, shape: LoadShape, now: number, spanMs: number): Promise<number> {
  const { SqliteStore } = await import('@linewatch/store');
  const store = new SqliteStore({ path: sqlitePath }, pino({ level: 'silent' }));
  await store.init();
  const names = sensorNames(shape.sensors);
  const rows = syntheticRows(POOL_ROWS, shape.sensors, 11);
  const step = 1_000 / shape.hz;
  let written = 0;
  try {
    for (const [i, station] of stationIds(shape.stations).entries()) {
      const readings: ReadingPoint[] = [];
      const scores: ScorePoint[] = [];
      for (let k = 0, ts = now - spanMs; ts < now; k++, ts += step) {
        const row = rows[(k + i * 97) % rows.length] as number[];
        readings.push({ line, station, ts: Math.round(ts), seq: k, values: Object.fromEntries(names.map((n, j) => [n, row[j] as number])) });
        scores.push({ line, station, ts: Math.round(ts), seq: k, score: 0.3 + 0.2 * Math.abs(Math.sin(k / 50)), threshold: 1, t2: null, spe: null, anomalous: false, health: 'OK', modelVersion: 'prefill' });
      }
      await store.write({ readings, scores, anomalies: [] });
      written += readings.length;
    }
  } finally {
    await store.close();
  }
  return written;
}
