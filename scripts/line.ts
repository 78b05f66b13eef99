import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApi, loadApiConfig, type Api } from '@linewatch/api';
import { createDetector, loadDetectorConfig, type Detector } from '@linewatch/detector';
import { RECORDING_EXTENSION, RecordingWriter } from '@linewatch/recording';
import { DEFAULT_LINE, DEFAULT_SCENARIO, LineSimulator, SimulatorRunner, recordSimulation, type LineDef, type Scenario } from '@linewatch/simulators';
import { createStore, type Store, type StoreConfig } from '@linewatch/store';
import type { Logger } from 'pino';
import { EmbeddedBroker } from './embedded-broker.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface LineOptions {
  /** External broker; unset runs the embedded aedes broker on `mqttPort`. */
  mqttUrl?: string | undefined;
  mqttPort: number;
  /** InfluxDB when `store.influx` is set, else the embedded SQLite store at `store.sqlitePath`. */
  store: StoreConfig;
  httpHost: string;
  httpPort: number;
  /** Detector /metrics port; -1 disables, 0 picks a free one. */
  detectorHttpPort: number;
  line: LineDef;
  /** Run the simulated line; false watches whatever publishes to the broker. */
  simulate: boolean;
  scenario: Scenario;
  seed: number;
  rateHz: number;
  /** Extra env passed to the detector and API configs (their own keys, e.g. ALARM_AFTER). */
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export interface RunningLine {
  url: string;
  mqttUrl: string;
  store: Store;
  detector: Detector;
  /** The same detector, on the replay line: replays from the page are scored exactly as live data. */
  replayDetector: Detector;
  /** Where the API replays to. */
  replayLine: string;
  api: Api;
  simulator: SimulatorRunner | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the whole line in this process: broker (embedded unless given), store, detector, API with the
 * dashboard, and the simulator. Components stop in reverse order; each stop flushes its buffers.
 */
export async function startLine(opts: LineOptions): Promise<RunningLine> {
  const log = opts.logger;
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error({ err, component: name }, 'stop failed');
      }
    }
    stops.length = 0;
  };
  try {
    let mqttUrl = opts.mqttUrl;
    if (!mqttUrl) {
      const broker = new EmbeddedBroker({ port: opts.mqttPort, host: '127.0.0.1', logger: log.child({ module: 'broker' }) });
      await broker.start();
      stops.push({ name: 'broker', stop: () => broker.stop() });
      mqttUrl = broker.url;
    }
    const store = createStore(opts.store, log.child({ module: 'store' }));
    await store.init();
    stops.push({ name: 'store', stop: () => store.close() });

    const shared = { ...opts.env, MQTT_URL: mqttUrl, LINE: opts.line.line };
    // The detector's client id names its persistent session; the API must never share it (the broker would
    // kick one off for the other), so the API takes its own random-suffixed default.
    const apiConfig = loadApiConfig({ ...shared, MQTT_CLIENT_ID: undefined, HOST: opts.httpHost, PORT: String(opts.httpPort) });
    const detectorConfig = loadDetectorConfig({ ...shared, LINE: opts.line.line, HTTP_PORT: String(opts.detectorHttpPort) });
    const detector = createDetector(detectorConfig, { store, logger: log });
    await detector.start();
    stops.push({ name: 'detector', stop: () => detector.stop() });
    // A second instance of the same detector (same code, models and thresholds) scores the replay line. Not one
    // detector on '+': on a shared broker that would score every line there, and a replay at `max` could hold
    // up live scoring through the detector's backpressure.
    const replayDetector = createDetector(
      loadDetectorConfig({
        ...shared,
        LINE: apiConfig.REPLAY_LINE,
        MQTT_CLIENT_ID: `${detectorConfig.mqtt.clientId}-replay`,
        HTTP_PORT: '-1',
      }),
      { store, logger: log.child({ line: apiConfig.REPLAY_LINE }) },
    );
    await replayDetector.start();
    stops.push({ name: 'replay detector', stop: () => replayDetector.stop() });

    const api = createApi(apiConfig, { store, logger: log });
    const { url } = await api.start();
    stops.push({ name: 'api', stop: () => api.stop() });

    let simulator: SimulatorRunner | undefined;
    if (opts.simulate) {
      const sim = new LineSimulator({ line: opts.line, scenario: opts.scenario, seed: opts.seed, rateHz: opts.rateHz, startTs: Date.now() });
      simulator = new SimulatorRunner({ simulator: sim, mqttUrl, logger: log.child({ service: 'simulator' }), realtime: true, clientId: `linewatch-sim-${process.pid}` });
      await simulator.start();
      const runner = simulator;
      stops.push({ name: 'simulator', stop: () => runner.stop() });
    }
    return { url, mqttUrl, store, detector, replayDetector, replayLine: apiConfig.REPLAY_LINE, api, simulator, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The demo recording: 20 minutes of the simulated line at 1 Hz with the demo faults, seeded. */
export const DEMO_RECORDING = { durationS: 20 * 60, rateHz: 1, seed: 7 } as const;

/**
 * Writes a demo recording into `dir` when it holds no recording, so a newcomer can try a replay from the page at
 * once. Takes about a second. Returns the file written, or undefined when there were recordings already.
 */
export async function ensureDemoRecording(dir: string, line: LineDef, logger: Logger): Promise<string | undefined> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new Error(`cannot read the recordings folder ${dir}`, { cause: err });
  });
  if (names.some((n) => n.endsWith(RECORDING_EXTENSION))) return undefined;
  const { durationS, rateHz, seed } = DEMO_RECORDING;
  const file = path.join(dir, `demo-${line.line}${RECORDING_EXTENSION}`);
  const startTs = Date.now();
  const simulator = new LineSimulator({ line, scenario: DEFAULT_SCENARIO, seed, rateHz, startTs });
  const detail = `seed ${seed}, ${rateHz} Hz, ${durationS} s from ${new Date(startTs).toISOString()} (npm start's demo)`;
  const writer = await RecordingWriter.create(file, { source: { kind: 'simulator', detail }, scenario: DEFAULT_SCENARIO.name ?? 'demo' });
  try {
    const stats = await recordSimulation({ simulator, durationMs: durationS * 1000, sink: writer });
    if (stats.invalid.count > 0) throw new Error(`the simulator made ${stats.invalid.count} invalid messages`);
  } catch (err) {
    await writer.abort();
    throw new Error('could not write the demo recording', { cause: err });
  }
  const header = await writer.close();
  logger.info({ file, entries: header.counts, start: header.start, end: header.end }, 'wrote a demo recording to replay from the page');
  return file;
}

export { DEFAULT_LINE, DEFAULT_SCENARIO };
