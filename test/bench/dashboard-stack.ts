import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { EmbeddedBroker } from '../../scripts/embedded-broker.js';
import { startApi, startDetector, stopChild, type DetectorProc } from './children.js';
import { prefillHistory, retainedTopics, stationMessages, writeSyntheticModel, type LoadShape } from './dashboard-load.js';
import { portOpen } from '../support/ports.js';

/**
 * The real stack under `bench:dashboard`: a broker (the local Mosquitto when it is up, else `npm start`'s embedded
 * aedes on a free port), the detector entry and the API entry as child processes (the compose layout, so the
 * page's numbers are not mixed with the bench's own event loop), sharing one SQLite store in WAL mode as
 * `npm start` does. Everything binds to 127.0.0.1.
 */
export interface Stack {
  broker: 'mosquitto' | 'aedes';
  mqttUrl: string;
  detector: DetectorProc;
  api: ChildProcess;
  apiPort: number;
  apiUrl: string;
  /** Non-empty when a child died during the run: the numbers are then not the stack's. */
  failures: string[];
  stop(): Promise<void>;
}

export interface StackOptions {
  line: string;
  stamp: string;
  shape: LoadShape;
  /** A fresh folder for the store, the model, the alert database and the (empty) recordings folder. */
  dir: string;
  /** Skip Mosquitto even when it is up. */
  embeddedBroker: boolean;
}

const MOSQUITTO = 'mqtt://127.0.0.1:1883';
/** As much history as the page's live windows hold (LIVE_SPAN_MS, SPARK_SPAN_MS): they open full. */
const PREFILL_MS = 5 * 60_000;

/** Starts everything in order; on a failure, stops what already started before throwing. */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const undo: (() => Promise<void>)[] = [];
  const failures: string[] = [];
  let stopping = false;
  const stop = async (): Promise<void> => {
    stopping = true;
    for (const step of undo.splice(0).reverse()) await step().catch((err: unknown) => console.error('cleanup step failed:', err));
  };
  try {
    let mqttUrl = MOSQUITTO;
    let broker: Stack['broker'] = 'mosquitto';
    if (opts.embeddedBroker || !(await portOpen(1883))) {
      const embedded = new EmbeddedBroker({ port: 0, host: '127.0.0.1', logger: pino({ level: 'warn' }) });
      await embedded.start();
      undo.push(() => embedded.stop());
      mqttUrl = embedded.url;
      broker = 'aedes';
    }
    const ctl: MqttClient = await mqtt.connectAsync(mqttUrl, { clientId: `${opts.line}-ctl`, clean: true, reconnectPeriod: 1000, connectTimeout: 5000 });
    undo.push(() => ctl.endAsync());
    const detectorId = `${opts.line}-detector`;
    // Runs after the detector stopped: its retained statuses, and its persistent session on the broker.
    undo.push(async () => {
      for (const topic of retainedTopics(opts.line, opts.shape.stations)) await ctl.publishAsync(topic, '', { qos: 1, retain: true }).catch(() => undefined);
      const session = await mqtt.connectAsync(mqttUrl, { clientId: detectorId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 }).catch(() => undefined);
      await session?.endAsync();
    });

    const models = path.join(opts.dir, 'models');
    await writeSyntheticModel(models, opts.shape.sensors);
    // Before the detector starts, so it models every station from its first snapshot (as bench:pipeline does).
    for (const m of stationMessages(opts.line, opts.shape, Date.now())) await ctl.publishAsync(m.topic, m.payload, { qos: 1, retain: true });

    const store = { INFLUX_URL: '', SQLITE_PATH: path.join(opts.dir, 'linewatch.db') };
    // The 5 minutes the page's live charts and sparklines show, as a line that has been running would have them.
    const prefilled = await prefillHistory(store.SQLITE_PATH, opts.line, opts.shape, Date.now(), PREFILL_MS);
    console.error(`prefilled ${prefilled} readings (${PREFILL_MS / 60_000} min of every station)`);
    const detector = await startDetector({
      ...store, MQTT_URL: mqttUrl, MQTT_CLIENT_ID: detectorId, LINE: opts.line, MODELS_DIR: models, MODEL_RELOAD_MS: '0',
      WAFER_BASELINES_DIR: path.join(opts.dir, 'wafer-baselines'), LOG_LEVEL: 'warn',
    });
    undo.push(() => stopChild(detector.child, 15_000));
    detector.child.once('exit', (code, signal) => {
      if (!stopping) failures.push(`detector exited (${code ?? signal}) during the run`);
    });

    const { child: api, port: apiPort, url: apiUrl } = await startApi({ ...store, MQTT_URL: mqttUrl, LINE: opts.line }, opts.dir);
    undo.push(() => stopChild(api, 10_000));
    api.once('exit', (code, signal) => {
      if (!stopping) failures.push(`API exited (${code ?? signal}) during the run`);
    });
    return { broker, mqttUrl, detector, api, apiPort, apiUrl, failures, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One metric family of a Prometheus text page, by label set: `{kind="telemetry"}` → value. */
export async function metricByLabels(port: number, name: string): Promise<Map<string, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}
