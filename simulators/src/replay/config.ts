import { parseArgs } from 'node:util';
import { ID_PATTERN, LogLevelSchema, MqttUrlSchema, envSecret } from '@linewatch/protocol';
import { brokerTlsFromEnv, readSecretFile, type BrokerTls } from '@linewatch/protocol/node';
import { z } from 'zod';
import { parseInstant } from './instant.js';

const IdSchema = z.string().regex(ID_PATTERN, 'ids are 1-64 chars of A-Z a-z 0-9 _ . - and start alphanumeric');
const InstantSchema = z.string().transform((text, ctx) => {
  const ms = parseInstant(text);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: `not an ISO-8601 time or epoch ms: ${text}` });
  return ms ?? 0;
});
const OffsetSchema = z.coerce.number().nonnegative();

/** The speed flag: 1..100 times real time, or `max`. */
export const SpeedSchema = z.union([z.literal('max'), z.coerce.number().min(1, 'speed is 1..100 or max').max(100, 'speed is 1..100 or max')]);

const common = {
  /** Broker URL (--mqtt, MQTT_URL). */
  mqttUrl: MqttUrlSchema.default('mqtt://127.0.0.1:1883'),
  /** Broker user and password, from MQTT_USERNAME and MQTT_PASSWORD only; never logged. */
  mqttUsername: z.string().optional(),
  mqttPassword: z.string().optional(),
  /** MQTT client id (--client-id); default linewatch-replay-{pid}. */
  clientId: z.string().min(1).max(64).optional(),
  /** Times real time, 1..100, or max (--speed). */
  speed: SpeedSchema.default(1),
  /** original or shifted, so the run starts now (--timestamps). */
  timestamps: z.enum(['original', 'shifted']).default('shifted'),
  /** Play again and again, times and seq carrying on (--loop). */
  loop: z.boolean().default(false),
  /** Replay into this line id instead (--line for recordings, --into for both). */
  into: IdSchema.optional(),
  /** Unacknowledged QoS 1 publishes at once (--max-inflight). */
  maxInflight: z.coerce.number().int().min(1).max(65_535).default(500),
  /** No progress bar (--quiet). */
  quiet: z.boolean().default(false),
  logLevel: LogLevelSchema.default('warn'),
};

export const FileReplayConfigSchema = z.object({
  source: z.literal('file'),
  /** A recording, or a folder of them played one after another. */
  path: z.string().min(1),
  /** Seconds from each recording's start (--from, --to). */
  fromS: OffsetSchema.optional(),
  toS: OffsetSchema.optional(),
  ...common,
});

export const StoreReplayConfigSchema = z.object({
  source: z.literal('store'),
  /** InfluxDB 1.x URL (--influx) and database (--db), or an SQLite store file (--sqlite). */
  influxUrl: z.url({ protocol: /^https?$/ }).optional(),
  database: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be a plain database name').optional(),
  /** InfluxDB user and password, from INFLUX_USERNAME and INFLUX_PASSWORD only; never logged. */
  influxUsername: z.string().optional(),
  influxPassword: z.string().optional(),
  sqlitePath: z.string().min(1).optional(),
  /** The stored line to read (--line). */
  line: IdSchema,
  /** Stations to read (--station a,b); default every station of the line with readings in the range. */
  stations: z.array(IdSchema).min(1).optional(),
  /** Range, ISO-8601 or epoch ms (--from inclusive, --to exclusive). */
  from: InstantSchema,
  to: InstantSchema,
  /** Station type of the synthesised meta (--type); default the station id without `-NN`. */
  type: IdSchema.optional(),
  /** Rows per store query (--page-size). */
  pageSize: z.coerce.number().int().min(1).max(100_000).default(5_000),
  ...common,
});

export const ReplayConfigSchema = z
  .discriminatedUnion('source', [FileReplayConfigSchema, StoreReplayConfigSchema])
  .superRefine((c, ctx) => {
    if (c.source === 'file' && c.fromS !== undefined && c.toS !== undefined && c.toS <= c.fromS) {
      ctx.addIssue({ code: 'custom', path: ['toS'], message: '--to must be after --from' });
    }
    if (c.source === 'store' && c.to <= c.from) ctx.addIssue({ code: 'custom', path: ['to'], message: '--to must be after --from' });
  });

/** Which store flags go together; checked on the raw flags so they are reported with every other problem. */
function storeFlagProblems(values: Record<string, string | boolean | undefined>): string[] {
  const problems: string[] = [];
  if (values.influx !== undefined && values.sqlite !== undefined) problems.push('  (flags): give either --influx URL --db NAME or --sqlite PATH');
  if (values.influx !== undefined && values.db === undefined) problems.push('  database: --influx needs --db NAME');
  return problems;
}
/** `mqttTls`: MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE, MQTT_TLS_INSECURE, for an mqtts:// broker. */
export type ReplayConfig = Readonly<z.infer<typeof ReplayConfigSchema> & { mqttTls: BrokerTls }>;
export type FileReplayConfig = Extract<ReplayConfig, { source: 'file' }>;
export type StoreReplayConfig = Extract<ReplayConfig, { source: 'store' }>;

