/**
 * Detector health (issue #7) through the real API: retained ServiceHealth on real Mosquitto reaches the snapshot and
 * the `services` socket event; other lines' health and malformed payloads stay out; a detector the broker loses
 * shows as offline through its last will; an empty retained payload clears it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { topics, type ClientToServerEvents, type LineSnapshot, type ServerToClientEvents, type ServiceHealth } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { detectorStation } from './alerts/observations.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { serviceHealth, uniqueLine } from './testing/fixtures.js';

const ok = await requireServices('mosquitto');


const connectMqtt = (id: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> =>
  mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-health-test-${id}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0, ...opts });

describe.skipIf(!ok)('detector health through the API (real Mosquitto, real socket.io)', () => {
  const line = uniqueLine('svchealth');
  /** Instance ids unique to this run, so retained health of other runs on the shared broker cannot match. */
  const instance = (name: string) => `${line}-${name}`;
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
  /** Every retained health topic this file sets, cleared in afterAll. */
  const retained = new Set<string>();
  const events: ServiceHealth[][] = [];
  let pub: MqttClient;
  let api: Api;
  let url = '';
  let client: Socket<ServerToClientEvents, ClientToServerEvents>;

  async function publishHealth(topicInstance: string, payload: ServiceHealth | string): Promise<void> {
    const topic = topics.health('detector', topicInstance);
    retained.add(topic);
    await pub.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, retain: true });
  }

  async function snapshot(): Promise<LineSnapshot> {
    const next = new Promise<LineSnapshot>((resolve) => client.once('snapshot', resolve));
    client.emit('resync');
    return next;
  }

  const mine = (services: readonly ServiceHealth[] | undefined, id: string) => services?.find((s) => s.instance === id);

  async function metric(name: string, kind: string): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = new RegExp(`${name}\\{kind="${kind}"\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  }

  beforeAll(async () => {
    await store.init();
    pub = await connectMqtt('pub');
    api = createApi(loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, ALERT_FOR_MS: '500' }), { store, logger: pino({ level: 'silent' }) });
    url = (await api.start()).url;
    client = connectSocket(url, { transports: ['websocket'], reconnection: false });
    client.on('services', (services) => events.push(services));
    await new Promise<void>((resolve) => client.once('snapshot', () => resolve()));
  });

  afterAll(async () => {
    client?.close();
    await api?.stop();
    for (const topic of retained) await pub?.publishAsync(topic, '', { qos: 1, retain: true });
    await pub?.endAsync();
    await store.close();
  });

  it('puts a retained degraded health of its line into the snapshot and sends it as a services event', async () => {
    const id = instance('degraded');
    const storage = { state: 'degraded' as const, failing: true, buffered: 120, journalBytes: 40_960, journalPoints: 512, droppedJournalFull: 0 };
    const sent = serviceHealth(line, id, { state: 'degraded', reason: 'store writes failing; 512 points in the journal waiting for the store', storage });
    await publishHealth(id, sent);
    await vi.waitFor(() => expect(mine(events.at(-1), id)).toEqual(sent), { timeout: 5_000 });
    expect(mine((await snapshot()).services, id)).toEqual(sent);
    expect(await metric('linewatch_api_mqtt_messages_total', 'health')).toBeGreaterThan(0);
  });

  it('ignores health of a detector that serves another line, keeps one that serves every line', async () => {
    const other = instance('other-line');
    const everyLine = instance('every-line');
    await publishHealth(other, serviceHealth(`${line}-elsewhere`, other, { state: 'offline', reason: 'stopped' }));
    // Published after the other line's on the same connection: once it is seen, the other one has been handled.
    await publishHealth(everyLine, serviceHealth('+', everyLine));
    await vi.waitFor(() => expect(mine(events.at(-1), everyLine)?.state).toBe('ok'), { timeout: 5_000 });
    const snap = await snapshot();
    expect(mine(snap.services, everyLine)?.line).toBe('+');
    expect(mine(snap.services, other)).toBeUndefined();
    expect(events.some((e) => mine(e, other))).toBe(false);
  });

  it('rejects and counts malformed health, stays up, and still applies good health after it', async () => {
    const bad = instance('malformed');
    const before = await metric('linewatch_api_mqtt_rejects_total', 'health');
    await publishHealth(bad, 'not json{');
    await publishHealth(bad, JSON.stringify({ ...serviceHealth(line, bad), state: 'great' }));
    await publishHealth(bad, JSON.stringify({ ...serviceHealth(line, bad), service: 'api' }));
    const good = instance('after-malformed');
    await publishHealth(good, serviceHealth(line, good));
    await vi.waitFor(() => expect(mine(events.at(-1), good)?.state).toBe('ok'), { timeout: 5_000 });
    await vi.waitFor(async () => expect((await metric('linewatch_api_mqtt_rejects_total', 'health')) - before).toBe(3), { timeout: 5_000 });
    expect(mine((await snapshot()).services, bad)).toBeUndefined();
    expect(events.some((e) => mine(e, bad))).toBe(false);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('reports a detector offline, stamped when the API saw it, when the broker publishes its last will', async () => {
    // A topic-unsafe instance, as a host:pid might be: the topic is made safe, the payload keeps the name.
    const id = `${instance('will')}:4711`;
    const topic = topics.health('detector', id);
    retained.add(topic);
    // The will is built at connect time, so its ts is old by the time the broker sends it.
    const connectedAt = Date.now() - 3_600_000;
    const will = serviceHealth(line, id, { state: 'offline', ts: connectedAt, reason: 'connection to the broker lost without a clean stop' });
    const detector = await connectMqtt('will', { will: { topic, payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true } });
    detector.on('error', () => undefined);
    await detector.publishAsync(topic, JSON.stringify(serviceHealth(line, id)), { qos: 1, retain: true });
    await vi.waitFor(() => expect(mine(events.at(-1), id)?.state).toBe('ok'), { timeout: 5_000 });

    // No DISCONNECT packet: the broker sees the TCP connection die and publishes the will.
    const lostAt = Date.now();
    detector.stream.destroy();
    await vi.waitFor(() => expect(mine(events.at(-1), id)?.state).toBe('offline'), { timeout: 10_000 });
    const offline = mine((await snapshot()).services, id);
    expect(offline).toMatchObject({ instance: id, line, state: 'offline', reason: will.reason });
    expect(offline?.ts).toBeGreaterThanOrEqual(lostAt);
    expect(offline?.ts).toBeLessThanOrEqual(Date.now());
    // Nobody may be watching the line now: after ALERT_FOR_MS it is a critical alert, which pages (webhooks).
    const station = detectorStation(id);
    await vi.waitFor(async () => {
      const alert = (await snapshot()).alerts?.find((a) => a.station === station && a.source === 'detector/offline');
      expect(alert).toMatchObject({ line, state: 'firing', severity: 'critical', class: 'data_quality' });
    }, { timeout: 10_000, interval: 250 });
    detector.end(true);
  });

  it('forgets an instance when its retained health is cleared with an empty payload', async () => {
    const id = instance('cleared');
    await publishHealth(id, serviceHealth(line, id, { state: 'degraded', storage: { state: 'degraded', failing: false, buffered: 0, journalBytes: 100, journalPoints: 7, droppedJournalFull: 0 } }));
    await vi.waitFor(() => expect(mine(events.at(-1), id)?.state).toBe('degraded'), { timeout: 5_000 });
    const seen = events.length;
    await pub.publishAsync(topics.health('detector', id), '', { qos: 1, retain: true });
    await vi.waitFor(() => expect(events.length).toBeGreaterThan(seen), { timeout: 5_000 });
    expect(mine(events.at(-1), id)).toBeUndefined();
    const snap = await snapshot();
    expect(mine(snap.services, id)).toBeUndefined();
    // The others of this run are untouched.
    expect(mine(snap.services, instance('degraded'))?.state).toBe('degraded');
  });
});
