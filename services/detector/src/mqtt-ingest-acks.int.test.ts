/**
 * Late acknowledgement on the real broker: a QoS 1 message is acknowledged only once `durable()` says its points
 * are safe, and then it is. Seen from outside, by the broker: what was not acknowledged is delivered again after
 * a reconnect; what was, is not.
 */
import { topics } from '@linewatch/protocol';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { loadDetectorConfig } from './config.js';
import { DeadLetterer } from './dead-letter.js';
import { EventBus } from './event-bus.js';
import { DetectorMetrics } from './metrics.js';
import { MqttIngest } from './mqtt-ingest.js';

const ok = await requireServices('mosquitto');
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const line = `acks-${runId}`;
const clientId = `lw-acks-${runId}`;

describe.skipIf(!ok)('MqttIngest acknowledges a message only once it is durable (real Mosquitto)', () => {
  const logger = pino({ level: 'silent' });
  const metrics = new DetectorMetrics();
  const bus = new EventBus(logger, metrics);
  /** Every delivery of each seq, redeliveries included. */
  const deliveries = new Map<number, number>();
  bus.on('telemetry', ({ telemetry }) => {
    deliveries.set(telemetry.seq, (deliveries.get(telemetry.seq) ?? 0) + 1);
  });
  let release: (() => void) | undefined;
  let held = true;
  const ingest = new MqttIngest({
    config: loadDetectorConfig({ MQTT_URL: TEST_MQTT_URL, MQTT_CLIENT_ID: clientId, LINE: line, MAX_RATE_PER_STATION: '0' }),
    bus, metrics, logger,
    deadLetters: new DeadLetterer({ logger, metrics, publish: () => undefined, service: 'detector' }),
    backpressure: () => false,
    waitForRoom: async () => undefined,
    // The store's answer, under the test's control: while held, nothing is durable.
    durable: () => (held ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()),
  });
  const publisher = mqtt.connectAsync(TEST_MQTT_URL, { clientId: `${clientId}-pub`, clean: true });

  /** Drops the ingest's TCP connection without a DISCONNECT; mqtt.js reconnects with its session. */
  const cutConnection = async (): Promise<void> => {
    const client = (ingest as unknown as { client: mqtt.MqttClient }).client;
    client.stream.destroy();
    await until('the ingest reconnected', () => !client.connected, { timeoutMs: 2_000, intervalMs: 5 });
    await until('the ingest reconnected', () => client.connected, { timeoutMs: 15_000, intervalMs: 20 });
  };

  afterAll(async () => {
    await ingest.stop(true).catch(() => undefined);
    await (await publisher).endAsync();
    // End the persistent session, so the shared broker forgets this run.
    const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId, clean: true }).catch(() => undefined);
    await cleaner?.endAsync();
  });

  it('redelivers what is not yet durable after a reconnect, and nothing once it was acknowledged', { timeout: 60_000 }, async () => {
    await ingest.start();
    const pub = await publisher;
    const payload = (seq: number) => JSON.stringify({ ts: Date.now(), seq, values: { a: seq } });
    for (let seq = 0; seq < 20; seq++) await pub.publishAsync(topics.telemetry(line, 'etch-01'), payload(seq), { qos: 1 });
    await until('all 20 delivered once', () => deliveries.size === 20, { timeoutMs: 5_000 });
    expect([...deliveries.values()].every((n) => n === 1)).toBe(true);

    // Not durable yet, so not acknowledged: the broker delivers every one again on the next connection.
    await cutConnection();
    await until('all 20 delivered again', () => [...deliveries.values()].every((n) => n === 2), {
      timeoutMs: 10_000, progress: () => Object.fromEntries(deliveries),
    });

    // Durable now: the pending acks go out (those of the current connection; the old ones were redelivered).
    held = false;
    release?.();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await cutConnection();
    // Nothing comes back: give the broker time to redeliver, then check nothing did.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect([...deliveries.values()].every((n) => n === 2), JSON.stringify(Object.fromEntries(deliveries))).toBe(true);

    // And from now on a message is acknowledged as soon as it is durable.
    await pub.publishAsync(topics.telemetry(line, 'etch-01'), payload(20), { qos: 1 });
    await until('seq 20 delivered', () => deliveries.get(20) === 1, { timeoutMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cutConnection();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(deliveries.get(20)).toBe(1);
  });
});
