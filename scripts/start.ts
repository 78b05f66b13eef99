/**
 * `npm start`: the whole line in one process. Ctrl-C (SIGINT) or SIGTERM stops every component in reverse
 * order, flushing the detector's buffers.
 */
import { DEFAULT_LINE, DEFAULT_SCENARIO, loadScenario } from '@linewatch/simulators';
import { redactUrl } from '@linewatch/protocol';
import pino from 'pino';
import { startLine, REPO_ROOT } from './line.js';
import { loadStartConfig, type StartConfig } from './start-config.js';

async function main(): Promise<void> {
  let config: StartConfig;
  try {
    config = loadStartConfig(process.env, REPO_ROOT);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  // JSON logs in production and when piped; readable lines for a person at a terminal.
  const pretty = process.stdout.isTTY && process.env.NODE_ENV !== 'production';
  const logger = pino({
    level: config.LOG_LEVEL,
    redact: { paths: ['*.password', '*.MQTT_PASSWORD', '*.INFLUX_PASSWORD', '*.authorization'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  });
  const scenario = config.SIM_SCENARIO ? loadScenario(config.SIM_SCENARIO) : DEFAULT_SCENARIO;
  const line = await startLine({
    mqttUrl: config.MQTT_URL,
    mqttPort: config.MQTT_PORT,
    store: config.store,
    httpHost: config.HOST,
    httpPort: config.PORT,
    detectorHttpPort: config.DETECTOR_HTTP_PORT,
    line: { ...DEFAULT_LINE, line: config.LINE },
    simulate: config.SIMULATE === 'true',
    scenario,
    seed: config.SIM_SEED,
    rateHz: config.SIM_RATE,
    env: process.env,
    logger,
  });
  const storeName = config.INFLUX_URL ? `InfluxDB ${redactUrl(config.INFLUX_URL)}` : `SQLite ${config.store.sqlitePath}`;
  process.stdout.write(
    `\n  linewatch is running: ${line.url}\n  broker ${redactUrl(line.mqttUrl)} · store ${storeName} · ${config.SIMULATE === 'true' ? `simulated line ${config.LINE}` : 'no simulator'}\n  Ctrl-C stops everything.\n\n`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping the line');
    line.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
