import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@linewatch/protocol';
import { freePort, waitForPort } from '../support/ports.js';
import { requireServices } from '../support/services.js';

// Mosquitto being up on 1883 means its binaries are installed; this test starts a broker of its own.
const ok = await requireServices('mosquitto');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = path.join(ROOT, 'deploy', 'mosquitto');
const LINE = 'fab1';
const PASSWORDS = { simulator: 'sim-secret-1', detector: 'det-secret-2', api: 'api-secret-3', monitor: 'mon-secret-4' };


/**
 * The compose stack's broker rules, for real: deploy/mosquitto/entrypoint.sh (the very script the compose file runs)
 * writes the password file and the ACL from env, and starts Mosquitto on a port of its own here.
 */
describe.skipIf(!ok)('Mosquitto users and ACL of the compose stack (deploy/mosquitto)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-acl-'));
  const clients: MqttClient[] = [];
  let broker: ChildProcess;
  let url = '';
  let log = '';

  const connect = async (user: keyof typeof PASSWORDS | null, password?: string): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: `acl-${user ?? 'anon'}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...(user ? { username: `linewatch-${user}`, password: password ?? PASSWORDS[user] } : {}),
    });
    clients.push(client);
    return client;
  };

  /** What `reader` receives on `filter` while `writer` publishes `topic` at QoS 1; the PUBACK's verdict too. */
  async function attempt(writer: MqttClient, reader: MqttClient, filter: string, topic: string): Promise<{ delivered: boolean; refused: boolean }> {
    const body = `probe-${Math.random()}`;
    let delivered = false;
    const onMessage = (t: string, payload: Buffer) => {
      if (t === topic && payload.toString() === body) delivered = true;
    };
    reader.on('message', onMessage);
    await reader.subscribeAsync(filter, { qos: 1 });
    let refused = false;
    await writer.publishAsync(topic, body, { qos: 1 }).catch(() => (refused = true));
    await new Promise((r) => setTimeout(r, 400));
    reader.off('message', onMessage);
    await reader.unsubscribeAsync(filter);
    return { delivered, refused };
  }

  beforeAll(async () => {
    const port = await freePort();
    writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${dir}/passwd`, `acl_file ${dir}/acl`, 'persistence false', 'user root', 'log_dest stderr'].join('\n'),
    );
    broker = spawn('sh', [path.join(DEPLOY, 'entrypoint.sh')], {
      env: {
        PATH: `${process.env.PATH ?? ''}:/usr/sbin`,
        MOSQUITTO_CONFIG_DIR: DEPLOY,
        MOSQUITTO_DATA_DIR: dir,
        MOSQUITTO_CONF: path.join(dir, 'mosquitto.conf'),
        LINE,
        MQTT_SIMULATOR_PASSWORD: PASSWORDS.simulator,
        MQTT_DETECTOR_PASSWORD: PASSWORDS.detector,
        MQTT_API_PASSWORD: PASSWORDS.api,
        // Read from a file, as a docker secret is.
        MQTT_MONITOR_PASSWORD_FILE: path.join(dir, 'monitor.secret'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    writeFileSync(path.join(dir, 'monitor.secret'), PASSWORDS.monitor);
    broker.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    broker.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    url = `mqtt://127.0.0.1:${port}`;
    await waitForPort(port, { timeoutMs: 5_000, exited: () => broker.exitCode !== null, log: () => log });
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    broker?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connect(null)).rejects.toThrow();
    await expect(connect('detector', 'not-the-password')).rejects.toThrow();
  });

  it('lets the simulator publish telemetry, and nothing a detector or the API says', async () => {
    const simulator = await connect('simulator');
    const detector = await connect('detector');
    const api = await connect('api');
    expect(await attempt(simulator, detector, topics.all('telemetry', LINE), topics.telemetry(LINE, 'etch-01'))).toEqual({ delivered: true, refused: false });
    for (const kind of ['status', 'anomaly', 'wafer', 'command'] as const) {
      expect(await attempt(simulator, api, topics.all(kind, LINE), topics[kind](LINE, 'etch-01')), kind).toEqual({ delivered: false, refused: true });
    }
    // Nor can it claim a detector is healthy.
    expect(await attempt(simulator, api, topics.allHealth, topics.health('detector', 'd0'))).toEqual({ delivered: false, refused: true });
  });

  it('lets the detector read telemetry (shared subscription too) and publish verdicts, but not fake readings', async () => {
    const simulator = await connect('simulator');
    const detector = await connect('detector');
    const api = await connect('api');
    expect(await attempt(simulator, detector, topics.shared('detectors', topics.all('telemetry', LINE)), topics.telemetry(LINE, 'cmp-01')).then((r) => r.delivered)).toBe(true);
    expect(await attempt(detector, api, topics.all('status', LINE), topics.status(LINE, 'cmp-01'))).toEqual({ delivered: true, refused: false });
    expect(await attempt(detector, api, topics.deadLetter, topics.deadLetter)).toEqual({ delivered: true, refused: false });
    expect(await attempt(detector, api, topics.allHealth, topics.health('detector', 'd0'))).toEqual({ delivered: true, refused: false });
    expect(await attempt(detector, api, topics.all('telemetry', LINE), topics.telemetry(LINE, 'cmp-01'))).toEqual({ delivered: false, refused: true });
  });

  it('lets the API send commands and play into the replay line only, never the live line', async () => {
    const detector = await connect('detector');
    const api = await connect('api');
    expect(await attempt(api, detector, topics.all('command', LINE), topics.command(LINE, 'etch-01'))).toEqual({ delivered: true, refused: false });
    expect(await attempt(api, detector, topics.all('telemetry', `${LINE}-replay`), topics.telemetry(`${LINE}-replay`, 'etch-01'))).toEqual({ delivered: true, refused: false });
    expect(await attempt(api, detector, topics.all('telemetry', LINE), topics.telemetry(LINE, 'etch-01'))).toEqual({ delivered: false, refused: true });
  });

  it('lets the healthcheck read the broker uptime and nothing of the line', async () => {
    const monitor = await connect('monitor');
    const uptime = new Promise<string>((resolve) => monitor.on('message', (t, payload) => (t === '$SYS/broker/uptime' ? resolve(payload.toString()) : undefined)));
    await monitor.subscribeAsync('$SYS/broker/uptime', { qos: 0 });
    expect(await uptime).toMatch(/\d+ seconds/);
    const simulator = await connect('simulator');
    expect(await attempt(simulator, monitor, topics.all('telemetry', LINE), topics.telemetry(LINE, 'etch-01')).then((r) => r.delivered)).toBe(false);
  });
});
