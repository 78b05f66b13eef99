import { parseArgs } from 'node:util';
import { ID_PATTERN, LogLevelSchema, MqttUrlSchema, envSecret } from '@linewatch/protocol';
import { brokerTlsFromEnv, readSecretFile, type BrokerTls } from '@linewatch/protocol/node';
import { RECORDING_EXTENSION } from '@linewatch/recording';
import { z } from 'zod';
import { parseInstant } from '../replay/instant.js';

const IdSchema = z.string().regex(ID_PATTERN, 'ids are 1-64 chars of A-Z a-z 0-9 _ . - and start alphanumeric');
const OutSchema = z.string().min(1).refine((p) => p.endsWith(RECORDING_EXTENSION), `must end in ${RECORDING_EXTENSION}`).optional();
const InstantSchema = z.string().transform((text, ctx) => {
  const ms = parseInstant(text);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: `not an ISO-8601 time or epoch ms: ${text}` });
  return ms ?? 0;
});

/** `npm run record -- --simulate ...`: the simulator in-process, no broker, as fast as the CPU goes. */
export const SimulateConfigSchema = z.object({
  source: z.literal('simulator'),
  /** Recording file (--out); default recordings/sim-{line}-{time}.jsonl.gz. */
  out: OutSchema,
  /** Scenario file, `default` (the rotating demo) or `none` (fault-free) (--scenario). */
  scenario: z.string().min(1).default('default'),
  /** Seed of every random stream (--seed). */
  seed: z.coerce.number().int().default(1),
  /** Snapshots per second per station (--rate). */
  rateHz: z.coerce.number().positive().max(10_000).default(1),
  /** Seconds of simulated time (--duration); required, a simulation has no end of its own. */
  durationS: z.coerce.number({ error: 'give --duration, in seconds of simulated time' }).positive(),
  /** Line id (--line). */
  line: IdSchema.default('fab1'),
  /** Simulated start, ISO-8601 or epoch ms (--start); default now. */
  startTs: InstantSchema.optional(),
  logLevel: LogLevelSchema.default('warn'),
});

/** `npm run record -- --mqtt URL ...`: a live broker, until Ctrl-C, a duration or a count. */
export const MqttRecordConfigSchema = z.object({
  source: z.literal('mqtt'),
  out: OutSchema,
  /** Broker URL (--mqtt, MQTT_URL). */
  mqttUrl: MqttUrlSchema,
  /** Line to record, or `+` for all (--line). */
  line: z.union([IdSchema, z.literal('+')]).default('+'),
  /** Stop after this many seconds of wall time (--duration). */
  durationS: z.coerce.number().positive().optional(),
  /** Stop after this many telemetry messages (--count). */
  count: z.coerce.number().int().positive().optional(),
  /** Client id of the persistent session (--client-id, MQTT_CLIENT_ID); two recorders need two ids. */
  clientId: z.string().min(1).max(64).default('linewatch-recorder'),
  /** MQTT protocol version, 4 (3.1.1) or 5 (--protocol). */
  protocolVersion: z.coerce.number().pipe(z.union([z.literal(4), z.literal(5)])).default(4),
  /** MQTT 5: seconds the broker keeps the session while the recorder is disconnected (--session-expiry). */
  sessionExpiryS: z.coerce.number().int().positive().default(300),
  /** Largest payload accepted; bigger ones are counted invalid (--max-payload). */
  maxPayloadBytes: z.coerce.number().int().positive().default(64 * 1024),
  /** Broker user and password, from MQTT_USERNAME and MQTT_PASSWORD only; never logged. */
  mqttUsername: z.string().optional(),
  mqttPassword: z.string().optional(),
  logLevel: LogLevelSchema.default('warn'),
});

