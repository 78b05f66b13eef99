import { InfluxDB } from 'influx';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { WaferVerdict } from '@linewatch/protocol';
import { TEST_INFLUX_URL, requireServices } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { continuousQueries } from './influx-query.js';
import { InfluxStore, type InfluxStoreConfig } from './influx-store.js';
import { storeContract } from './store.contract.js';

const ok = await requireServices('influxdb');
const logger = pino({ level: 'silent' });
const runId = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
const databases: string[] = [];
const admin = new InfluxDB({ host: new URL(TEST_INFLUX_URL).hostname, port: Number(new URL(TEST_INFLUX_URL).port) });

function config(suffix: string): InfluxStoreConfig {
  const database = `lwtest_${runId}_${suffix}`;
  databases.push(database);
  return { url: TEST_INFLUX_URL, database, rawRetention: '30d', rollupRetention: '400d' };
}

afterAll(async () => {
  if (!ok) return;
  for (const db of databases) await admin.dropDatabase(db);
});

describe.skipIf(!ok)('InfluxStore against InfluxDB 1.x', () => {
  storeContract('influx', async () => new InfluxStore(config('contract'), logger));

  it('init creates the retention policies and continuous queries once, and re-applies a changed duration', async () => {
    const cfg = config('init');
    await new InfluxStore(cfg, logger).init();
    // An outdated version of one of ours is replaced; a foreign CQ is left alone.
    const body = `SELECT mean(*) INTO "${cfg.database}"."rollup"."old" FROM "${cfg.database}"."raw"."reading" GROUP BY time(5m), *`;
    await admin.createContinuousQuery(`lw_reading_1m_v0_${cfg.database}`, body, cfg.database);
    await admin.createContinuousQuery('theirs', body, cfg.database);
    await new InfluxStore(cfg, logger).init();
    const rps = await admin.showRetentionPolicies(cfg.database);
    expect(rps.find((rp) => rp.name === 'raw')).toMatchObject({ duration: '720h0m0s', default: true });
    expect(rps.find((rp) => rp.name === 'rollup')).toMatchObject({ duration: '9600h0m0s', default: false });
    // Not admin.showContinousQueries: it returns the first database's series, not necessarily this one's.
    const shown = (await admin.queryRaw('SHOW CONTINUOUS QUERIES', { database: cfg.database })) as { results: { series: { name: string; values?: string[][] }[] }[] };
    const cqs = (shown.results[0]?.series.find((x) => x.name === cfg.database)?.values ?? []).map((row) => row[0]).sort();
    expect(cqs).toEqual([`lw_reading_1m_v1_${cfg.database}`, `lw_score_1m_v1_${cfg.database}`, 'theirs']);
    await new InfluxStore({ ...cfg, rawRetention: '7d' }, logger).init();
    const raw = (await admin.showRetentionPolicies(cfg.database)).find((rp) => rp.name === 'raw');
    expect(raw).toMatchObject({ duration: '168h0m0s', default: true });
  });

  it('reads old ranges from the 1-minute rollups the continuous queries write', async () => {
    const cfg = config('rollup');
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
    const writer = new InfluxStore(cfg, logger);
    await writer.init();
    const readings = Array.from({ length: 12 }, (_, i) => ({
      line: 'fab1',
      station: 'etch-01',
      ts: t0 + i * 10_000,
      seq: i,
      values: { rf_power: 100 + i, seq: 2 * i },
      context: { recipe: i < 2 ? 'A' : 'B' },
    }));
    const scores = readings.map((r, i) => ({
      line: 'fab1', station: 'etch-01', ts: r.ts, seq: i, score: i / 10, threshold: 1, t2: i, spe: 1,
      anomalous: false, health: 'OK' as const, modelVersion: 'etch@1',
    }));
    await writer.write({ readings, scores, anomalies: [] });
    // Run each CQ's own query for this window now instead of waiting for the scheduler's next minute boundary.
    for (const cq of continuousQueries(cfg.database)) {
      const bounded = cq.query.replace(' GROUP BY', ` WHERE time >= ${t0}ms AND time < ${t0 + 120_000}ms GROUP BY`);
      await admin.query(bounded, { database: cfg.database });
    }
    // A clock 31 days ahead puts the range beyond the 30d raw policy, so a 1-minute bucket must come from `rollup`.
    const later = new InfluxStore(cfg, logger, () => Date.now() + 31 * 86_400_000);
    const q = { line: 'fab1', station: 'etch-01', from: t0, to: t0 + 120_000, bucketMs: 60_000 };
    const rows = await later.readings(q);
    // Minute one holds recipe A (2 points) and B (4 points): the rollup averages the two per-recipe means (102),
    // where the raw mean is 102.5; that difference proves which policy answered.
    expect(rows.map((r) => r.ts)).toEqual([t0, t0 + 60_000]);
    expect(rows[0]?.values.rf_power).toBeCloseTo((100.5 + 103.5) / 2, 9);
    expect(rows[1]?.values).toEqual({ rf_power: 108.5, seq: 17 });
    expect(rows[1]?.seq).toBe(11);
    const scoreRows = await later.scores(q);
    expect(scoreRows.map((s) => s.score)).toEqual([0.5, 1.1]);
    expect(scoreRows[1]).toMatchObject({ anomalous: true, modelVersion: 'etch@1', health: 'OK', t2: 11 });
    // The current clock aggregates raw points exactly.
    const exact = await writer.readings(q);
    expect(exact[0]?.values.rf_power).toBeCloseTo(102.5, 9);
  });

  it('the scheduled continuous query writes the rollups by itself', { timeout: 80_000 }, async () => {
    const cfg = config('scheduled');
    const store = new InfluxStore(cfg, logger);
    await store.init();
    // The previous, completed minute: the CQ scheduler covers it on its next run (RESAMPLE FOR 10m).
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const readings = Array.from({ length: 6 }, (_, i) => ({ line: 'fab1', station: 'etch-01', ts: t0 + i * 10_000, seq: i, values: { rf_power: i } }));
    await store.write({ readings, scores: [], anomalies: [] });
    const rows = await until('the scheduled rollup', async () => {
      const found = [...(await admin.query<Record<string, unknown>>('SELECT * FROM "rollup"."reading"', { database: cfg.database }))];
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 75_000, intervalMs: 500 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ mean_rf_power: 2.5, last_seq: 5, line: 'fab1', station: 'etch-01', replay: 'false' });
  });

  it('refuses points older than the raw retention instead of failing the batch forever, and reports them', async () => {
    const cfg = config('old');
    const store = new InfluxStore(cfg, logger);
    await store.init();
    const now = Date.now();
    const at = (ts: number) => ({ line: 'fab1', station: 'etch-01', ts, seq: 1, values: { x: 1 } });
    const verdict = (end: number): WaferVerdict => ({
      id: `fab1/etch-01/W1/main_etch/${end - 1}`, line: 'fab1', station: 'etch-01', wafer: 'W1', step: 'main_etch', start: end - 1, end,
      samples: 2, verdict: 'ok', score: 0.1, threshold: 1, t2: 1, spe: 1, modelVersion: 'w@1', baseline: 'b1', contributors: [],
    });
    const result = await store.write({ readings: [at(now - 40 * 86_400_000), at(now)], scores: [], anomalies: [], wafers: [verdict(now - 40 * 86_400_000), verdict(now)] });
    expect(result).toEqual({ rejected: { readings: 1, scores: 0, anomalies: 0, wafers: 1, reason: 'older than the raw retention policy' } });
    expect(await store.countReadings({ from: 0, to: now + 1 })).toBe(1);
    expect((await store.waferVerdicts({ line: 'fab1' })).map((v) => v.end)).toEqual([now]);
    expect(await store.write({ readings: [at(now + 1)], scores: [], anomalies: [] })).toBeUndefined();
  });

  it('keeps state changes in the rollup policy, and refuses (and reports) only those older than it', async () => {
    const cfg = config('states');
    const store = new InfluxStore(cfg, logger);
    await store.init();
    const now = Date.now();
    const reading = { line: 'fab1', station: 'etch-01', ts: now, seq: 1, values: { x: 1 } };
    const change = (ts: number) => ({ line: 'fab1', station: 'etch-01', ts, state: 'PRODUCTIVE' as const, replay: true });
    // 40 days back is beyond the raw policy (30d) but within the rollup one (400d); 500 days is beyond both.
    const states = [change(now - 500 * 86_400_000), change(now - 40 * 86_400_000), change(now - 1_000)];
    expect(await store.write({ readings: [reading], scores: [], anomalies: [], states })).toEqual({
      rejected: { readings: 0, scores: 0, anomalies: 0, wafers: 0, states: 1, reason: 'older than the rollup retention policy' },
    });
    expect(await store.countReadings({ from: 0, to: now + 1 })).toBe(1);
    const stored = [...(await admin.query<Record<string, unknown>>('SELECT * FROM "rollup"."equipment_state"', { database: cfg.database }))];
    expect(stored.map((r) => [r.state, r.reason, r.replay])).toEqual([['PRODUCTIVE', '', 'true'], ['PRODUCTIVE', '', 'true']]);
    expect([...(await admin.query('SELECT * FROM "raw"."equipment_state"', { database: cfg.database }))]).toEqual([]);
    expect(await store.equipmentStates({ line: 'fab1', station: 'etch-01', from: now - 10_000, to: now + 1 })).toEqual([
      { ts: now - 40 * 86_400_000, state: 'PRODUCTIVE' },
      { ts: now - 1_000, state: 'PRODUCTIVE' },
    ]);
  });

  it('throws on a failed write so the caller can retry', async () => {
    const store = new InfluxStore({ ...config('missing'), url: 'http://127.0.0.1:9' }, logger);
    const reading = { line: 'fab1', station: 'etch-01', ts: Date.now(), seq: 1, values: { x: 1 } };
    await expect(store.write({ readings: [reading], scores: [], anomalies: [] })).rejects.toThrow('influx write of 1 points failed');
    expect(await store.ping()).toBe(false);
  });
});
