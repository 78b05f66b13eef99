import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApi, loadApiConfig, type Api } from '@linewatch/api';
import { createDetector, loadDetectorConfig, type Detector } from '@linewatch/detector';
import { DEFAULT_LINE, DEFAULT_SCENARIO, LineSimulator, SimulatorRunner, type LineDef, type Scenario } from '@linewatch/simulators';
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
    const detector = createDetector(loadDetectorConfig({ ...shared, LINE: opts.line.line, HTTP_PORT: String(opts.detectorHttpPort) }), { store, logger: log });
    await detector.start();
    stops.push({ name: 'detector', stop: () => detector.stop() });

    // The detector's client id names its persistent session; the API must never share it (the broker would
    // kick one off for the other), so the API takes its own random-suffixed default.
    const api = createApi(loadApiConfig({ ...shared, MQTT_CLIENT_ID: undefined, HOST: opts.httpHost, PORT: String(opts.httpPort) }), { store, logger: log });
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
    return { url, mqttUrl, store, detector, api, simulator, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export { DEFAULT_LINE, DEFAULT_SCENARIO };
