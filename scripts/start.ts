/**
 * `npm start`: the whole line in one process. Ctrl-C (SIGINT) or SIGTERM stops every component in reverse
 * order, flushing the detector's buffers.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_LINE, DEFAULT_SCENARIO, loadScenario } from '@linewatch/simulators';
import { redactUrl } from '@linewatch/protocol';
import pino from 'pino';
import { ensureDemoRecording, startLine, REPO_ROOT } from './line.js';
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
    redact: { paths: ['*.password', '*.MQTT_PASSWORD', '*.INFLUX_PASSWORD', '*.API_TOKEN', '*.authorization'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  });
  const scenario = config.SIM_SCENARIO ? loadScenario(config.SIM_SCENARIO) : DEFAULT_SCENARIO;
  const lineDef = { ...DEFAULT_LINE, line: config.LINE };
  // Something to replay from the page on the very first run.
  await ensureDemoRecording(config.recordingsDir, lineDef, logger).catch((err: unknown) => {
    // The line matters more than the demo: it runs without one.
    logger.warn({ err }, 'could not write the demo recording; the page will have nothing to replay');
  });
  // Whoever starts the line may start replays from the page: the URL printed below carries the token.
  const generatedToken = config.API_TOKEN ? undefined : randomBytes(24).toString('base64url');
  const line = await startLine({
    mqttUrl: config.MQTT_URL,
    mqttPort: config.MQTT_PORT,
    store: config.store,
    httpHost: config.HOST,
    httpPort: config.PORT,
    detectorHttpPort: config.DETECTOR_HTTP_PORT,
    line: lineDef,
    simulate: config.SIMULATE === 'true',
    scenario,
    seed: config.SIM_SEED,
    rateHz: config.SIM_RATE,
    env: { ...process.env, RECORDINGS_DIR: config.recordingsDir, ...(generatedToken ? { API_TOKEN: generatedToken } : {}) },
    logger,
  });
  const storeName = config.INFLUX_URL ? `InfluxDB ${redactUrl(config.INFLUX_URL)}` : `SQLite ${config.store.sqlitePath}`;
  const pageUrl = generatedToken ? `${line.url}/#token=${generatedToken}` : line.url;
  const replayNote = generatedToken
    ? 'this URL carries a token generated for this run: it lets the page start and stop replays (set API_TOKEN to choose your own)'
    : 'replays from the page ask once for the API_TOKEN you set';
  process.stdout.write(
    [
      '',
      `  linewatch is running: ${pageUrl}`,
      `  ${replayNote}`,
      `  broker ${redactUrl(line.mqttUrl)} · store ${storeName} · ${config.SIMULATE === 'true' ? `simulated line ${config.LINE}` : 'no simulator'}`,
      `  replays from the page play into line ${line.replayLine}, from the recordings in ${config.recordingsDir}`,
      '  Ctrl-C stops everything.',
      '',
      '',
    ].join('\n'),
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
