import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogLevelSchema, MqttUrlSchema, parseEnv } from '@linewatch/protocol';
import { brokerTlsFromEnv, readSecretFile, type BrokerTls } from '@linewatch/protocol/node';
import { StoreEnvSchema, storeConfigFromEnv, type StoreConfig } from '@linewatch/store';
import { z } from 'zod';

/** Repo root, found from this file so MODELS_DIR works whatever the working directory is. */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const int = (def: number, min: number) => z.coerce.number().int().min(min).default(def);

/** Detector env; each key has a default so `npm start` needs none. */
export const DetectorEnvSchema = z.object({
  /** Broker URL (mqtt://, mqtts://, ws:// or wss://); may carry credentials, which are never logged. */
  MQTT_URL: MqttUrlSchema.default('mqtt://127.0.0.1:1883'),
  /** Fixed client id: the broker keeps our persistent session (queued QoS 1 messages) under it. One per instance. */
  MQTT_CLIENT_ID: z.string().min(1).max(128).default('linewatch-detector-0'),
  /** Broker user; never logged. */
  MQTT_USERNAME: z.string().optional(),
  /** Broker password; never logged. */
  MQTT_PASSWORD: z.string().optional(),
  /** 4 = MQTT 3.1.1 (works everywhere, including the embedded aedes); 5 = MQTT 5 (needed for shared mode). */
  MQTT_PROTOCOL_VERSION: z.coerce.number().pipe(z.union([z.literal(4), z.literal(5)])).default(4),
  /** MQTT 5 only: how long (s) the broker keeps our session after a disconnect. */
  MQTT_SESSION_EXPIRY_S: int(3600, 0),
  /** Line id to watch, or '+' for every line. */
  LINE: z.string().regex(/^(\+|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$/, "a line id or '+'").default('+'),
  /** Folder of `{stationType}.onnx` / `{station}.onnx` models; relative paths resolve against the repo root. */
  MODELS_DIR: z.string().min(1).default('models'),
  /** 'index/count': this instance handles stations with stableHash(line/station) % count === index. */
  DETECTOR_PARTITION: z
    .string()
    .regex(/^\d+\/\d+$/, "format 'index/count', e.g. '0/1'")
    .refine((s) => {
      const [i, n] = s.split('/').map(Number) as [number, number];
      return n >= 1 && i < n;
    }, 'index must be < count and count >= 1')
    .default('0/1'),
  /** 'partition' (keeps per-station state correct) or 'shared' (MQTT 5 shared subscription; stateless scoring only). */
  SUBSCRIPTION_MODE: z.enum(['partition', 'shared']).default('partition'),
  /** Most snapshots per model in one onnxruntime call. */
  BATCH_MAX: int(64, 1),
  /** Longest wait (ms) for a scoring batch to fill; 0 batches what arrived in the same event-loop turn. */
  BATCH_WAIT_MS: int(0, 0),
  /** Most points (readings + scores + anomalies) per store write. */
  WRITE_BATCH_MAX: int(5000, 1),
  /** Longest time (ms) a point waits in the write buffer. */
  WRITE_FLUSH_MS: int(250, 1),
  /** Buffered points at which the buffer goes to the journal (or, without one, ingest stops reading until the store catches up). */
  WRITE_BUFFER_MAX: int(200_000, 1),
  /** A store write not answered within this (ms) counts as failed, and its batch goes to the journal. */
  WRITE_TIMEOUT_MS: int(5_000, 100),
  /** Where the write journal lives while the store is down or behind; each detector uses `{JOURNAL_DIR}/{MQTT_CLIENT_ID}`. */
  JOURNAL_DIR: z.string().min(1).default('.data/journal'),
  /** Disk budget of the journal; past it points are dropped and counted. 0 = no journal (retry from memory, then hold acks). */
  JOURNAL_MAX_BYTES: int(1024 * 1024 * 1024, 0),
  /** Larger payloads are dead-lettered. */
  MAX_PAYLOAD_BYTES: int(65_536, 64),
  /** Valid snapshots a second one station may send before the excess is dead-lettered unscored (rate_limited); 0 = no limit. */
  MAX_RATE_PER_STATION: int(200, 0),
  /** Snapshots a station may send at once above MAX_RATE_PER_STATION (e.g. a gateway flushing its buffer after a reconnect). */
  RATE_BURST_PER_STATION: int(2000, 1),
  /** Dead letters republished a second at most (all reasons together); the rest are only counted, so the topic cannot be flooded. */
  DEAD_LETTER_MAX_PER_S: int(100, 1),
  /** Dead letters that may be republished at once above DEAD_LETTER_MAX_PER_S. */
  DEAD_LETTER_BURST: int(1000, 1),
  /** A snapshot or state change stamped further ahead of its arrival than this (ms) is dead-lettered (bad_timestamp). */
  MAX_FUTURE_TS_MS: int(600_000, 1),
  /** Stations (line/station pairs) one detector tracks at most; telemetry of any further one is dead-lettered (too_many_stations). */
  MAX_STATIONS: int(2_000, 1),
  /** Consecutive anomalous samples that raise WARN (a single excursion only shows in the score). */
  WARN_AFTER: int(2, 1),
  /** Consecutive anomalous samples that raise ALARM. */
  ALARM_AFTER: int(3, 1),
  /** Consecutive normal samples that return a station to OK. */
  CLEAR_AFTER: int(5, 1),
  /**
   * One snapshot with score > threshold × this alarms at once (a one-sample spike far beyond the limit); 0 = off.
   * The default is set from backtest numbers (docs/detection.md).
   */
  ALARM_FACTOR: z.coerce.number().min(0).default(4),
  /** Also count an SPC run-rule hit as anomalous (measured as its own family; far too noisy at 1 Hz to be the default). */
  SPC_ALARM: z.enum(['true', 'false']).default('false'),
  /** How often (ms) the models folder is checked for new, replaced or deleted files; 0 = never (load at start only). */
  MODEL_RELOAD_MS: int(2000, 0),
  /** Folder of the wafer-level baselines re-set after a PM (the detector and `npm run baseline` share it). */
  WAFER_BASELINES_DIR: z.string().min(1).default('.data/wafer-baselines'),
  /** Identical readings in a row that make a sensor which normally varies `stuck` (more for one that often repeats). */
  STUCK_AFTER: int(5, 2),
  /** Clean snapshots in a row that clear a data-quality issue. */
  QUALITY_CLEAR_AFTER: int(10, 1),
  /** Largest gap (ms) between a live reading's ts and its arrival before the station's clock counts as skewed. */
  MAX_CLOCK_SKEW_MS: int(5000, 1),
  /** Reading time (ms) after a tool returns to PRODUCTIVE from down, PM or engineering during which it is not judged. */
  WARMUP_MS: int(30_000, 0),
  /** A station with no telemetry for this long (ms) is OFFLINE. */
  OFFLINE_AFTER_MS: int(10_000, 100),
  /** Least time (ms) between status publishes of one station; health changes always publish at once. */
  STATUS_MIN_INTERVAL_MS: int(250, 0),
  /** pino level. */
  LOG_LEVEL: LogLevelSchema.default('info'),
  /** Port of /healthz, /readyz and /metrics; 0 = ephemeral, -1 = no HTTP server. */
  HTTP_PORT: int(9464, -1).refine((p) => p <= 65535, 'port <= 65535'),
  /** Interface of /healthz, /readyz and /metrics; 0.0.0.0 only where a scraper on another host needs it (compose). */
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  // The store's keys (INFLUX_*, SQLITE_PATH), used only by the detector's own entry point.
  ...StoreEnvSchema.shape,
});

export interface DetectorConfig {
  readonly mqtt: {
    readonly url: string;
    readonly clientId: string;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly protocolVersion: 4 | 5;
    readonly sessionExpiryS: number;
    /** MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE, MQTT_TLS_INSECURE: for an mqtts:// broker. */
    readonly tls: BrokerTls;
  };
  readonly line: string;
  readonly modelsDir: string;
  readonly partition: { readonly index: number; readonly count: number };
  readonly subscriptionMode: 'partition' | 'shared';
  readonly batchMax: number;
  readonly batchWaitMs: number;
  readonly writeBatchMax: number;
  readonly writeFlushMs: number;
  readonly writeBufferMax: number;
  readonly writeTimeoutMs: number;
  /** The on-disk write journal (maxBytes 0: none). */
  readonly journal: { readonly dir: string; readonly maxBytes: number };
  readonly maxPayloadBytes: number;
  /** Per-station snapshot rate (0 = no limit) and burst. */
  readonly stationRate: { readonly perS: number; readonly burst: number };
  readonly deadLetterRate: { readonly perS: number; readonly burst: number };
  readonly maxFutureTsMs: number;
  readonly maxStations: number;
  readonly warnAfter: number;
  readonly alarmAfter: number;
  readonly clearAfter: number;
  readonly quality: { readonly stuckAfter: number; readonly clearAfter: number; readonly maxClockSkewMs: number };
  readonly warmupMs: number;
  /** 0 = off. */
  readonly alarmFactor: number;
  readonly spcAlarm: boolean;
  readonly modelReloadMs: number;
  readonly waferBaselinesDir: string;
  readonly offlineAfterMs: number;
  readonly statusMinIntervalMs: number;
  readonly httpPort: number;
  readonly httpHost: string;
  /** Store settings for the standalone entry point; the launcher may build its own store instead. */
  readonly store: StoreConfig;
  readonly logLevel: string;
}

/** Parses detector config from env. Throws one Error that lists every problem. */
export function loadDetectorConfig(env: NodeJS.ProcessEnv): DetectorConfig {
  const e = parseEnv(
    DetectorEnvSchema.superRefine((e, ctx) => {
      if (e.SUBSCRIPTION_MODE === 'shared' && e.MQTT_PROTOCOL_VERSION !== 5) {
        ctx.addIssue({ code: 'custom', path: ['SUBSCRIPTION_MODE'], message: 'shared needs MQTT_PROTOCOL_VERSION=5' });
      }
    }),
    env,
    'detector',
    readSecretFile,
  );
  const [index, count] = e.DETECTOR_PARTITION.split('/').map(Number) as [number, number];
  return Object.freeze({
    mqtt: Object.freeze({
      url: e.MQTT_URL,
      clientId: e.MQTT_CLIENT_ID,
      username: e.MQTT_USERNAME,
      password: e.MQTT_PASSWORD,
      protocolVersion: e.MQTT_PROTOCOL_VERSION as 4 | 5,
      sessionExpiryS: e.MQTT_SESSION_EXPIRY_S,
      tls: brokerTlsFromEnv(env),
    }),
    line: e.LINE,
    modelsDir: path.resolve(REPO_ROOT, e.MODELS_DIR),
    partition: Object.freeze({ index, count }),
    subscriptionMode: e.SUBSCRIPTION_MODE,
    batchMax: e.BATCH_MAX,
    batchWaitMs: e.BATCH_WAIT_MS,
    writeBatchMax: e.WRITE_BATCH_MAX,
    writeFlushMs: e.WRITE_FLUSH_MS,
    writeBufferMax: e.WRITE_BUFFER_MAX,
    writeTimeoutMs: e.WRITE_TIMEOUT_MS,
    journal: Object.freeze({ dir: path.resolve(REPO_ROOT, e.JOURNAL_DIR), maxBytes: e.JOURNAL_MAX_BYTES }),
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    stationRate: Object.freeze({ perS: e.MAX_RATE_PER_STATION, burst: e.RATE_BURST_PER_STATION }),
    deadLetterRate: Object.freeze({ perS: e.DEAD_LETTER_MAX_PER_S, burst: e.DEAD_LETTER_BURST }),
    maxFutureTsMs: e.MAX_FUTURE_TS_MS,
    maxStations: e.MAX_STATIONS,
    warnAfter: e.WARN_AFTER,
    alarmAfter: e.ALARM_AFTER,
    clearAfter: e.CLEAR_AFTER,
    quality: Object.freeze({ stuckAfter: e.STUCK_AFTER, clearAfter: e.QUALITY_CLEAR_AFTER, maxClockSkewMs: e.MAX_CLOCK_SKEW_MS }),
    warmupMs: e.WARMUP_MS,
    alarmFactor: e.ALARM_FACTOR,
    spcAlarm: e.SPC_ALARM === 'true',
    modelReloadMs: e.MODEL_RELOAD_MS,
    waferBaselinesDir: path.resolve(REPO_ROOT, e.WAFER_BASELINES_DIR),
    offlineAfterMs: e.OFFLINE_AFTER_MS,
    statusMinIntervalMs: e.STATUS_MIN_INTERVAL_MS,
    httpPort: e.HTTP_PORT,
    httpHost: e.HTTP_HOST,
    store: Object.freeze(storeConfigFromEnv(e, REPO_ROOT)),
    logLevel: e.LOG_LEVEL,
  });
}
