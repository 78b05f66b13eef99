import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { z } from 'zod';
import { ID_PATTERN, MqttUrlSchema, parseEnv, redactUrl } from '@linewatch/protocol';
import { brokerTlsFromEnv, readSecretFile, type BrokerTls } from '@linewatch/protocol/node';
import { StoreEnvSchema } from '@linewatch/store';

/** The repo root, so the default dashboard dir works whatever the current directory is. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const intFromEnv = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const ApiConfigSchema = z.object({
  /** HTTP port for REST, socket.io and the dashboard; 0 picks a free one. */
  PORT: intFromEnv(8080, 0, 65535),
  /** Interface to bind; keep 127.0.0.1 unless a proxy fronts the API. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Broker the detector and simulator publish to. */
  MQTT_URL: MqttUrlSchema.default('mqtt://127.0.0.1:1883'),
  /** Broker user name; empty means anonymous. */
  MQTT_USERNAME: z.string().default(''),
  /** Broker password; never logged or returned. */
  MQTT_PASSWORD: z.string().default(''),
  /** MQTT client id; the default adds a random suffix so two APIs never kick each other off. */
  MQTT_CLIENT_ID: z.string().max(128).default(''),
  /** Line id this API watches. */
  LINE: z.string().regex(ID_PATTERN, 'must be a line id (A-Z a-z 0-9 _ . -)').default('fab1'),
  /** Built dashboard to serve (`npm run build` writes it). */
  DASHBOARD_DIR: z.string().min(1).default(path.join(REPO_ROOT, 'dashboard', 'dist')),
  /** A station whose latest status is older than this is shown as stale. */
  STALE_AFTER_MS: intFromEnv(10_000, 1_000, 3_600_000),
  /** How many recent anomalies the live snapshot carries. */
  RECENT_ANOMALIES: intFromEnv(200, 1, 10_000),
  /** How many recent wafer-level verdicts the API keeps per line (GET /api/stations/:station/wafers reads them). */
  RECENT_WAFERS: intFromEnv(500, 1, 10_000),
  /** Folder of `.jsonl.gz` recordings the page may replay; a relative path resolves against the repo root. */
  RECORDINGS_DIR: z
    .string()
    .min(1)
    .default('recordings')
    .transform((dir) => path.resolve(REPO_ROOT, dir)),
  /** Line id replays from the page play into; empty means `{LINE}-replay`. Must differ from LINE. */
  REPLAY_LINE: z.string().regex(ID_PATTERN, 'must be a line id (A-Z a-z 0-9 _ . -)').optional(),
  /**
   * Bearer token for the endpoints that change something (starting and stopping replays). Empty disables them
   * (they answer 403). Never logged or returned.
   */
  API_TOKEN: z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -base64 24`)').max(512).optional(),
  /** SQLite file for alert state, acknowledgements, webhook subscriptions and the delivery outbox; relative to the repo root. */
  ALERTS_DB_PATH: z
    .string()
    .min(1)
    .default('.data/alerts.sqlite')
    .transform((file) => (file === ':memory:' ? file : path.resolve(REPO_ROOT, file))),
  /** Optional JSON file of webhook subscriptions, upserted at start (see docs/webhooks.md). */
  WEBHOOKS_FILE: z.string().default(''),
  /** Base URL of the page for links in webhooks; empty means the address the API listens on. */
  PUBLIC_URL: z.string().url().optional(),
  /** An alert condition must hold this long (ms) before the alert fires. */
  ALERT_FOR_MS: intFromEnv(5_000, 0, 3_600_000),
  /** Hysteresis: the condition must stay clear this long (ms) before the alert resolves. */
  ALERT_CLEAR_HOLD_MS: intFromEnv(30_000, 0, 86_400_000),
  /** A clear reading must also score at most threshold × this to count as clear. */
  ALERT_CLEAR_RATIO: z.coerce.number().gt(0).max(1).default(0.9),
  /** This many episodes of one alert key within ALERT_FLAP_WINDOW_MS make it flap (notifications held). */
  ALERT_FLAP_EPISODES: intFromEnv(4, 2, 1_000),
  ALERT_FLAP_WINDOW_MS: intFromEnv(600_000, 1_000, 86_400_000),
  // The store's keys (INFLUX_*, SQLITE_PATH), used by the process entry for history.
  ...StoreEnvSchema.shape,
});

export type ApiConfig = Readonly<
  Omit<z.infer<typeof ApiConfigSchema>, 'REPLAY_LINE' | 'API_TOKEN'> & {
    REPLAY_LINE: string;
    API_TOKEN: string;
    /** MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE, MQTT_TLS_INSECURE: for an mqtts:// broker. */
    MQTT_TLS: BrokerTls;
  }
>;

/**
 * Parses the API config from env and reports every problem at once.
 *
 * @example
 * const config = loadApiConfig({ PORT: '0', LINE: 'fab1' });
 */
export function loadApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const schema = ApiConfigSchema.superRefine((c, ctx) => {
    // A replay into the live line would put recorded data on the operators' screens and alerts as if it were live.
    if ((c.REPLAY_LINE ?? `${c.LINE}-replay`) === c.LINE) ctx.addIssue({ code: 'custom', path: ['REPLAY_LINE'], message: 'must differ from LINE' });
    if (!ID_PATTERN.test(`${c.LINE}-replay`) && c.REPLAY_LINE === undefined)
      ctx.addIssue({ code: 'custom', path: ['REPLAY_LINE'], message: `"${c.LINE}-replay" is too long for a line id; set REPLAY_LINE` });
  });
  const parsed = parseEnv(schema, env, 'api', readSecretFile);
  const config = { ...parsed, REPLAY_LINE: parsed.REPLAY_LINE ?? `${parsed.LINE}-replay`, API_TOKEN: parsed.API_TOKEN ?? '', MQTT_TLS: brokerTlsFromEnv(env) };
  if (config.MQTT_CLIENT_ID === '') config.MQTT_CLIENT_ID = `linewatch-api-${Math.random().toString(16).slice(2, 10)}`;
  return Object.freeze(config);
}

/** The config as it may be logged or shown: secrets removed. */
export function redactConfig(config: ApiConfig): Record<string, unknown> {
  return {
    ...config,
    MQTT_URL: redactUrl(config.MQTT_URL),
    INFLUX_URL: config.INFLUX_URL ? redactUrl(config.INFLUX_URL) : undefined,
    MQTT_PASSWORD: config.MQTT_PASSWORD ? '[redacted]' : '',
    INFLUX_PASSWORD: config.INFLUX_PASSWORD ? '[redacted]' : '',
    API_TOKEN: config.API_TOKEN ? '[redacted]' : '',
    // Which TLS parts are set, never their bytes (the client key is a secret).
    MQTT_TLS: Object.fromEntries(Object.entries(config.MQTT_TLS).map(([k, v]) => [k, typeof v === 'boolean' ? v : '[set]'])),
  };
}
