import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@linewatch/protocol';
import { brokerTlsFromEnv } from '@linewatch/protocol/node';
import { SqliteStore } from '@linewatch/store';
import { createApi, loadApiConfig, type Api } from '../../services/api/src/app.js';
import { loadDetectorConfig } from '../../services/detector/src/config.js';
import { loadSimConfig } from '../../simulators/src/config.js';
import { DEFAULT_LINE } from '../../simulators/src/line.js';
import { SimulatorRunner } from '../../simulators/src/runner.js';
import { LineSimulator } from '../../simulators/src/simulator.js';
import { freePort, waitForPort } from '../support/ports.js';
import { requireServices } from '../support/services.js';
import { until } from '../support/until.js';

// Mosquitto being up on 1883 means its binaries are installed; this test starts a TLS broker of its own.
const ok = await requireServices('mosquitto');
const LINE = `tls-${process.pid}`;


/** A CA, a broker certificate for 127.0.0.1 and a client certificate, made with openssl for this run only. */
function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=linewatch test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'linewatch-detector']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, ...(name === 'server' ? ['-extfile', 'san.ext'] : []));
  }
}

/**
 * Every service takes the broker's TLS settings from env (MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE): against a
 * real Mosquitto that serves TLS only and requires a client certificate, the API, the simulator and the detector's
 * settings connect, and a client without the CA or without a certificate does not.
 */
describe.skipIf(!ok)('broker TLS for every service (real Mosquitto, TLS only, client certificates required)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-tls-'));
  const clients: MqttClient[] = [];
  let broker: ChildProcess;
  let url = '';
  let env: Record<string, string> = {};
  let api: Api | undefined;
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));

  beforeAll(async () => {
    makeCertificates(dir);
    const port = await freePort();
    writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [`listener ${port} 127.0.0.1`, `cafile ${dir}/ca.crt`, `certfile ${dir}/server.crt`, `keyfile ${dir}/server.key`, 'require_certificate true', 'allow_anonymous true', 'persistence false', 'user root'].join('\n'),
    );
    broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin` }, stdio: 'ignore' });
    url = `mqtts://127.0.0.1:${port}`;
    env = { MQTT_URL: url, MQTT_CA_FILE: path.join(dir, 'ca.crt'), MQTT_CERT_FILE: path.join(dir, 'client.crt'), MQTT_KEY_FILE: path.join(dir, 'client.key'), LINE };
    await waitForPort(port, { exited: () => broker.exitCode !== null });
    await store.init();
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await api?.stop();
    await store.close();
    broker?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a client that does not know the CA, and one without a certificate', async () => {
    const attempt = (options: mqtt.IClientOptions) => mqtt.connectAsync(url, { ...options, reconnectPeriod: 0, connectTimeout: 3_000 }, false);
    await expect(attempt({})).rejects.toThrow();
    await expect(attempt({ ca: brokerTlsFromEnv(env).ca })).rejects.toThrow();
  });

  it('the API connects with MQTT_CA_FILE, MQTT_CERT_FILE and MQTT_KEY_FILE, and is ready', async () => {
    api = createApi(loadApiConfig({ ...env, ALERTS_DB_PATH: ':memory:', PORT: '0' }), { store, logger: pino({ level: 'silent' }) });
    const { port } = await api.start();
    await until('the API ready on the TLS broker', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, { timeoutMs: 10_000, intervalMs: 100 });
    expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toMatchObject({ broker: true });
  });

  it('the simulator publishes over TLS, and the detector’s settings read it', async () => {
    const detector = loadDetectorConfig({ ...env, MODELS_DIR: dir });
    const reader = await mqtt.connectAsync(url, { ...detector.mqtt.tls, clientId: `tls-reader-${process.pid}`, reconnectPeriod: 0 });
    clients.push(reader);
    let telemetry = 0;
    reader.on('message', (topic) => (topic.endsWith('/telemetry') ? telemetry++ : undefined));
    await reader.subscribeAsync(topics.all('telemetry', LINE), { qos: 1 });
    const sim = loadSimConfig(['--line', LINE, '--duration', '2', '--fast'], env);
    const runner = new SimulatorRunner({
      simulator: new LineSimulator({ line: { ...DEFAULT_LINE, line: LINE }, scenario: { faults: [] }, seed: 1, rateHz: 10, startTs: Date.now() }),
      mqttUrl: sim.mqttUrl,
      logger: pino({ level: 'silent' }),
      realtime: false,
      durationMs: 2_000,
      tls: sim.mqttTls,
    });
    await runner.start();
    await runner.done();
    await runner.stop();
    expect(runner.stats.publishErrors).toBe(0);
    await until('the simulator’s telemetry at the reader', () => telemetry >= runner.stats.telemetry, { timeoutMs: 5_000, intervalMs: 50 });
    expect(telemetry).toBe(runner.stats.telemetry);
  });

  it('says plainly when a TLS setting cannot be used, instead of connecting without it', () => {
    expect(() => loadApiConfig({ ...env, MQTT_CA_FILE: path.join(dir, 'missing.crt') })).toThrow(/MQTT_CA_FILE: cannot read .*missing\.crt \(ENOENT\)/);
    expect(() => loadDetectorConfig({ ...env, MQTT_KEY_FILE: '' })).toThrow(/MQTT_CERT_FILE and MQTT_KEY_FILE go together/);
    expect(brokerTlsFromEnv({ MQTT_TLS_INSECURE: 'true' })).toEqual({ rejectUnauthorized: false });
    expect(() => brokerTlsFromEnv({ MQTT_TLS_INSECURE: 'yes' })).toThrow(/MQTT_TLS_INSECURE must be true or false/);
  });
});
