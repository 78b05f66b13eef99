/**
 * Runs the simulated line against a broker.
 *
 * @example
 * npm run sim -- --mqtt mqtt://127.0.0.1:1883 --scenario simulators/scenarios/demo.yaml --seed 1 --rate 10 --duration 60 --fast
 */
import { utimesSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { loadSimConfig } from './config.js';
import { DEFAULT_LINE, type LineDef } from './line.js';
import { SimulatorRunner } from './runner.js';
import { DEFAULT_SCENARIO, loadScenario, type Scenario } from './scenario.js';
import { LineSimulator } from './simulator.js';

async function main(): Promise<void> {
  let config;
  let scenario: Scenario;
  let simulator: LineSimulator;
  let line: LineDef;
  try {
    config = loadSimConfig(process.argv.slice(2), process.env);
    scenario = config.scenario === undefined ? DEFAULT_SCENARIO : config.scenario === 'none' ? { faults: [] } : loadScenario(config.scenario);
    line = { ...DEFAULT_LINE, line: config.line };
    simulator = new LineSimulator({ line, scenario, seed: config.seed, rateHz: config.rateHz, startTs: config.startTs ?? Date.now() });
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const logger = pino({ level: config.logLevel, base: { service: 'simulator' } });
  const runner = new SimulatorRunner({
    simulator,
    mqttUrl: config.mqttUrl,
    logger: logger.child({ module: 'runner' }),
    realtime: !config.fast,
    ...(config.durationS !== undefined ? { durationMs: config.durationS * 1000 } : {}),
    clientId: config.clientId,
    username: config.mqttUsername,
    password: config.mqttPassword,
    tls: config.mqttTls,
  });
  logger.info({ line: line.line, stations: line.stations.length, scenario: scenario.name ?? config.scenario, faults: scenario.faults.length, seed: config.seed, rateHz: config.rateHz }, 'starting');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await runner.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  const began = Date.now();
  await runner.start();
  if (config.heartbeatFile) startHeartbeat(config.heartbeatFile, runner);
  await runner.done();
  if (stopping) return;
  await runner.stop();
  const seconds = (Date.now() - began) / 1000;
  logger.info({ ...runner.stats, seconds, perSecond: Math.round(runner.stats.published / seconds) }, 'run complete');
  process.exit(runner.stats.publishErrors > 0 ? 2 : 0);
}

/**
 * Touches `file` every 5 s while the runner keeps publishing, so a healthcheck can tell a simulator that runs
 * from one that is alive but stuck (broker gone, loop stalled).
 */
function startHeartbeat(file: string, runner: SimulatorRunner): void {
  let last = -1;
  const beat = () => {
    if (runner.stats.published === last) return;
    last = runner.stats.published;
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      writeFileSync(file, '');
    }
  };
  beat();
  setInterval(beat, 5_000).unref();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
