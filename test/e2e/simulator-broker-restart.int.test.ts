import { TelemetrySchema, parseTopic, topics } from '@linewatch/protocol';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LINE, type LineDef } from '../../simulators/src/line.js';
import { SimulatorRunner } from '../../simulators/src/runner.js';
import { LineSimulator, type LineSimulatorOptions } from '../../simulators/src/simulator.js';
import { capturedLogger } from '../support/captured-logger.js';
import { OwnMosquitto } from '../support/own-mosquitto.js';
import { requireServices } from '../support/services.js';
import { until } from '../support/until.js';

// Mosquitto being up on 1883 means its binaries are installed; this test restarts a broker of its own, never that one.
const ok = await requireServices('mosquitto');

const RATE_HZ = 10;
const DURATION_MS = 12_000;
/** Wall-clock time after the runner started at which the broker gets SIGTERM, and how long it stays down. */
const OUTAGE_AT_MS = 4_000;
const OUTAGE_MS = 3_000;
const START_TS = 1_764_400_000_000;

interface LogLine { msg: string; time: number }

describe.skipIf(!ok)('the simulator across a Mosquitto restart (issue #7)', () => {
  // Three stations keep the test light; the scenario has no faults, so every station reads on every tick.
  const line: LineDef = { line: `simrestart${Date.now()}`, stations: DEFAULT_LINE.stations.filter((s) => ['etch-01', 'deposition-01', 'cmp-01'].includes(s.id)) };
  const stationIds = line.stations.map((s) => s.id);
  const options: LineSimulatorOptions = { line, scenario: { faults: [] }, seed: 5, rateHz: RATE_HZ, startTs: START_TS };
  const broker = new OwnMosquitto();
  // The runner's own log tells when it noticed the outage and when it reconnected.
  const { logger, logs } = capturedLogger<LogLine>();

  // What the persistent subscriber saw: every telemetry seq per station, duplicates, meta/state, and when.
  const seqs = new Map<string, Set<number>>(stationIds.map((s) => [s, new Set<number>()]));
  let telemetryReceived = 0;
  let duplicates = 0;
  let invalid = 0;
  const telemetryTimes: number[] = [];
  const metaReceived = new Map<string, number>();
  const stateReceived = new Map<string, number>();
  const subscriberConnacks: IConnackPacket[] = [];
  let subscriber: MqttClient | undefined;
  let lateSubscriber: MqttClient | undefined;
  let runner: SimulatorRunner | undefined;

  beforeAll(async () => {
    await broker.start();
    // A consumer with a persistent session: the broker queues QoS 1 messages for it while it is away and keeps
    // that queue across its own restart (persistence on). mqtt.js reconnects it by itself (reconnectPeriod 1 s).
    subscriber = await mqtt.connectAsync(broker.url, { clientId: `lw-simrestart-sub-${process.pid}`, clean: false, connectTimeout: 2000 });
    subscriber.on('connect', (connack) => subscriberConnacks.push(connack));
    subscriber.on('message', (topic, payload) => {
      const parsed = parseTopic(topic);
      if (!parsed) return;
      const count = (m: Map<string, number>) => m.set(parsed.station, (m.get(parsed.station) ?? 0) + 1);
      switch (parsed.kind) {
        case 'telemetry': {
          const reading = TelemetrySchema.safeParse(JSON.parse(payload.toString()));
          if (!reading.success) {
            invalid++;
            return;
          }
          telemetryReceived++;
          telemetryTimes.push(Date.now());
          const seen = seqs.get(parsed.station);
          if (!seen) {
            invalid++;
          } else if (seen.has(reading.data.seq)) {
            duplicates++;
          } else {
            seen.add(reading.data.seq);
          }
          break;
        }
        case 'meta':
          count(metaReceived);
          break;
        case 'state':
          count(stateReceived);
          break;
        default:
          break;
      }
    });
    await subscriber.subscribeAsync([topics.all('telemetry', line.line), topics.all('meta', line.line), topics.all('state', line.line)], { qos: 1 });
  });

  afterAll(async () => {
    await runner?.stop();
    await lateSubscriber?.endAsync(true);
    await subscriber?.endAsync(true);
    await broker.dispose();
  });

  it('keeps publishing through a broker restart by itself and every telemetry seq reaches a persistent QoS 1 subscriber', async () => {
    runner = new SimulatorRunner({
      simulator: new LineSimulator(options), mqttUrl: broker.url, logger, realtime: true, durationMs: DURATION_MS, clientId: `lw-simrestart-pub-${process.pid}`,
    });
    await runner.start();
    const began = Date.now();
    const stats = runner.stats;

    await new Promise((r) => setTimeout(r, OUTAGE_AT_MS));
    const telemetryBeforeOutage = stats.telemetry;
    await broker.stop();
    const downAt = Date.now();
    await until('the runner to see the broker gone', () => logs.some((l) => l.msg.startsWith('mqtt offline')), { timeoutMs: OUTAGE_MS });
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + OUTAGE_MS - Date.now())));
    // Readings the runner generated while it had no broker: mqtt.js must hold them and send them after reconnecting.
    const telemetryDuringOutage = stats.telemetry - telemetryBeforeOutage;
    const startAt = Date.now();
    await broker.start();
    const portOpenAt = Date.now();

    await until('the runner to finish its bounded run', async () => {
      const finished = await Promise.race([runner!.done().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
      return finished;
    }, { timeoutMs: DURATION_MS + 20_000, progress: () => ({ ...stats }) });
    await runner.stop();
    const ranMs = Date.now() - began;

    // The same simulation offline, for as many ticks as the runner ran, is exactly what it should have published.
    const reference = new LineSimulator(options);
    const expected = new Map<string, number[]>(stationIds.map((s) => [s, []]));
    let expectedMessages = reference.initialMessages().length;
    for (let i = 0; i < stats.ticks; i++) {
      for (const m of reference.tick()) {
        expectedMessages++;
        const parsed = parseTopic(m.topic);
        if (parsed?.kind === 'telemetry') expected.get(parsed.station)!.push(TelemetrySchema.parse(m.payload).seq);
      }
    }
    const sent = [...expected.values()].reduce((n, list) => n + list.length, 0);
    const distinct = () => [...seqs.values()].reduce((n, s) => n + s.size, 0);
    await until('every telemetry seq at the subscriber', () => distinct() >= sent, {
      timeoutMs: 15_000, progress: () => ({ distinct: distinct(), sent, duplicates }),
    });
    await new Promise((r) => setTimeout(r, 300)); // a late duplicate would still be counted

    // A consumer that connects only now, with a clean session, finds the retained meta and state of every station.
    const retained = new Map<string, Set<string>>();
    lateSubscriber = await mqtt.connectAsync(broker.url, { clientId: `lw-simrestart-late-${process.pid}`, clean: true, connectTimeout: 2000 });
    lateSubscriber.on('message', (topic, _payload, packet) => {
      const parsed = parseTopic(topic);
      if (parsed && packet.retain) retained.set(parsed.kind, (retained.get(parsed.kind) ?? new Set()).add(parsed.station));
    });
    await lateSubscriber.subscribeAsync([topics.all('meta', line.line), topics.all('state', line.line)], { qos: 1 });
    await until('retained meta and state of every station', () => retained.get('meta')?.size === stationIds.length && retained.get('state')?.size === stationIds.length, {
      timeoutMs: 5_000, progress: () => Object.fromEntries([...retained].map(([k, v]) => [k, [...v]])),
    });

    const firstAfterRestart = telemetryTimes.find((t) => t > downAt);
    const reconnectedAt = logs.find((l) => l.msg.startsWith('mqtt reconnected') && l.time >= downAt)?.time;
    const missing = Object.fromEntries(
      stationIds.map((s) => [s, expected.get(s)!.filter((seq) => !seqs.get(s)!.has(seq))] as const).filter(([, lost]) => lost.length > 0),
    );
    const report = {
      fault: 'broker restart under the simulator',
      downMs: startAt - downAt,
      sent,
      received: telemetryReceived,
      duplicates,
      recoverMs: firstAfterRestart === undefined ? null : firstAfterRestart - startAt,
      portOpenMs: portOpenAt - startAt,
      runnerReconnectMs: reconnectedAt === undefined ? null : reconnectedAt - startAt,
      telemetryDuringOutage,
      ticks: stats.ticks,
      ranMs,
      stats: { ...stats },
      missing,
    };
    console.log(`RELIABILITY ${JSON.stringify(report)}`);

    // Nothing lost: per station, every seq the simulator generated (0..last, no gap) arrived at least once.
    expect(missing, 'telemetry seqs never received').toEqual({});
    for (const s of stationIds) {
      const seen = seqs.get(s)!;
      expect(expected.get(s), `${s}: the simulator numbers its readings 0..n-1`).toEqual([...Array(expected.get(s)!.length).keys()]);
      expect(Math.max(...seen) + 1, `${s}: highest seq received vs readings generated`).toBe(expected.get(s)!.length);
      expect(seen.size, `${s}: distinct seqs`).toBe(expected.get(s)!.length);
    }
    expect(invalid).toBe(0);
    // QoS 1 is at least once: duplicates are allowed, and every one is a re-delivery of a seq already counted.
    expect(telemetryReceived).toBe(sent + duplicates);

    // The runner's own account agrees: it ran the whole bounded run and the broker acknowledged every publish.
    expect(stats.ticks).toBe((DURATION_MS * RATE_HZ) / 1000);
    expect(stats.telemetry).toBe(sent);
    expect(stats.publishErrors, 'publishes whose callback failed: the runner does not retry these').toBe(0);
    // reconnects counts 'connect' events after the first (the listener is added once start() has connected), so
    // one outage is exactly one reconnect; each reconnect republishes meta and state once.
    expect(stats.reconnects).toBe(1);
    expect(stats.published).toBe(expectedMessages + stats.reconnects * reference.initialMessages().length);
    // The outage really happened under the runner: it kept generating readings while the broker was gone.
    expect(telemetryDuringOutage).toBeGreaterThan(0);
    expect(firstAfterRestart, 'telemetry received after the restart').toBeDefined();

    // The persistent subscriber reconnected by itself, and the persisted broker had kept its session.
    expect(subscriberConnacks.length, 'subscriber reconnects').toBeGreaterThanOrEqual(1);
    expect(subscriberConnacks[0]?.sessionPresent, 'session kept across the restart').toBe(true);
    // It saw meta at the start and again when the runner republished it on reconnect.
    for (const s of stationIds) expect(metaReceived.get(s) ?? 0, `${s}: meta messages`).toBeGreaterThanOrEqual(2);
    for (const s of stationIds) expect(stateReceived.get(s) ?? 0, `${s}: state messages`).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
