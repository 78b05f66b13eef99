import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertDb, openAlertingDatabase } from './alert-db.js';
import { migrate } from './alert-db-migrate.js';
import { alertOf, transitionOf } from './testing/alert-db-fixtures.js';
import type { Alert, LifecycleResult } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'lw-alert-db-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

let files = 0;
/** A fresh database file in a folder that does not exist yet. */
function newFile(): string {
  return join(root, `case-${++files}`, 'data', 'alerting.db');
}

function openDb(file: string): { db: Database.Database; alerts: AlertDb } {
  const db = openAlertingDatabase(file);
  open.push(db);
  return { db, alerts: new AlertDb(db) };
}

/** Saves as the integrator will: one transaction per result. */
function save(db: Database.Database, alerts: AlertDb, result: Partial<LifecycleResult>): void {
  db.transaction(() => alerts.save({ alerts: [], transitions: [], notifications: [], ...result }))();
}

const T0 = 1_700_000_000_000;

describe('openAlertingDatabase', () => {
  it('creates the folder and a private file, in WAL with synchronous=FULL and foreign keys on', () => {
    const file = newFile();
    const { db } = openDb(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('says which file it could not open', () => {
    // A regular file where the folder should be.
    const blocker = newFile();
    openDb(blocker).db.close();
    expect(() => openAlertingDatabase(join(blocker, 'below.db'))).toThrow(/cannot open the alerting database at .*below\.db/);
  });
});

describe('AlertDb', () => {
  it('keeps alerts and transitions across closing and reopening the file', () => {
    const file = newFile();
    const first = openDb(file);
    const pending = alertOf(T0, { state: 'pending', firingAt: null });
    const firing = { ...pending, state: 'firing' as const, firingAt: T0 + 5_000 };
    save(first.db, first.alerts, { alerts: [pending], transitions: [transitionOf(pending, null, 'pending', T0)] });
    save(first.db, first.alerts, { alerts: [firing], transitions: [transitionOf(firing, 'pending', 'firing', T0 + 5_000, 'for-duration elapsed')] });
    first.db.close();

    const second = openDb(file);
    expect(second.alerts.alert(firing.id)).toEqual(firing);
    expect(second.alerts.history(firing.id).map((t) => [t.from, t.to, t.reason])).toEqual([
      [null, 'pending', 'new → pending'],
      ['pending', 'firing', 'for-duration elapsed'],
    ]);
    expect(second.alerts.openAlerts()).toEqual([firing]);
  });

  it('keeps one row per alert id, and fields the lifecycle adds later', () => {
    const { db, alerts } = openDb(newFile());
    const a = alertOf(T0);
    save(db, alerts, { alerts: [a] });
    const acked: Alert & { notified: boolean } = { ...a, state: 'acknowledged', ack: { by: 'ana', at: T0 + 9_000, comment: 'on it' }, notified: true };
    save(db, alerts, { alerts: [acked], transitions: [transitionOf(acked, 'firing', 'acknowledged', T0 + 9_000)] });
    expect(db.prepare('SELECT count(*) AS n FROM alert').get()).toEqual({ n: 1 });
    expect(alerts.alert(a.id)).toEqual(acked);
    expect(alerts.alerts({})).toEqual([acked]);
  });

  it('lists only unresolved alerts as open, oldest first', () => {
    const { db, alerts } = openDb(newFile());
    const older = alertOf(T0, { station: 'cmp-01', state: 'acknowledged' });
    const newer = alertOf(T0 + 60_000, { station: 'dep-01', state: 'pending' });
    const resolved = alertOf(T0 + 30_000, { state: 'resolved', resolvedAt: T0 + 90_000 });
    save(db, alerts, { alerts: [newer, resolved, older] });
    expect(alerts.openAlerts().map((a) => a.id)).toEqual([older.id, newer.id]);
  });

  it('rejects a transition whose alert does not exist, saving nothing of that result, inside a caller\'s transaction or not', () => {
    const { db, alerts } = openDb(newFile());
    const a = alertOf(T0);
    const stray = transitionOf(alertOf(T0 + 1), null, 'pending', T0 + 1);
    const result = { alerts: [a], transitions: [transitionOf(a, null, 'firing', T0), stray], notifications: [] };
    expect(() => save(db, alerts, result)).toThrow(/transition new → pending of alert/);
    expect(() => alerts.save(result)).toThrow(/transition new → pending of alert/);
    expect(alerts.alert(a.id)).toBeUndefined();
    expect(alerts.history(a.id)).toEqual([]);
    expect(db.inTransaction).toBe(false);
  });

  it('keeps history in the order the lifecycle made it, per alert', () => {
    const { db, alerts } = openDb(newFile());
    const a = alertOf(T0);
    const b = alertOf(T0, { station: 'cmp-01' });
    const steps = ['pending', 'firing', 'acknowledged', 'firing', 'resolved'] as const;
    steps.forEach((to, i) => {
      save(db, alerts, {
        alerts: [a, b],
        transitions: [transitionOf(a, steps[i - 1] ?? null, to, T0 + i * 1000), transitionOf(b, null, 'pending', T0 + i * 1000, `b ${i}`)],
      });
    });
    expect(alerts.history(a.id).map((t) => t.to)).toEqual([...steps]);
    expect(alerts.history(b.id)).toHaveLength(steps.length);
    expect(alerts.history('fab1/etch-01/model/404')).toEqual([]);
  });

  describe('alerts()', () => {
    // Minutes 0..9 on two lines, stations and classes; the even ones resolve one minute after they start.
    const all = Array.from({ length: 10 }, (_, i) =>
      alertOf(T0 + i * 60_000, {
        line: i < 5 ? 'fab1' : 'fab2',
        station: i % 2 ? 'etch-01' : 'cmp-01',
        class: i % 3 ? 'process' : 'data_quality',
        state: i % 2 ? 'firing' : 'resolved',
        resolvedAt: i % 2 ? null : T0 + (i + 1) * 60_000,
      }),
    );
    const ids = (list: Alert[]): number[] => list.map((a) => all.findIndex((b) => b.id === a.id));
    let shared: Database.Database;
    let alertDb: AlertDb;
    beforeAll(() => {
      shared = openAlertingDatabase(newFile());
      alertDb = new AlertDb(shared);
      save(shared, alertDb, { alerts: all });
    });
    afterAll(() => shared.close());
    const db = (): AlertDb => alertDb;

    it('lists newest first with a default limit of 100 and at most 1000', () => {
      expect(ids(db().alerts({}))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      expect(ids(db().alerts({ limit: 3 }))).toEqual([9, 8, 7]);
      expect(() => db().alerts({ limit: 1001 })).toThrow(/limit/);
      expect(() => db().alerts({ limit: 0 })).toThrow(/limit/);
    });

    it('applies the default limit of 100', () => {
      const { db: raw, alerts } = openDb(newFile());
      save(raw, alerts, { alerts: Array.from({ length: 120 }, (_, i) => alertOf(T0 + i)) });
      expect(alerts.alerts({})).toHaveLength(100);
      expect(alerts.alerts({ limit: 1000 })).toHaveLength(120);
    });

    it('filters by state, line, station and class, alone and together', () => {
      expect(ids(db().alerts({ states: ['firing'] }))).toEqual([9, 7, 5, 3, 1]);
      expect(ids(db().alerts({ states: ['resolved', 'firing'], limit: 2 }))).toEqual([9, 8]);
      expect(ids(db().alerts({ states: ['pending'] }))).toEqual([]);
      expect(ids(db().alerts({ line: 'fab2' }))).toEqual([9, 8, 7, 6, 5]);
      expect(ids(db().alerts({ station: 'cmp-01' }))).toEqual([8, 6, 4, 2, 0]);
      expect(ids(db().alerts({ class: 'data_quality' }))).toEqual([9, 6, 3, 0]);
      expect(ids(db().alerts({ line: 'fab1', station: 'etch-01', states: ['firing'], class: 'process' }))).toEqual([1]);
    });

    it('selects by time the alerts active at some point in [from, to)', () => {
      // From minute 4.5: the resolved 4 (until 5) still counts, 3 is firing still, 0 and 2 are over.
      expect(ids(db().alerts({ from: T0 + 270_000 }))).toEqual([9, 8, 7, 6, 5, 4, 3, 1]);
      expect(ids(db().alerts({ to: T0 + 120_000 }))).toEqual([1, 0]);
      expect(ids(db().alerts({ from: T0 + 130_000, to: T0 + 180_001 }))).toEqual([3, 2, 1]);
    });

    it('rejects bad filters with a message naming them', () => {
      expect(() => db().alerts({ line: 'fab 1' })).toThrow(/invalid alert query: line/);
      expect(() => db().alerts({ states: ['open' as never] })).toThrow(/states\.0/);
      expect(() => db().alerts({ from: -1 })).toThrow(/from/);
    });
  });

  it('lists transitions across alerts in [from, to), oldest first, up to the limit', () => {
    const { db, alerts } = openDb(newFile());
    const a = alertOf(T0);
    const b = alertOf(T0, { station: 'cmp-01' });
    save(db, alerts, { alerts: [a, b], transitions: [transitionOf(b, null, 'pending', T0 + 2), transitionOf(a, null, 'pending', T0)] });
    save(db, alerts, { alerts: [a, b], transitions: [transitionOf(a, 'pending', 'firing', T0 + 2), transitionOf(b, 'pending', 'firing', T0 + 3)] });
    const seen = (from: number, to: number, limit?: number) =>
      alerts.transitions({ from, to, ...(limit ? { limit } : {}) }).map((t) => `${t.alertId === a.id ? 'a' : 'b'}:${t.to}`);
    expect(seen(T0, T0 + 4)).toEqual(['a:pending', 'b:pending', 'a:firing', 'b:firing']);
    expect(seen(T0 + 1, T0 + 3)).toEqual(['b:pending', 'a:firing']);
    expect(seen(T0, T0 + 4, 1)).toEqual(['a:pending']);
    expect(() => alerts.transitions({ from: T0, to: T0 + 1, limit: 10_001 })).toThrow(/limit/);
  });
});

describe('migrations', () => {
  it('opening an existing database again is idempotent and keeps its data', () => {
    const file = newFile();
    const first = openDb(file);
    const a = alertOf(T0);
    save(first.db, first.alerts, { alerts: [a], transitions: [transitionOf(a, null, 'firing', T0)] });
    const schema = (db: Database.Database) => db.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all();
    const before = schema(first.db);
    new AlertDb(first.db); // a second component instance on the same handle
    first.db.close();

    const second = openDb(file);
    expect(schema(second.db)).toEqual(before);
    expect(second.db.prepare(`SELECT version FROM schema_version WHERE component = 'alerts'`).get()).toEqual({ version: 1 });
    expect(second.alerts.alert(a.id)).toEqual(a);
    expect(second.alerts.history(a.id)).toHaveLength(1);
  });

  it('applies only the steps a component has not run yet, each component on its own', () => {
    const db = openAlertingDatabase(':memory:');
    open.push(db);
    expect(migrate(db, 'outbox', ['CREATE TABLE delivery (id TEXT PRIMARY KEY)'])).toBe(1);
    db.prepare(`INSERT INTO delivery VALUES ('d1')`).run();
    // Step 1 again would fail ("table delivery already exists"); only step 2 may run.
    expect(migrate(db, 'outbox', ['CREATE TABLE delivery (id TEXT PRIMARY KEY)', 'ALTER TABLE delivery ADD COLUMN tries INTEGER NOT NULL DEFAULT 0'])).toBe(2);
    expect(db.prepare('SELECT id, tries FROM delivery').all()).toEqual([{ id: 'd1', tries: 0 }]);
    new AlertDb(db);
    expect(db.prepare('SELECT component, version FROM schema_version ORDER BY component').all()).toEqual([
      { component: 'alerts', version: 1 },
      { component: 'outbox', version: 2 },
    ]);
  });

  it('refuses a database a newer release has migrated further, and a failed step leaves no trace', () => {
    const db = openAlertingDatabase(':memory:');
    open.push(db);
    new AlertDb(db);
    db.prepare(`UPDATE schema_version SET version = 7 WHERE component = 'alerts'`).run();
    expect(() => new AlertDb(db)).toThrow(/cannot migrate the alerts tables/);
    expect(() => migrate(db, 'broken', ['CREATE TABLE half (x)', 'CREATE TABLE half (x)'])).toThrow(/broken/);
    expect(db.prepare(`SELECT name FROM sqlite_schema WHERE name = 'half'`).get()).toBeUndefined();
    expect(db.prepare(`SELECT * FROM schema_version WHERE component = 'broken'`).get()).toBeUndefined();
  });
});
