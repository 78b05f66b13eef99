import { cappedReconnect, redactUrl } from '@linewatch/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { LineSimulator, SimMessage } from './simulator.js';
import type { BrokerTls } from '@linewatch/protocol/node';

export interface SimulatorRunnerDeps {
  simulator: LineSimulator;
  mqttUrl: string;
  logger: Logger;
  /** Pace ticks to the wall clock; false publishes as fast as the broker acknowledges. */
  realtime: boolean;
  /** Simulated run length; omitted runs until stop(). */
  durationMs?: number;
  clientId?: string;
  /** Broker credentials; never logged. */
  username?: string | undefined;
  password?: string | undefined;
  /** For an mqtts:// broker (CA, client certificate). */
  tls?: BrokerTls | undefined;
  /** Unacknowledged QoS 1 publishes allowed at once: the backpressure bound. */
  maxInflight?: number;
}

const CONNECT_TIMEOUT_MS = 10_000;
const STOP_DRAIN_TIMEOUT_MS = 5_000;
/** In realtime mode, the most ticks run to catch up after the event loop stalled. */
const MAX_CATCH_UP_TICKS = 1000;

/** Publishes a LineSimulator to an MQTT broker, paced to the wall clock or as fast as acknowledged. */
export class SimulatorRunner {
  readonly stats = { published: 0, publishErrors: 0, ticks: 0, telemetry: 0, reconnects: 0, peakInflight: 0 };
  private client: MqttClient | undefined;
  private running = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private inflight = 0;
  private slotWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private finished: Promise<void>;
  private finish!: () => void;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: SimulatorRunnerDeps) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  async start(): Promise<void> {
    const log = this.deps.logger;
    const client = cappedReconnect(mqtt.connect(this.deps.mqttUrl, {
      clientId: this.deps.clientId ?? `linewatch-sim-${process.pid}`,
      clean: true,
      reconnectPeriod: 1000,
      ...(this.deps.username ? { username: this.deps.username } : {}),
      ...(this.deps.password ? { password: this.deps.password } : {}),
      ...this.deps.tls,
      connectTimeout: CONNECT_TIMEOUT_MS,
    }));
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no MQTT connection to ${redactUrl(this.deps.mqttUrl)} within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      const fail = (err: Error) => {
        clearTimeout(timer);
        client.end(true);
        reject(new Error(`simulator cannot connect to ${redactUrl(this.deps.mqttUrl)}`, { cause: err }));
      };
      client.once('connect', () => {
        clearTimeout(timer);
        client.removeListener('error', fail);
        resolve();
      });
      client.once('error', fail);
    });
    client.on('error', (err) => log.warn({ err }, 'mqtt error'));
    client.on('offline', () => log.warn('mqtt offline; QoS 1 publishes are kept and resent on reconnect'));
    client.on('connect', () => {
      // A broker without persistence forgets retained meta/state: give it the current picture again.
      this.stats.reconnects += 1;
      log.info('mqtt reconnected; republishing meta and state');
      for (const m of this.deps.simulator.initialMessages()) void this.publish(m);
    });
    for (const m of this.deps.simulator.initialMessages()) await this.publish(m);
    this.running = true;
    log.info({ realtime: this.deps.realtime, durationMs: this.deps.durationMs }, 'simulator started');
    this.loop = (this.deps.realtime ? this.runRealtime() : this.runFast()).then(
      () => this.drain(),
      (err: unknown) => log.error({ err }, 'simulator loop failed'),
    );
    void this.loop.finally(() => this.finish());
  }

  /** Resolves when a bounded run has published every message and the broker acknowledged all QoS 1 ones (or after stop()). */
  done(): Promise<void> {
    return this.finished;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.wake?.();
    this.slotWaiters.splice(0).forEach((w) => w());
    await this.loop;
    await Promise.race([this.drain(), new Promise((r) => setTimeout(r, STOP_DRAIN_TIMEOUT_MS).unref())]);
    if (this.inflight > 0) this.deps.logger.warn({ inflight: this.inflight }, 'stopping with unacknowledged publishes');
    await this.client?.endAsync(this.inflight > 0);
    this.client = undefined;
    this.finish();
    this.deps.logger.info({ ...this.stats }, 'simulator stopped');
  }

  private totalTicks(): number {
    if (this.deps.durationMs === undefined) return Infinity;
    return Math.round((this.deps.durationMs * this.deps.simulator.rateHz) / 1000);
  }

  private async runFast(): Promise<void> {
    const total = this.totalTicks();
    while (this.running && this.stats.ticks < total) {
      await this.runTick();
      // Publishes below the in-flight bound do not await, so let socket I/O and acks through regularly.
      if (this.stats.ticks % 32 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  private async runRealtime(): Promise<void> {
    const total = this.totalTicks();
    const periodMs = 1000 / this.deps.simulator.rateHz;
    const t0 = Date.now();
    while (this.running && this.stats.ticks < total) {
      const due = Math.min(total, Math.floor((Date.now() - t0) / periodMs));
      let budget = MAX_CATCH_UP_TICKS;
      while (this.running && this.stats.ticks < due && budget-- > 0) await this.runTick();
      if (this.stats.ticks < due) {
        this.deps.logger.warn({ behind: due - this.stats.ticks }, 'cannot keep up with realtime; running late');
      }
      const wait = Math.max(0, t0 + (this.stats.ticks + 1) * periodMs - Date.now());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async runTick(): Promise<void> {
    const messages = this.deps.simulator.tick();
    this.stats.ticks += 1;
    for (const m of messages) {
      if (!this.running) return;
      await this.publish(m);
    }
  }

  private async publish(m: SimMessage): Promise<void> {
    const limit = this.deps.maxInflight ?? 500;
    while (this.inflight >= limit && !this.stopping) await new Promise<void>((r) => this.slotWaiters.push(r));
    const client = this.client;
    if (!client || this.stopping) return;
    if (m.topic.endsWith('/telemetry')) this.stats.telemetry += 1;
    this.inflight += 1;
    this.stats.peakInflight = Math.max(this.stats.peakInflight, this.inflight);
    client.publish(m.topic, JSON.stringify(m.payload), { qos: m.qos, retain: m.retain }, (err) => {
      this.inflight -= 1;
      if (err) {
        this.stats.publishErrors += 1;
        this.deps.logger.warn({ err, topic: m.topic }, 'publish failed');
      } else {
        this.stats.published += 1;
      }
      this.slotWaiters.shift()?.();
      if (this.inflight === 0) this.drainWaiters.splice(0).forEach((w) => w());
    });
  }

  private drain(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }
}
