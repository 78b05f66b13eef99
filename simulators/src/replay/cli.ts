/**
 * Replays a recording (or a store range) into MQTT, every message marked `replay: true`.
 *
 * @example
 * npm run replay -- runs/demo.jsonl.gz --speed 10 --line fab1-replay
 * npm run replay -- --influx http://127.0.0.1:8086 --db linewatch --line fab1 --from 2026-11-20T08:00Z --to 2026-11-20T09:00Z --speed max
 */
import { existsSync } from 'node:fs';
import { redactUrl } from '@linewatch/protocol';
import { createStore, type Store } from '@linewatch/store';
import pino, { type Logger } from 'pino';
import { describeError } from './cli-error.js';
import { loadReplayConfig, type ReplayConfig, type StoreReplayConfig } from './config.js';
import { RecordingFileSource } from './file-source.js';
import { formatDuration } from './progress.js';
import { MqttReplaySink } from './publisher.js';
import { Replayer, type ReplayResult } from './replayer.js';
import type { ReplaySource } from './source.js';
import { StoreRangeSource } from './store-source.js';
import { TerminalProgress } from './terminal-progress.js';

/** Opens the store for reading only: no init() on InfluxDB (it would create retention policies and CQs). */
async function openStore(config: StoreReplayConfig, logger: Logger): Promise<{ store: Store; label: string }> {
  if (config.influxUrl !== undefined) {
    const influx = { url: config.influxUrl, database: config.database!, username: config.influxUsername, password: config.influxPassword };
    const store = createStore({ influx, sqlitePath: ':memory:' }, logger);
    if (!(await store.ping())) throw new Error(`InfluxDB at ${redactUrl(config.influxUrl)} does not answer`);
    return { store, label: `influx ${redactUrl(config.influxUrl)}/${config.database}` };
  }
  const path = config.sqlitePath!;
  // Opening a missing file would create an empty store and replay nothing; say so instead.
  if (!existsSync(path)) throw new Error(`no SQLite store at ${path}`);
  // Retention as long as can be: opening the store must not prune what we came to replay.
  const store = createStore({ sqlitePath: path, sqliteRetentionMs: Number.MAX_SAFE_INTEGER }, logger);
  await store.init();
  return { store, label: `sqlite ${path}` };
}

async function buildSource(config: ReplayConfig, logger: Logger): Promise<{ source: ReplaySource; close: () => Promise<void> }> {
  if (config.source === 'file') return { source: new RecordingFileSource(config.path, { fromS: config.fromS, toS: config.toS }), close: async () => undefined };
  const { store, label } = await openStore(config, logger);
  // Without --station, every station of the line with readings in the range.
  const stations = config.stations ?? (await store.stations({ line: config.line, from: config.from, to: config.to }));
  if (stations.length === 0) {
    await store.close();
    throw new Error(`no readings of line ${config.line} between ${new Date(config.from).toISOString()} and ${new Date(config.to).toISOString()} in ${label}`);
  }
  if (!config.stations) process.stderr.write(`stations with readings in the range: ${stations.join(', ')}\n`);
  const source = new StoreRangeSource({ store, line: config.line, stations, from: config.from, to: config.to, type: config.type, pageSize: config.pageSize, label });
  return { source, close: () => store.close() };
}

function summary(config: ReplayConfig, source: ReplaySource, result: ReplayResult): string {
  const seconds = result.firstPublishAt !== null && result.lastPublishAt !== null ? (result.lastPublishAt - result.firstPublishAt) / 1000 : 0;
  const into = config.into ?? (config.source === 'store' ? config.line : 'the recorded line(s)');
  const lines = [
    `replay of ${source.description}: ${result.outcome}${result.error ? `: ${describeError(result.error)}` : ''}`,
    `  sent        ${result.sent} messages in ${formatDuration(seconds * 1000)} (${Math.round(result.sent / Math.max(seconds, 0.001))}/s), into ${into}, marked replay: true`,
    `  broker      acked ${result.acked}, errors ${result.errors}, unacknowledged at the end ${result.unacked}, waits for the in-flight window ${result.backpressureWaits}`,
    `  settings    speed ${config.speed}, timestamps ${config.timestamps}${config.loop ? `, loop (${result.passes} passes done)` : ''}`,
  ];
  if (source instanceof StoreRangeSource && source.skippedCount > 0) {
    lines.push(`  skipped     ${source.skippedCount} stored rows that are not valid telemetry:`);
    for (const s of source.skipped) lines.push(`              ${s.station} at ${new Date(s.ts).toISOString()}: ${s.reason}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  let config: ReplayConfig;
  try {
    config = loadReplayConfig(process.argv.slice(2), process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const logger = pino({ level: config.logLevel, base: { service: 'replay' } }, pino.destination(2));
  const { source, close } = await buildSource(config, logger);
  const replayer = new Replayer({
    source, speed: config.speed, timestamps: config.timestamps, loop: config.loop, line: config.into, logger,
    connect: () => MqttReplaySink.connect({
      url: config.mqttUrl, clientId: config.clientId ?? `linewatch-replay-${process.pid}`, username: config.mqttUsername,
      password: config.mqttPassword, tls: config.mqttTls, maxInflight: config.maxInflight, logger,
    }),
  });
  const terminal = config.quiet ? undefined : new TerminalProgress(process.stderr);
  replayer.on('progress', (p) => terminal?.update(p));
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    process.stderr.write('\nstopping the replay (again to abort)\n');
    void replayer.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await replayer.start();
  if (config.into === undefined) {
    process.stderr.write('note: replaying into the recorded line id: its retained meta and state are replaced by replayed ones; --line NEW keeps them apart\n');
  }
  const result = await replayer.done;
  terminal?.finish(replayer.progress());
  await close();
  console.log(summary(config, source, result));
  process.exit(result.outcome === 'failed' || result.errors > 0 || result.unacked > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(`replay failed: ${describeError(err)}`);
  process.exit(1);
});
