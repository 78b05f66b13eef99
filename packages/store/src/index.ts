import type { Logger } from 'pino';
import { InfluxStore, type InfluxStoreConfig } from './influx-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './types.js';

export type * from './types.js';
export { InfluxStore, type InfluxStoreConfig } from './influx-store.js';
export { SqliteStore, type SqliteStoreConfig } from './sqlite-store.js';
export { byNewestStep } from './influx-wafer-verdicts.js';
export { StoreEnvSchema, storeConfigFromEnv, type StoreEnv } from './env.js';
export { initStore } from './init-retry.js';

export interface StoreConfig {
  /** When set, InfluxDB is the system of record; otherwise the embedded SQLite file at `sqlitePath`. */
  influx?: InfluxStoreConfig | undefined;
  sqlitePath: string;
  /** Retention of the SQLite store in ms (default 7 days); InfluxDB uses its retention policies instead. */
  sqliteRetentionMs?: number | undefined;
}

/** Picks the backend; call `init()` on the result before use. */
export function createStore(config: StoreConfig, logger: Logger): Store {
  if (config.influx) return new InfluxStore(config.influx, logger);
  return new SqliteStore({ path: config.sqlitePath, retentionMs: config.sqliteRetentionMs }, logger);
}
