import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore, type AlertEventPoint, type Store } from '@linewatch/store';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertDb, openAlertingDatabase } from './alert-db.js';
import { AlertEventExporter } from './event-export.js';
import { AlertLifecycle, DEFAULT_LIFECYCLE_RULES } from './lifecycle.js';
import type { Observation } from './types.js';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-29T08:00:00Z');
const obs = (at: number, active: boolean): Observation => ({
  line: 'fab1', station: 'etch-01', source: 'model', class: 'process', at, active, severity: 'warning', score: active ? 3 : 0.1,
  threshold: 1, modelVersion: 'm', contributors: [], equipmentState: 'PRODUCTIVE', replay: false,
});

describe('AlertEventExporter', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lw-export-'));
    store = new SqliteStore({ path: ':memory:', retentionMs: 10 * 365 * 86_400_000 }, logger);
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one episode through the real lifecycle and store: pending, firing, resolved. */
  function episode(alerts: AlertDb, lifecycle: AlertLifecycle, start: number): void {
    for (const result of [lifecycle.observe(obs(start, true)), lifecycle.tick(start + 20_000), lifecycle.observe(obs(start + 30_000, false)), lifecycle.tick(start + 70_000)]) alerts.save(result);
  }

  it('exports every transition once the store answers, and resumes from its cursor after a restart', async () => {
    const path = join(dir, 'alerts.sqlite');
    let db = openAlertingDatabase(path);
    let alerts = new AlertDb(db);
    const lifecycle = new AlertLifecycle(DEFAULT_LIFECYCLE_RULES);
    episode(alerts, lifecycle, T0);
    let down = true;
    const flaky: Store = Object.assign(Object.create(store) as Store, {
      writeAlertEvents: (events: AlertEventPoint[]) => (down ? Promise.reject(new Error('store down')) : store.writeAlertEvents(events)),
    });
    const exporter = new AlertEventExporter({ db, alerts, store: flaky, logger, everyMs: 60_000, now: () => T0 + 100_000 });
    await exporter.round();
    expect(exporter.stats).toMatchObject({ exported: 0, failures: 1 });
    down = false;
    await exporter.round();
    const first = await store.alertEvents({ line: 'fab1', from: 0, to: T0 + 200_000 });
    expect(first.map((e) => [e.from, e.to])).toEqual([[null, 'pending'], ['pending', 'firing'], ['firing', 'resolved']]);
    expect(first[0]).toMatchObject({ alertId: `fab1/etch-01/model/${T0}`, station: 'etch-01', source: 'model', class: 'process', replay: false });
    db.close();

    // A restart: a second episode, a new exporter on the same file; nothing is lost or doubled.
    db = openAlertingDatabase(path);
    alerts = new AlertDb(db);
    episode(alerts, new AlertLifecycle(DEFAULT_LIFECYCLE_RULES), T0 + 200_000);
    const again = new AlertEventExporter({ db, alerts, store, logger, everyMs: 60_000, now: () => T0 + 400_000 });
    await again.round();
    const all = await store.alertEvents({ line: 'fab1', from: 0, to: T0 + 400_000 });
    expect(all).toHaveLength(6);
    expect(new Set(all.map((e) => `${e.alertId}|${e.to}`)).size).toBe(6);
    db.close();
  });
});