const STRING_FLAGS = {
  mqtt: 'mqttUrl', 'client-id': 'clientId', speed: 'speed', timestamps: 'timestamps', line: 'line', into: 'into', from: 'from', to: 'to',
  'max-inflight': 'maxInflight', 'log-level': 'logLevel', influx: 'influxUrl', db: 'database', sqlite: 'sqlitePath', station: 'stations',
  type: 'type', 'page-size': 'pageSize',
} as const;
const STORE_ONLY = ['station', 'type', 'page-size', 'db'];

export const REPLAY_USAGE = `usage:
  npm run replay -- FILE|FOLDER [--speed 1..100|max] [--timestamps shifted|original] [--loop] [--from S] [--to S] [--line NEW] [--mqtt URL]
  npm run replay -- --influx URL --db NAME --line L --from ISO --to ISO [--station S,...] [--type T] [--into NEW] [--speed ...] [--loop]
  npm run replay -- --sqlite PATH --line L --from ISO --to ISO [...]
  (MQTT_USERNAME, MQTT_PASSWORD, INFLUX_USERNAME, INFLUX_PASSWORD from env)`;

/** Parses flags over env; throws one Error listing every problem. */
export function loadReplayConfig(argv: string[], env: NodeJS.ProcessEnv): ReplayConfig {
  let parsedArgs: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    const options = {
      loop: { type: 'boolean' as const }, quiet: { type: 'boolean' as const },
      ...Object.fromEntries(Object.keys(STRING_FLAGS).map((f) => [f, { type: 'string' as const }])),
    };
    parsedArgs = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (err) {
    throw new Error(`replay: ${(err as Error).message}\n${REPLAY_USAGE}`, { cause: err });
  }
  const { values, positionals } = parsedArgs;
  const fromStore = values.influx !== undefined || values.sqlite !== undefined;
  if (fromStore === (positionals.length > 0) || positionals.length > 1) throw new Error(`replay: give one recording (file or folder), or a store (--influx or --sqlite)\n${REPLAY_USAGE}`);
  if (!fromStore) {
    const misplaced = STORE_ONLY.filter((f) => values[f] !== undefined);
    if (misplaced.length > 0) throw new Error(`replay: ${misplaced.map((f) => `--${f}`).join(' ')} only apply to a store range\n${REPLAY_USAGE}`);
  }
  const raw: Record<string, unknown> = { source: fromStore ? 'store' : 'file', loop: values.loop === true, quiet: values.quiet === true };
  for (const [flag, key] of Object.entries(STRING_FLAGS)) if (values[flag] !== undefined) raw[key] = values[flag];
  if (fromStore) {
    if (typeof raw.stations === 'string') raw.stations = raw.stations.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (env.INFLUX_USERNAME) raw.influxUsername = env.INFLUX_USERNAME;
    const influxPassword = envSecret(env, 'INFLUX_PASSWORD', readSecretFile);
    if (influxPassword) raw.influxPassword = influxPassword;
  } else {
    raw.path = positionals[0];
    // For a recording --line names the line to replay into; --into says the same for both sources.
    if (raw.line !== undefined) raw.into ??= raw.line;
    delete raw.line;
    if (raw.from !== undefined) raw.fromS = raw.from;
    if (raw.to !== undefined) raw.toS = raw.to;
    delete raw.from;
    delete raw.to;
  }
  raw.mqttUrl ??= env.MQTT_URL || undefined;
  if (env.MQTT_USERNAME) raw.mqttUsername = env.MQTT_USERNAME;
  const mqttPassword = envSecret(env, 'MQTT_PASSWORD', readSecretFile);
  if (mqttPassword) raw.mqttPassword = mqttPassword;
  if (raw.logLevel === undefined && env.LOG_LEVEL) raw.logLevel = env.LOG_LEVEL;
  const parsed = ReplayConfigSchema.safeParse(raw);
  const problems = [
    ...(fromStore ? storeFlagProblems(values) : []),
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `  ${i.path.join('.') || '(flags)'}: ${i.message}`)),
  ];
  if (problems.length > 0 || !parsed.success) {
    throw new Error(`replay: invalid configuration:\n${problems.join('\n')}\n${REPLAY_USAGE}`, { cause: parsed.error });
  }
  return Object.freeze({ ...parsed.data, mqttTls: brokerTlsFromEnv(env) });
}
