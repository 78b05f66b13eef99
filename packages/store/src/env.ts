import path from 'node:path';
import { z } from 'zod';
import type { StoreConfig } from './index.js';

/**
 * The store's env keys, shared by every service that opens a store (detector, API, `npm start`): each service
 * extends its own schema with these, so the keys, defaults and checks are written once.
 */
export const StoreEnvSchema = z.object({
  /** InfluxDB 1.x URL (e.g. http://127.0.0.1:8086); unset means the embedded SQLite store. */
  INFLUX_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** InfluxDB database holding readings, scores and anomalies. */
  INFLUX_DATABASE: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be a plain database name').default('linewatch'),
  /** InfluxDB user; never logged. */
  INFLUX_USERNAME: z.string().optional(),
  /** InfluxDB password; never logged. */
  INFLUX_PASSWORD: z.string().optional(),
  /** SQLite file of the embedded store, used when INFLUX_URL is unset; relative paths resolve against the repo root. */
  SQLITE_PATH: z.string().min(1).default('.data/linewatch.db'),
});
export type StoreEnv = z.infer<typeof StoreEnvSchema>;

/**
 * The `createStore()` config from parsed store env keys.
 *
 * @example
 * const store = createStore(storeConfigFromEnv(parseEnv(StoreEnvSchema, process.env, 'api'), REPO_ROOT), logger);
 */
export function storeConfigFromEnv(env: StoreEnv, root: string): StoreConfig {
  return {
    influx: env.INFLUX_URL
      ? {
          url: env.INFLUX_URL,
          database: env.INFLUX_DATABASE,
          ...(env.INFLUX_USERNAME ? { username: env.INFLUX_USERNAME } : {}),
          ...(env.INFLUX_PASSWORD ? { password: env.INFLUX_PASSWORD } : {}),
        }
      : undefined,
    sqlitePath: env.SQLITE_PATH === ':memory:' ? env.SQLITE_PATH : path.resolve(root, env.SQLITE_PATH),
  };
}
