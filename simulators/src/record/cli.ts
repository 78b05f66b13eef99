/**
 * Records line data to a file.
 *
 * @example
 * npm run record -- --simulate --scenario simulators/scenarios/demo.yaml --seed 7 --rate 10 --duration 600 --out runs/demo.jsonl.gz
 * npm run record -- --mqtt mqtt://127.0.0.1:1883 --line fab1 --duration 60 --out runs/live.jsonl.gz
 */
import { stat } from 'node:fs/promises';
import { redactUrl } from '@linewatch/protocol';
import { RecordingWriter } from '@linewatch/recording';
import pino, { type Logger } from 'pino';
import { DEFAULT_LINE } from '../line.js';
import { DEFAULT_SCENARIO, loadScenario, type Scenario } from '../scenario.js';
import { LineSimulator } from '../simulator.js';
import { describeError } from '../replay/cli-error.js';
import { defaultRecordingPath, loadRecordConfig, type MqttRecordConfig, type RecordConfig, type SimulateConfig } from './config.js';
import { MqttRecorder } from './mqtt-recorder.js';
import { recordSimulation } from './simulate.js';
import { formatSummary } from './summary.js';

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
function onSignal(): Promise<string> {
  return new Promise((resolve) => {
    let seen = false;
    const handle = (signal: string) => {
      if (seen) process.exit(130);
      seen = true;
      console.error(`\n${signal}: finishing the recording (again to abort)`);
      resolve(signal);
    };
    process.on('SIGINT', () => handle('SIGINT'));
    process.on('SIGTERM', () => handle('SIGTERM'));
  });
}

function scenarioOf(name: string): Scenario {
  if (name === 'default') return DEFAULT_SCENARIO;
  if (name === 'none') return { name: 'none', faults: [] };
  return loadScenario(name);
}

async function simulate(config: SimulateConfig, logger: Logger): Promise<number> {
  const scenario = scenarioOf(config.scenario);
  const startTs = config.startTs ?? Date.now();
  const simulator = new LineSimulator({ line: { ...DEFAULT_LINE, line: config.line }, scenario, seed: config.seed, rateHz: config.rateHz, startTs });
  const out = config.out ?? defaultRecordingPath('sim', config.line, Date.now());
  const detail = `seed ${config.seed}, ${config.rateHz} Hz, ${config.durationS} s from ${new Date(startTs).toISOString()}`;
  const writer = await RecordingWriter.create(out, { source: { kind: 'simulator', detail }, scenario: config.scenario });
  const abort = new AbortController();
  void onSignal().then(() => abort.abort());
  const began = Date.now();
  logger.info({ out, detail, scenario: config.scenario }, 'recording the simulator');
  let stats;
  try {
    stats = await recordSimulation({ simulator, durationMs: config.durationS * 1000, sink: writer, signal: abort.signal });
  } catch (err) {
    await writer.abort();
    throw err;
  }
  const header = await writer.close();
  const { size } = await stat(out);
  console.log(formatSummary({ path: out, bytes: size, header, invalid: stats.invalid, wallMs: Date.now() - began }));
  if (stats.aborted) console.log(`  stopped     after ${stats.ticks} of ${Math.round(config.durationS * config.rateHz)} ticks`);
  // Invalid simulator output is a bug, and the file lacks those messages.
  return stats.invalid.count > 0 ? 1 : 0;
}

async function recordBroker(config: MqttRecordConfig, logger: Logger): Promise<number> {
  const out = config.out ?? defaultRecordingPath('mqtt', config.line, Date.now());
  const recorder = new MqttRecorder({
    url: config.mqttUrl, username: config.mqttUsername, password: config.mqttPassword, tls: config.mqttTls, clientId: config.clientId, line: config.line,
    protocolVersion: config.protocolVersion, sessionExpiryS: config.sessionExpiryS, out, maxPayloadBytes: config.maxPayloadBytes,
    maxTelemetry: config.count, logger,
  });
  await recorder.start();
  const began = Date.now();
  console.error(`recording ${redactUrl(config.mqttUrl)} line ${config.line} to ${out}; Ctrl-C to stop`);
  let timer: NodeJS.Timeout | undefined;
  let failure: Error | undefined;
  const reason = await Promise.race([
    onSignal(),
    recorder.limitReached.then(() => `${config.count} telemetry messages`),
    recorder.failed.then((err) => {
      failure = err;
      return 'a failure';
    }),
    ...(config.durationS !== undefined ? [new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`${config.durationS} s`), config.durationS! * 1000)))] : []),
  ]);
  clearTimeout(timer);
  const header = await recorder.stop();
  const { size } = await stat(out);
  console.log(formatSummary({ path: out, bytes: size, header, invalid: recorder.stats.invalid, wallMs: Date.now() - began, broker: recorder.stats }));
  console.log(`  stopped     after ${reason}`);
  if (recorder.stats.lost > 0) console.log(`  warning     ${recorder.stats.lost} snapshots missing by seq: lost before they reached the recorder`);
  if (failure) console.error(`record failed: ${describeError(failure)}`);
  return failure ? 1 : 0;
}

async function main(): Promise<void> {
  let config: RecordConfig;
  try {
    config = loadRecordConfig(process.argv.slice(2), process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  // Logs go to stderr; stdout carries the summary only.
  const logger = pino({ level: config.logLevel, base: { service: 'record' } }, pino.destination(2));
  const code = config.source === 'simulator' ? await simulate(config, logger) : await recordBroker(config, logger);
  process.exit(code);
}

main().catch((err: unknown) => {
  console.error(`record failed: ${describeError(err)}`);
  process.exit(1);
});
