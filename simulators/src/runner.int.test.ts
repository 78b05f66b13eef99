import { TelemetrySchema, topics } from '@linewatch/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MQTT_URL, requireServices } from '../../test/support/services.js';
import { until } from '../../test/support/until.js';
import { DEFAULT_LINE, type LineDef } from './line.js';
import { SimulatorRunner } from './runner.js';
import type { Scenario } from './scenario.js';
import { LineSimulator } from './simulator.js';

const ok = await requireServices('mosquitto');
const logger = pino({ level: 'silent' });
const START = 1_764_400_000_000;

describe.skipIf(!ok)('SimulatorRunner against Mosquitto', () => {
  // A line id of its own, so parallel tests on the shared broker never see these messages.
  const line: LineDef = { ...DEFAULT_LINE, line: `simtest-${process.pid}` };
  const scenario: Scenario = { faults: [{ station: 'etch-01', type: 'tool_down', at: 5, duration: 10 }] };
  let subscriber: MqttClient;
  const received = new Map<string, string[]>();

  beforeAll(async () => {
    subscriber = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `simtest-sub-${process.pid}`, clean: true });
    subscriber.on('message', (topic, payload) => received.set(topic, [...(received.get(topic) ?? []), payload.toString()]));
    await subscriber.subscribeAsync(`linewatch/v1/${line.line}/#`, { qos: 1 });
  });

  afterAll(async () => {
    // Leave no retained meta/state behind on the shared broker.
    for (const s of line.stations) {
      await subscriber.publishAsync(topics.meta(line.line, s.id), '', { retain: true, qos: 1 });
      await subscriber.publishAsync(topics.state(line.line, s.id), '', { retain: true, qos: 1 });
    }
    await subscriber.endAsync();
  });

  it('a bounded fast run publishes every message; the subscriber receives exactly the simulated telemetry', async () => {
    const rateHz = 50;
    const durationMs = 40_000;
    const options = { line, scenario, seed: 3, rateHz, startTs: START };
    const runner = new SimulatorRunner({ simulator: new LineSimulator(options), mqttUrl: TEST_MQTT_URL, logger, realtime: false, durationMs, clientId: `simtest-pub-${process.pid}`, maxInflight: 64 });
    await runner.start();
    await runner.done();
    await runner.stop();

    // The same simulation offline gives the expected messages, byte for byte.
    const reference = new LineSimulator(options);
    const expected = new Map<string, string[]>();
    for (const m of reference.initialMessages()) expected.set(m.topic, [JSON.stringify(m.payload)]);
    for (let i = 0; i < (durationMs * rateHz) / 1000; i++) {
      for (const m of reference.tick()) expected.set(m.topic, [...(expected.get(m.topic) ?? []), JSON.stringify(m.payload)]);
    }
    const expectedTelemetry = [...expected].filter(([t]) => t.endsWith('/telemetry')).reduce((n, [, list]) => n + list.length, 0);
    const expectedTotal = [...expected.values()].reduce((n, list) => n + list.length, 0);
    expect(expectedTelemetry).toBe(8 * 2000 - 10 * rateHz);
    expect(runner.stats).toMatchObject({ published: expectedTotal, publishErrors: 0, telemetry: expectedTelemetry, ticks: 2000 });
    // Backpressure: never more unacknowledged QoS 1 publishes than allowed.
    expect(runner.stats.peakInflight).toBe(64);

    const count = () => [...received].filter(([t]) => t.endsWith('/telemetry')).reduce((n, [, list]) => n + list.length, 0);
    await until('every telemetry message at the subscriber', () => count() >= expectedTelemetry, { timeoutMs: 10_000, intervalMs: 50 });
    await new Promise((r) => setTimeout(r, 300)); // anything extra would show up here
    expect(count()).toBe(expectedTelemetry);
    for (const [topic, payloads] of expected) expect(received.get(topic), topic).toEqual(payloads);
    for (const p of received.get(topics.telemetry(line.line, 'cmp-01'))!) TelemetrySchema.parse(JSON.parse(p));
  });

  it('a realtime run paces ticks to the wall clock and stops on stop()', async () => {
    const rateHz = 20;
    const simulator = new LineSimulator({ line, scenario: { faults: [] }, seed: 4, rateHz, startTs: START });
    const runner = new SimulatorRunner({ simulator, mqttUrl: TEST_MQTT_URL, logger, realtime: true, clientId: `simtest-rt-${process.pid}` });
    const began = Date.now();
    await runner.start();
    // Wait for a count of ticks, not for a fixed time: a loaded machine only makes this slower. The bound is
    // 15x the paced time, so a runner that does not tick at all still fails.
    await until('20 realtime ticks', () => runner.stats.ticks >= 20, { timeoutMs: 15_000, intervalMs: 10 });
    await runner.stop();
    await runner.done();
    const elapsed = Date.now() - began;
    const ticks = runner.stats.ticks;
    // Paced, not fast: a tick is only due once its period has passed, so no more than the wall clock allows
    // (a fast run would be thousands of ticks by now). The +1 absorbs clock granularity.
    expect(ticks).toBeGreaterThanOrEqual(20);
    expect(ticks).toBeLessThanOrEqual(Math.ceil((elapsed / 1000) * rateHz) + 1);
    expect(runner.stats.publishErrors).toBe(0);
    // Stopped for good: a live realtime loop would catch up with the clock and tick ~10 more times in this wait.
    await new Promise((r) => setTimeout(r, 500));
    expect(runner.stats.ticks).toBe(ticks);
  });

  it('fails start() with a clear error when the broker is unreachable', async () => {
    const simulator = new LineSimulator({ line, scenario: { faults: [] }, seed: 1, rateHz: 1, startTs: START });
    const runner = new SimulatorRunner({ simulator, mqttUrl: 'mqtt://127.0.0.1:1', logger, realtime: false, durationMs: 1000 });
    await expect(runner.start()).rejects.toThrow(/cannot connect to mqtt:\/\/127\.0\.0\.1:1/);
  });
});
