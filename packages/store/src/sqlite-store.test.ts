import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';
import { storeContract } from './store.contract.js';

const logger = pino({ level: 'silent' });

storeContract('sqlite :memory:', async () => new SqliteStore({ path: ':memory:' }, logger));

describe('SqliteStore', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('uses WAL on a file and keeps data across reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lw-store-'));
    dirs.push(dir);
    const path = join(dir, 'linewatch.db');
    const reading = { line: 'fab1', station: 'etch-01', ts: Date.now(), seq: 1, values: { rf_power: 1500 } };
    const first = new SqliteStore({ path }, logger);
    await first.init();
    await first.write({ readings: [reading], scores: [], anomalies: [] });
    await first.close();
    const probe = new Database(path, { readonly: true });
    expect(probe.pragma('journal_mode', { simple: true })).toBe('wal');
    probe.close();
    const second = new SqliteStore({ path }, logger);
    await second.init();
    expect(await second.countReadings({ from: 0, to: Date.now() + 1 })).toBe(1);
    await second.close();
  });

  it('migrates a score table made when T² and SPE were NOT NULL, keeping its rows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lw-store-'));
    dirs.push(dir);
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE score (line TEXT NOT NULL, station TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL,
      score REAL NOT NULL, threshold REAL NOT NULL, t2 REAL NOT NULL, spe REAL NOT NULL, anomalous INTEGER NOT NULL,
      health TEXT NOT NULL, model_version TEXT NOT NULL, replay INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (line, station, ts)) WITHOUT ROWID`);
    const ts = Date.now();
    old.prepare(`INSERT INTO score VALUES ('fab1', 'etch-01', ?, 1, 0.5, 1, 3, 0.2, 0, 'OK', 'etch@1', 0)`).run(ts);
    old.close();
    const store = new SqliteStore({ path }, logger);
    await store.init();
    const base = { line: 'fab1', station: 'etch-01', seq: 2, score: 2, threshold: 1, anomalous: true, health: 'ALARM' as const, modelVersion: 'byom@1' };
    await store.write({ readings: [], scores: [{ ...base, ts: ts + 1, t2: null, spe: null }], anomalies: [] });
    const rows = await store.scores({ line: 'fab1', station: 'etch-01', from: ts, to: ts + 2 });
    expect(rows.map((r) => [r.t2, r.spe])).toEqual([[3, 0.2], [null, null]]);
    // Tables added since (equipment_state) are created in the old file too.
    await store.write({ readings: [], scores: [], anomalies: [], states: [{ line: 'fab1', station: 'etch-01', ts, state: 'STANDBY', reason: 'idle' }] });
    expect(await store.equipmentStates({ line: 'fab1', station: 'etch-01', from: ts, to: ts + 1 })).toEqual([{ ts, state: 'STANDBY', reason: 'idle' }]);
    await store.close();
  });

  it('prunes rows older than the retention at init and on demand', async () => {
    const store = new SqliteStore({ path: ':memory:', retentionMs: 60_000 }, logger);
    await store.init();
    const now = Date.now();
    const at = (ts: number) => ({ line: 'fab1', station: 'etch-01', ts, seq: 1, values: { x: 1 } });
    const verdict = (end: number) => ({
      id: `fab1/etch-01/W1/main_etch/${end}`, line: 'fab1', station: 'etch-01', wafer: 'W1', step: 'main_etch', start: end - 1, end,
      samples: 2, verdict: 'ok' as const, score: 0.1, threshold: 1, t2: 1, spe: 1, modelVersion: 'w@1', baseline: 'b1', contributors: [],
    });
    await store.write({ readings: [at(now - 120_000), at(now - 1_000)], scores: [], anomalies: [], wafers: [verdict(now - 120_000), verdict(now - 1_000)] });
    expect(store.prune()).toBe(2);
    expect(await store.countReadings({ from: 0, to: now + 1 })).toBe(1);
    expect((await store.waferVerdicts({})).map((v) => v.end)).toEqual([now - 1_000]);
    await store.close();
  });

  it('prunes old state changes but keeps each station\'s latest one before the cutoff: the state it is still in', async () => {
    const store = new SqliteStore({ path: ':memory:', retentionMs: 60_000 }, logger);
    await store.init();
    const now = Date.now();
    const change = (station: string, ago: number, state: 'PRODUCTIVE' | 'STANDBY' | 'UNSCHEDULED_DOWN') => ({ line: 'fab1', station, ts: now - ago, state });
    const states = [
      change('etch-01', 300_000, 'PRODUCTIVE'),
      change('etch-01', 200_000, 'UNSCHEDULED_DOWN'),
      change('etch-01', 120_000, 'PRODUCTIVE'),
      change('etch-01', 1_000, 'STANDBY'),
      // Unchanged since long before the cutoff.
      change('cmp-02', 300_000, 'PRODUCTIVE'),
    ];
    await store.write({ readings: [], scores: [], anomalies: [], states });
    expect(store.prune()).toBe(2);
    const range = { line: 'fab1', from: now - 30_000, to: now + 1 };
    expect(await store.equipmentStates({ ...range, station: 'etch-01' })).toEqual([
      { ts: now - 120_000, state: 'PRODUCTIVE' },
      { ts: now - 1_000, state: 'STANDBY' },
    ]);
    expect(await store.equipmentStates({ ...range, station: 'cmp-02' })).toEqual([{ ts: now - 300_000, state: 'PRODUCTIVE' }]);
    expect(await store.equipmentStates({ ...range, station: 'etch-01', from: 0 })).toHaveLength(2);
    expect(store.prune()).toBe(0);
    await store.close();
  });

  it('writes a batch atomically: a failing row rolls back the whole batch', async () => {
    const store = new SqliteStore({ path: ':memory:' }, logger);
    await store.init();
    const good = { line: 'fab1', station: 'etch-01', ts: Date.now(), seq: 1, values: { x: 1 } };
    // seq NOT NULL: a null seq fails the insert after the good row was inserted inside the transaction.
    const bad = { ...good, ts: good.ts + 1, seq: null as unknown as number };
    await expect(store.write({ readings: [good, bad], scores: [], anomalies: [] })).rejects.toThrow('sqlite write failed');
    expect(await store.countReadings({ from: 0, to: good.ts + 10 })).toBe(0);
    await store.close();
  });

  it('stops its prune timer on close and refuses use afterwards', async () => {
    const store = new SqliteStore({ path: ':memory:', pruneEveryMs: 10 }, logger);
    await store.init();
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(store.readings({ line: 'fab1', station: 'etch-01', from: 0, to: 1 })).rejects.toThrow('not initialised');
  });
});
