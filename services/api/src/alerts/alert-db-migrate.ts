import type Database from 'better-sqlite3';

/**
 * Versioned, idempotent migrations for one component of the alerting database.
 *
 * The alert store, the subscriptions and the webhook outbox share one SQLite file but are built and released
 * independently, so each keeps its own version in `schema_version` (PRAGMA user_version is one number for the
 * whole file and would make them step on each other). Steps are append-only: step `i` takes the component from
 * version `i` to `i + 1`; never edit a step that has shipped, add a new one.
 *
 * @example
 * migrate(db, 'outbox', [
 *   `CREATE TABLE webhook_delivery (...)`,                      // version 1
 *   `ALTER TABLE webhook_delivery ADD COLUMN response TEXT`,    // version 2
 * ]);
 * @returns the component's version after migrating.
 */
export function migrate(db: Database.Database, component: string, steps: readonly string[]): number {
  const run = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID');
    const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(component) as { version: number } | undefined;
    const current = row?.version ?? 0;
    // A database written by a newer release may hold data this code would misread; refuse rather than corrupt it.
    if (current > steps.length) {
      throw new Error(`the ${component} tables are at version ${current}, newer than this release knows (${steps.length}); upgrade linewatch`);
    }
    for (let version = current; version < steps.length; version++) db.exec(steps[version] as string);
    db.prepare('INSERT INTO schema_version (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version').run(
      component,
      steps.length,
    );
    return steps.length;
  });
  try {
    // IMMEDIATE takes the write lock before reading the version, so two processes opening one file at once
    // cannot both apply the same step.
    return run.immediate();
  } catch (err) {
    throw new Error(`cannot migrate the ${component} tables of the alerting database`, { cause: err });
  }
}
