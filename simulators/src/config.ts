import { parseArgs } from 'node:util';
import { ID_PATTERN, LogLevelSchema, MqttUrlSchema, envSecret } from '@linewatch/protocol';
import { brokerTlsFromEnv, readSecretFile, type BrokerTls } from '@linewatch/protocol/node';
import { z } from 'zod';

/** Simulator CLI settings: each from a flag, else from env, else the default. */
export const SimConfigSchema = z.object({
  /** Broker URL (--mqtt, MQTT_URL). */
  mqttUrl: MqttUrlSchema.default('mqtt://127.0.0.1:1883'),
  /** Line id the stations publish under (--line, LINE). */
  line: z.string().regex(ID_PATTERN, 'ids are 1-64 chars of A-Z a-z 0-9 _ . - and start alphanumeric').default('fab1'),
  /** Scenario file, YAML or JSON (--scenario, SIM_SCENARIO); unset runs the built-in rotating demo, 'none' runs fault-free. */
  scenario: z.string().optional(),
  /** Seed of every random stream (--seed, SIM_SEED). */
  seed: z.coerce.number().int().default(1),
  /** Snapshots per second per station (--rate, SIM_RATE). */
  rateHz: z.coerce.number().positive().max(10_000).default(1),
  /** Simulated seconds to run; unset runs until stopped (--duration, SIM_DURATION). */
  durationS: z.coerce.number().positive().optional(),
  /** Publish as fast as the broker acknowledges instead of in real time (--fast, SIM_FAST=true). */
  fast: z.preprocess((v) => v === true || v === 'true' || v === '1', z.boolean()).default(false),
  /** Simulated start, epoch ms; default is now (--start, SIM_START). */
  startTs: z.coerce.number().int().nonnegative().optional(),
  /** MQTT client id (--client-id, MQTT_CLIENT_ID). */
  clientId: z.string().min(1).max(64).default('linewatch-sim'),
  /** File touched every few seconds while messages are being published, for a container healthcheck (--heartbeat-file, SIM_HEARTBEAT_FILE). */
  heartbeatFile: z.string().min(1).optional(),
  /** Broker user (MQTT_USERNAME only: secrets stay off the command line); never logged. */
  mqttUsername: z.string().optional(),
  /** Broker password (MQTT_PASSWORD only); never logged. */
  mqttPassword: z.string().optional(),
  /** pino level (--log-level, LOG_LEVEL). */
  logLevel: LogLevelSchema.default('info'),
});
/** `mqttTls`: MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE, MQTT_TLS_INSECURE, for an mqtts:// broker. */
export type SimConfig = Readonly<z.infer<typeof SimConfigSchema> & { mqttTls: BrokerTls }>;

const FLAGS = {
  mqtt: ['mqttUrl', 'MQTT_URL'],
  line: ['line', 'LINE'],
  scenario: ['scenario', 'SIM_SCENARIO'],
  seed: ['seed', 'SIM_SEED'],
  rate: ['rateHz', 'SIM_RATE'],
  duration: ['durationS', 'SIM_DURATION'],
  fast: ['fast', 'SIM_FAST'],
  start: ['startTs', 'SIM_START'],
  'client-id': ['clientId', 'MQTT_CLIENT_ID'],
  'log-level': ['logLevel', 'LOG_LEVEL'],
  'heartbeat-file': ['heartbeatFile', 'SIM_HEARTBEAT_FILE'],
} as const;

/** Parses flags over env; throws one Error listing every problem. */
export function loadSimConfig(argv: string[], env: NodeJS.ProcessEnv): SimConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: f === 'fast' ? ('boolean' as const) : ('string' as const) }]));
    values = parseArgs({ args: argv, options, allowPositionals: false }).values;
  } catch (err) {
    throw new Error(`simulator: ${(err as Error).message}; flags: ${Object.keys(FLAGS).map((f) => `--${f}`).join(' ')}`, { cause: err });
  }
  const raw: Record<string, unknown> = {};
  for (const [flag, [key, envName]] of Object.entries(FLAGS)) {
    const value = values[flag] ?? (env[envName] === '' ? undefined : env[envName]);
    if (value !== undefined) raw[key] = value;
  }
  if (env.MQTT_USERNAME) raw.mqttUsername = env.MQTT_USERNAME;
  const mqttPassword = envSecret(env, 'MQTT_PASSWORD', readSecretFile);
  if (mqttPassword) raw.mqttPassword = mqttPassword;
  const parsed = SimConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`simulator: invalid configuration:\n${problems}`, { cause: parsed.error });
  }
  return Object.freeze({ ...parsed.data, mqttTls: brokerTlsFromEnv(env) });
}