export const RecordConfigSchema = z.discriminatedUnion('source', [SimulateConfigSchema, MqttRecordConfigSchema]);
/** `mqttTls`: MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE, MQTT_TLS_INSECURE, for an mqtts:// broker. */
export type RecordConfig = Readonly<z.infer<typeof RecordConfigSchema> & { mqttTls: BrokerTls }>;
export type SimulateConfig = Extract<RecordConfig, { source: 'simulator' }>;
export type MqttRecordConfig = Extract<RecordConfig, { source: 'mqtt' }>;

/** Flag → config key. Env is read only for the broker (as every linewatch CLI does) and the secrets. */
const FLAGS = {
  out: 'out', scenario: 'scenario', seed: 'seed', rate: 'rateHz', duration: 'durationS', line: 'line', start: 'startTs',
  mqtt: 'mqttUrl', count: 'count', 'client-id': 'clientId', protocol: 'protocolVersion', 'session-expiry': 'sessionExpiryS',
  'max-payload': 'maxPayloadBytes', 'log-level': 'logLevel',
} as const;
const SIMULATE_ONLY = ['scenario', 'seed', 'rate', 'start'];
const MQTT_ONLY = ['count', 'client-id', 'protocol', 'session-expiry', 'max-payload'];

export const RECORD_USAGE = `usage:
  npm run record -- --simulate --duration S [--scenario FILE|default|none] [--seed N] [--rate HZ] [--line ID] [--start ISO] [--out FILE]
  npm run record -- --mqtt URL [--line ID|+] [--duration S] [--count N] [--client-id ID] [--protocol 4|5] [--out FILE]
  (MQTT_USERNAME and MQTT_PASSWORD from env)`;

/** Parses flags over env; throws one Error listing every problem. */
export function loadRecordConfig(argv: string[], env: NodeJS.ProcessEnv): RecordConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = { simulate: { type: 'boolean' as const }, ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])) };
    values = parseArgs({ args: argv, options, allowPositionals: false }).values;
  } catch (err) {
    throw new Error(`record: ${(err as Error).message}\n${RECORD_USAGE}`, { cause: err });
  }
  const simulate = values.simulate === true;
  const mqttUrl = values.mqtt ?? (simulate ? undefined : env.MQTT_URL || undefined);
  if (simulate === (mqttUrl !== undefined)) throw new Error(`record: give either --simulate or --mqtt URL\n${RECORD_USAGE}`);
  const misplaced = (simulate ? MQTT_ONLY : SIMULATE_ONLY).filter((f) => values[f] !== undefined);
  if (misplaced.length > 0) throw new Error(`record: ${misplaced.map((f) => `--${f}`).join(' ')} only apply ${simulate ? 'to --mqtt' : 'with --simulate'}\n${RECORD_USAGE}`);
  const raw: Record<string, unknown> = { source: simulate ? 'simulator' : 'mqtt' };
  for (const [flag, key] of Object.entries(FLAGS)) if (values[flag] !== undefined) raw[key] = values[flag];
  if (!simulate) {
    raw.mqttUrl = mqttUrl;
    if (raw.clientId === undefined && env.MQTT_CLIENT_ID) raw.clientId = env.MQTT_CLIENT_ID;
    if (env.MQTT_USERNAME) raw.mqttUsername = env.MQTT_USERNAME;
    const mqttPassword = envSecret(env, 'MQTT_PASSWORD', readSecretFile);
    if (mqttPassword) raw.mqttPassword = mqttPassword;
  }
  if (raw.logLevel === undefined && env.LOG_LEVEL) raw.logLevel = env.LOG_LEVEL;
  const parsed = RecordConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(flags)'}: ${i.message}`).join('\n');
    throw new Error(`record: invalid configuration:\n${problems}\n${RECORD_USAGE}`, { cause: parsed.error });
  }
  return Object.freeze({ ...parsed.data, mqttTls: brokerTlsFromEnv(env) });
}

/** recordings/{kind}-{line}-{yyyymmdd-hhmmss}.jsonl.gz, in UTC. */
export function defaultRecordingPath(kind: 'sim' | 'mqtt', line: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `recordings/${kind}-${line === '+' ? 'all' : line}-${stamp}${RECORDING_EXTENSION}`;
}
