import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { topics, type ClientToServerEvents, type ServerToClientEvents } from '@linewatch/protocol';
import type { LineDef } from '@linewatch/simulators';
import { InfluxDB } from 'influx';
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { REPO_ROOT, sleep, startApi, startDetector, stopChild, type DetectorProc } from '../bench/children.js';
import { initialMessages } from '../bench/snapshots.js';

/**
 * The soak's stack, as the compose layout runs it: the detector entry and the API entry as their own processes on
 * the shared Mosquitto and InfluxDB, plus one socket.io client watching a station (a dashboard with a station
 * view open), so the API's live readings path carries load too.
 */
export interface SoakStack {
  ctl: MqttClient;
  detector: DetectorProc;
  api: ChildProcess;
  apiPort: number;
  /** Readings the watching client received. */
  watched: { readings: number };
  /** Non-empty when a child died during the run. */
  failures: string[];
  stop(opts: { keepDatabase: boolean }): Promise<void>;
}

export interface SoakStackOptions {
  mqttUrl: string;
  influxUrl: string;
  database: string;
  line: LineDef;
  /** Files the children's stdout (JSON logs at warn) go to, so the table stays readable. */
  logPrefix: string;
}

/** Starts everything in order; on a failure, undoes what already started before throwing. */
export async function startSoakStack(opts: SoakStackOptions): Promise<SoakStack> {
  const undo: ((keepDatabase: boolean) => Promise<void>)[] = [];
  const failures: string[] = [];
  let stopping = false;
  const stop = async ({ keepDatabase }: { keepDatabase: boolean }): Promise<void> => {
    stopping = true;
    for (const step of undo.splice(0).reverse()) await step(keepDatabase).catch((err: unknown) => console.error('cleanup step failed:', err));
  };
  const lineId = opts.line.line;
  try {
    mkdirSync(path.dirname(opts.logPrefix), { recursive: true });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'linewatch-soak-'));
    undo.push(async () => rmSync(dir, { recursive: true, force: true }));
    const u = new URL(opts.influxUrl);
    const influx = new InfluxDB({ host: u.hostname, port: Number(u.port || 8086), protocol: u.protocol === 'https:' ? 'https' : 'http' });
    undo.push(async (keep) => {
      if (!keep) await influx.dropDatabase(opts.database);
    });

    const ctl = await mqtt.connectAsync(opts.mqttUrl, { clientId: `${lineId}-ctl`, clean: true, reconnectPeriod: 1000, connectTimeout: 5000 });
    undo.push(() => ctl.endAsync());
    const detectorId = `${lineId}-detector`;
    // Runs after the detector stopped: the retained meta, state and status of the line, and the detector's
    // persistent session on the broker (a clean connect under its id ends it).
    undo.push(async () => {
      for (const s of opts.line.stations) {
        for (const kind of ['meta', 'state', 'status'] as const) await ctl.publishAsync(topics[kind](lineId, s.id), '', { qos: 1, retain: true }).catch(() => undefined);
      }
      const session = await mqtt.connectAsync(opts.mqttUrl, { clientId: detectorId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 }).catch(() => undefined);
      await session?.endAsync();
    });
    // Before the detector starts, so it models every station from its first snapshot (as bench:pipeline does).
    for (const m of initialMessages(opts.line)) await ctl.publishAsync(m.topic, JSON.stringify(m.payload), { qos: 1, retain: m.retain });

    const detector = await startDetector(
      {
        MQTT_URL: opts.mqttUrl, MQTT_CLIENT_ID: detectorId, LINE: lineId, INFLUX_URL: opts.influxUrl, INFLUX_DATABASE: opts.database,
        // The repo's trained models, one per station type (as bench:pipeline uses them): every station is scored by ONNX.
        MODELS_DIR: path.join(REPO_ROOT, 'models'),
        JOURNAL_DIR: path.join(dir, 'journal'), WAFER_BASELINES_DIR: path.join(dir, 'wafer-baselines'), LOG_LEVEL: 'warn',
      },
      { pipeStdout: true },
    );
    detector.child.stdout?.pipe(createWriteStream(`${opts.logPrefix}-detector.log`));
    undo.push(() => stopChild(detector.child, 15_000));
    detector.child.once('exit', (code, signal) => {
      if (!stopping) failures.push(`detector exited (${code ?? signal}) during the run`);
    });

    const { child: api, port: apiPort } = await startApi(
      { INFLUX_URL: opts.influxUrl, INFLUX_DATABASE: opts.database, MQTT_URL: opts.mqttUrl, LINE: lineId },
      dir,
      { pipeStdout: true },
    );
    api.stdout?.pipe(createWriteStream(`${opts.logPrefix}-api.log`));
    undo.push(() => stopChild(api, 10_000));
    api.once('exit', (code, signal) => {
      if (!stopping) failures.push(`API exited (${code ?? signal}) during the run`);
    });

    const watched = { readings: 0 };
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(`http://127.0.0.1:${apiPort}`, { transports: ['websocket'], reconnectionDelayMax: 2000 });
    undo.push(async () => {
      socket.close();
      await sleep(500); // the API unsubscribes the station's telemetry before it is told to stop
    });
    socket.on('connect', () => socket.emit('watch', { line: lineId, station: opts.line.stations[0]!.id }));
    socket.on('readings', (batch) => {
      watched.readings += batch.readings.length;
    });
    return { ctl, detector, api, apiPort, watched, failures, stop };
  } catch (err) {
    await stop({ keepDatabase: false });
    throw err;
  }
}
