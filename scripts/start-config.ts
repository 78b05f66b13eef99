import path from 'node:path';
import { ID_PATTERN, LogLevelSchema, MqttUrlSchema, parseEnv } from '@linewatch/protocol';
import { readSecretFile } from '@linewatch/protocol/node';
import { StoreEnvSchema, storeConfigFromEnv, type StoreConfig } from '@linewatch/store';
import { z } from 'zod';

/** `npm start` settings. Every key has a default, so a first run needs none. */
const StartEnvSchema = z.object({
  /** External broker (e.g. mqtt://127.0.0.1:1883 for Mosquitto); unset runs the embedded aedes broker. */
  MQTT_URL: MqttUrlSchema.optional(),
  /** Port of the embedded broker, for outside MQTT clients; a busy port falls back to a free one. */
  MQTT_PORT: z.coerce.number().int().min(0).max(65535).default(1883),
  // The store's keys: INFLUX_URL (unset runs the embedded SQLite store), INFLUX_DATABASE, INFLUX_USERNAME,
  // INFLUX_PASSWORD, SQLITE_PATH.
  ...StoreEnvSchema.shape,
  /** Interface the API and dashboard bind to. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of the API and dashboard. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Port of the detector's /metrics; -1 disables it. */
  DETECTOR_HTTP_PORT: z.coerce.number().int().min(-1).max(65535).default(9464),
  /** Line id. */
  LINE: z.string().regex(ID_PATTERN).default('fab1'),
  /** Run the simulated line (false: watch whatever publishes to MQTT_URL). */
  SIMULATE: z.enum(['true', 'false']).default('true'),
  /** Scenario file (YAML or JSON); unset runs the built-in demo that injects a fault every few minutes. */
  SIM_SCENARIO: z.string().optional(),
  /** Snapshots per second per simulated tool. */
  SIM_RATE: z.coerce.number().positive().max(10_000).default(1),
  /** Seed of the simulation. */
  SIM_SEED: z.coerce.number().int().default(1),
  /** pino level. */
  LOG_LEVEL: LogLevelSchema.default('info'),
  /** Recordings the page can replay (relative to the repo root); a demo recording is written there when it holds none. */
  RECORDINGS_DIR: z.string().min(1).default('recordings'),
  /** Token for starting and stopping replays from the page; unset generates one and prints the page URL with it. */
  API_TOKEN: z.string().optional(),
});
export type StartConfig = Readonly<z.infer<typeof StartEnvSchema>> & { store: StoreConfig; recordingsDir: string };

/** Parses env (empty strings are unset); throws one Error listing every problem. */
export function loadStartConfig(env: NodeJS.ProcessEnv, root: string): StartConfig {
  const config = parseEnv(StartEnvSchema, env, 'npm start', readSecretFile);
  return Object.freeze({ ...config, store: storeConfigFromEnv(config, root), recordingsDir: path.resolve(root, config.RECORDINGS_DIR) });
}
