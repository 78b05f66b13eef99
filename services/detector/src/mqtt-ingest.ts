import { CommandSchema, cappedReconnect, decodePayload, parseTopic, redactUrl, StateMessageSchema, StationMetaSchema, TelemetrySchema, topics, type ParsedTopic } from '@linewatch/protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { DetectorConfig } from './config.js';
import { FUTURE_TS_REASON, RATE_LIMITED_REASON, TOO_MANY_STATIONS_REASON, type DeadLetterer } from './dead-letter.js';
import type { EventBus } from './event-bus.js';
import type { DetectorMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';

const SHARE_GROUP = 'linewatch-detectors';

/** mqtt.js has no public call to acknowledge a message later; this is its internal one (see test/e2e/detector-crash). */
type SendPacket = (packet: { cmd: 'puback'; messageId: number }, cb: () => void) => void;
const FIRST_CONNECT_WAIT_MS = 10_000;

/** FNV-1a 32-bit: stable across processes and versions, unlike anything seeded per run. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface IngestDeps {
  config: DetectorConfig;
  bus: EventBus;
  deadLetters: DeadLetterer;
  metrics: DetectorMetrics;
  logger: Logger;
  /** True while downstream buffers are full; the next message is then read only after `waitForRoom` resolves. */
  backpressure: () => boolean;
  waitForRoom: () => Promise<void>;
  /**
   * Resolves once everything the messages handled so far produced (their readings, scores, anomalies, states) is
   * written to the store or its journal. A QoS 1 message is acknowledged only after that.
   */
  durable: () => Promise<void>;
  /** Published by the broker if it loses us without a clean stop (the service-health `offline` message). */
  will?: { topic: string; payload: string; qos: 1; retain: true } | undefined;
  /** Called after every connect. */
  onConnected?: () => void;
}

/** Passed to mqtt.js's `done`: it then skips its own PUBACK (we send it once the message is durable) and reads on. */
const ACK_LATER = new Error('acknowledged once durable');

/**
 * The broker link: QoS 1 on a persistent session, validated dispatch, and the publish path for the rest
 * of the detector.
 *
 * A QoS 1 message is acknowledged only once what it produced is written to the store or the journal, so a
 * kill -9 at any moment loses nothing: the broker redelivers every message not yet acknowledged, and the store's
 * keys make a redelivered reading overwrite itself. Acks go out in groups: one durability wait covers every
 * message that arrived while the previous one ran (group commit), so the store sees few, large writes under load
 * and a lone message is written at once. Reading the next message never waits for an ack; it waits only while
 * downstream is full, so the broker (not our heap) holds a backlog.
 */
export class MqttIngest {
  private client: MqttClient | undefined;
  private paused = false;
  private subscribedOnce = false;
  private readonly logger: Logger;
  /** Valid snapshots per station: a flooding station spends its own budget, not the detector's. */
  private readonly stationRate: RateLimiter | undefined;
  /** QoS 1 messages handled but not yet acknowledged, with the connection they came on. */
  private pendingAcks: { id: number; connection: number }[] = [];
  /** Bumped on every connect: a message id only means something on the connection that delivered it. */
  private connection = 0;
  private acking: Promise<void> | undefined;
  /** Sends one PUBACK on the current connection (mqtt.js's internal send; checked at start). */
  private puback: ((messageId: number) => void) | undefined;
  /** Stations whose telemetry this instance takes: per-station state (windows, rate buckets) for at most MAX_STATIONS. */
  private readonly stations = new Set<string>();
  /**
   * Stations whose meta or state arrived. Those are never partitioned, so every instance sees the whole line's:
   * their bound is MAX_STATIONS for each partition.
   */
  private readonly described = new Set<string>();

  constructor(private readonly deps: IngestDeps) {
    this.logger = deps.logger.child({ module: 'mqtt-ingest' });
    const { perS, burst } = deps.config.stationRate;
    this.stationRate = perS > 0 ? new RateLimiter({ ratePerS: perS, burst }) : undefined;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    const { mqtt: m } = this.deps.config;
    const options: IClientOptions = {
      clientId: m.clientId,
      // A persistent session: the broker queues QoS 1 telemetry while we restart or reconnect.
      clean: false,
      protocolVersion: m.protocolVersion,
      connectTimeout: 10_000,
      // We resubscribe ourselves, knowing why (see onConnect).
      resubscribe: false,
      ...(m.username !== undefined ? { username: m.username } : {}),
      ...(m.password !== undefined ? { password: m.password } : {}),
      ...m.tls,
      ...(this.deps.will ? { will: this.deps.will } : {}),
      // In MQTT 5 a session without an expiry ends at disconnect, which would make clean:false meaningless.
      ...(m.protocolVersion === 5 ? { properties: { sessionExpiryInterval: m.sessionExpiryS } } : {}),
    };
    // Capped exponential backoff (1 s … 10 s) between attempts while the broker is away.
    const client = cappedReconnect(mqtt.connect(m.url, options));
    const send = (client as unknown as { _sendPacket?: SendPacket })._sendPacket;
    if (typeof send !== 'function') {
      // Without it no message would ever be acknowledged: the broker would redeliver everything and stall.
      client.end(true);
      throw new Error('this mqtt.js has no _sendPacket: the detector cannot acknowledge messages after writing them');
    }
    this.puback = (messageId) => send.call(client, { cmd: 'puback', messageId }, () => undefined);
    this.client = client;
    client.handleMessage = (packet, done) => this.onPublish(packet, done);
    client.on('connect', (connack) => void this.onConnect(client, connack.sessionPresent));
    client.on('close', () => this.deps.metrics.connected.set(0));
    client.on('offline', () => this.logger.warn({ url: redactUrl(m.url) }, 'broker offline; reconnecting'));
    client.on('error', (err) => this.logger.warn({ err: { message: err.message } }, 'mqtt error'));
    await this.waitForFirstSubscription();
  }

  private waitForFirstSubscription(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn({ url: redactUrl(this.deps.config.mqtt.url) }, 'broker not reachable yet; still retrying (see /readyz)');
        resolve();
      }, FIRST_CONNECT_WAIT_MS);
      timer.unref();
      const check = setInterval(() => {
        if (this.subscribedOnce) {
          clearTimeout(timer);
          clearInterval(check);
          resolve();
        }
      }, 20);
      check.unref();
    });
  }

  private async onConnect(client: MqttClient, sessionPresent: boolean): Promise<void> {
    // Acks still pending belong to the old connection; the broker redelivers those messages on this one.
    this.connection++;
    this.deps.metrics.connected.set(1);
    this.logger.info({ url: redactUrl(this.deps.config.mqtt.url), sessionPresent }, 'broker connected');
    try {
      this.deps.onConnected?.();
    } catch (err) {
      this.logger.error({ err }, 'on-connect hook failed');
    }
    // With a session present the broker still has our subscriptions. But on this process's first connect we
    // subscribe anyway: retained meta/state are only delivered on subscribe, and our in-memory copy is new.
    if (sessionPresent && this.subscribedOnce) return;
    const filters = this.filters();
    try {
      const granted = await client.subscribeAsync(filters, { qos: 1 });
      // MQTT 3.1.1 grants 0x80 on failure; MQTT 5 puts its reason code (>= 0x80 on failure) in the same field.
      const refused = granted.filter((g) => g.qos >= 0x80);
      if (refused.length > 0) this.logger.error({ refused: refused.map((g) => g.topic) }, 'broker refused subscriptions');
      this.logger.info({ filters }, 'subscribed');
      this.subscribedOnce = true;
    } catch (err) {
      this.logger.error({ err }, 'subscribe failed; will retry on next connect');
    }
  }

  /**
   * Partition mode: every instance receives all telemetry and keeps the stations of its partition, so one
   * station's window lives in exactly one process. Shared mode: the broker splits telemetry across the group
   * message by message, so one station's snapshots land on different instances; that suits stateless scoring
   * only, not per-station windows or consecutive-sample rules. Meta and state are small and retained, and
   * every instance needs them, so they are never shared.
   */
  private filters(): string[] {
    const { line, subscriptionMode } = this.deps.config;
    const telemetry = topics.all('telemetry', line);
    return [
      subscriptionMode === 'shared' ? topics.shared(SHARE_GROUP, telemetry) : telemetry,
      topics.all('meta', line),
      topics.all('state', line),
      // Re-baseline requests from the API; the instance that owns the station's telemetry acts on them.
      topics.all('command', line),
    ];
  }

  private onPublish(packet: { topic: string; payload: Buffer | string; qos: number; messageId?: number | undefined }, done: (err?: Error) => void): void {
    const { topic, payload } = packet;
    // While stopping, leave the message unacked: the persistent session redelivers it to the next run.
    // done(err) skips the puback but lets mqtt.js go on reading packets, so acks of our last publishes still arrive.
    if (this.paused) return done(new Error('detector stopping; message left unacked for redelivery'));
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const validBefore = this.deps.metrics.stats.valid;
    const deadBefore = this.deps.metrics.stats.deadLettered;
    try {
      this.dispatch(topic, bytes);
    } catch (err) {
      this.deps.metrics.handlerErrors.inc({ event: 'mqtt' });
      this.deps.metrics.stats.handlerErrors++;
      this.logger.error({ err, topic }, 'message handler failed; message dead-lettered');
      // A message that failed before it was accepted or dead-lettered goes to the dead-letter topic, so it is
      // never lost without a trace and `received = valid + dead-lettered + skipped + ignored` still holds.
      if (this.deps.metrics.stats.valid === validBefore && this.deps.metrics.stats.deadLettered === deadBefore) {
        this.deps.deadLetters.deadLetter(topic, bytes, `handler error: ${(err as Error).message}`);
      }
    }
    const ackLater = packet.qos === 1 && packet.messageId !== undefined;
    if (ackLater) {
      this.pendingAcks.push({ id: packet.messageId!, connection: this.connection });
      this.acking ??= this.ackWhenDurable();
    }
    const next = (): void => (ackLater ? done(ACK_LATER) : done());
    if (!this.deps.backpressure()) return next();
    this.deps.waitForRoom().then(next, next);
  }

  /** Acknowledges pending messages a group at a time, each group once what it produced is durable. */
  private async ackWhenDurable(): Promise<void> {
    try {
      while (this.pendingAcks.length > 0 && !this.paused) {
        const group = this.pendingAcks.splice(0);
        await this.deps.durable();
        // Stopping: the group goes back, and stop() acknowledges it only if the writer kept everything.
        if (this.paused) {
          this.pendingAcks.unshift(...group);
          return;
        }
        this.sendAcks(group);
      }
    } catch (err) {
      // durable() does not reject; should it, the messages stay unacked and the broker redelivers them after the
      // next reconnect. Counted, so it cannot go unseen.
      this.deps.metrics.handlerErrors.inc({ event: 'ack' });
      this.deps.metrics.stats.handlerErrors++;
      this.logger.error({ err }, 'waiting for durable writes failed; messages left unacked for redelivery');
    } finally {
      this.acking = undefined;
      if (this.pendingAcks.length > 0 && !this.paused) this.acking = this.ackWhenDurable();
    }
  }

  private sendAcks(group: { id: number; connection: number }[]): void {
    if (!this.client?.connected || !this.puback) return;
    for (const { id, connection } of group) {
      // An id from an earlier connection could name another message now; the broker redelivers the old one.
      if (connection === this.connection) this.puback(id);
    }
  }

  private dispatch(topic: string, payload: Buffer): void {
    const { metrics, deadLetters } = this.deps;
    metrics.stats.received++;
    const parsed = parseTopic(topic);
    if (!parsed) {
      metrics.received.inc({ kind: 'unknown' });
      deadLetters.deadLetter(topic, payload, 'topic is not a linewatch station topic (bad ids or kind)');
      return;
    }
    metrics.received.inc({ kind: parsed.kind });
    if (!this.inPartition(parsed)) {
      metrics.skippedPartition.inc();
      metrics.stats.skippedPartition++;
      return;
    }
    switch (parsed.kind) {
      case 'telemetry':
        return this.onTelemetry(parsed, topic, payload);
      case 'meta':
        return this.onMeta(parsed, topic, payload);
      case 'state':
        return this.onState(parsed, topic, payload);
      case 'command':
        return this.onCommand(parsed, topic, payload);
      default:
        metrics.ignored.inc({ kind: parsed.kind });
        metrics.stats.ignored++;
        return;
    }
  }

  private inPartition({ line, station, kind }: ParsedTopic): boolean {
    const { partition, subscriptionMode } = this.deps.config;
    if (subscriptionMode === 'shared' || partition.count === 1 || (kind !== 'telemetry' && kind !== 'command')) return true;
    return stableHash(`${line}/${station}`) % partition.count === partition.index;
  }

  private onTelemetry(t: ParsedTopic, topic: string, payload: Buffer): void {
    const r = decodePayload(payload, TelemetrySchema, this.deps.config.maxPayloadBytes);
    if (!r.ok) return this.deadLetters(topic, payload, r.reason);
    const receivedAt = Date.now();
    if (this.tooFarAhead(r.value.ts, receivedAt)) return this.deadLetters(topic, payload, `${FUTURE_TS_REASON}: ts ${r.value.ts}`);
    const key = `${t.line}/${t.station}`;
    if (!this.admit(key, this.stations, this.deps.config.maxStations, topic, payload)) return;
    // Checked after validation, so a station's garbage does not spend the budget of its good snapshots.
    if (this.stationRate && !this.stationRate.take(key)) {
      this.deps.metrics.stats.rateLimited++;
      return this.deadLetters(topic, payload, `${RATE_LIMITED_REASON}: over ${this.deps.config.stationRate.perS} snapshots/s`);
    }
    this.valid('telemetry');
    this.deps.bus.emit('telemetry', { line: t.line, station: t.station, telemetry: r.value, receivedAt });
  }

  /**
   * Every new station id costs memory for good (its window, decision, quality rules): a sender making up ids must
   * not grow it without bound. A real line has hundreds of tools, not thousands. False: dead-lettered.
   */
  private admit(key: string, known: Set<string>, cap: number, topic: string, payload: Buffer): boolean {
    if (known.has(key)) return true;
    if (known.size >= cap) {
      this.deadLetters(topic, payload, `${TOO_MANY_STATIONS_REASON}: this detector already tracks ${cap} (MAX_STATIONS)`);
      return false;
    }
    known.add(key);
    return true;
  }

  /** Meta and state of any station of the line (every instance gets them all). */
  private admitDescribed(t: ParsedTopic, topic: string, payload: Buffer): boolean {
    const { maxStations, partition, subscriptionMode } = this.deps.config;
    const cap = subscriptionMode === 'shared' ? maxStations : maxStations * partition.count;
    return this.admit(`${t.line}/${t.station}`, this.described, cap, topic, payload);
  }

  private onMeta(t: ParsedTopic, topic: string, payload: Buffer): void {
    if (payload.length === 0) return this.cleared('meta');
    const r = decodePayload(payload, StationMetaSchema, this.deps.config.maxPayloadBytes);
    if (!r.ok) return this.deadLetters(topic, payload, r.reason);
    if (r.value.line !== t.line || r.value.station !== t.station) {
      return this.deadLetters(topic, payload, `meta ids ${r.value.line}/${r.value.station} do not match the topic`);
    }
    if (!this.admitDescribed(t, topic, payload)) return;
    this.valid('meta');
    this.deps.bus.emit('meta', { meta: r.value });
  }

  private onState(t: ParsedTopic, topic: string, payload: Buffer): void {
    if (payload.length === 0) return this.cleared('state');
    const r = decodePayload(payload, StateMessageSchema, this.deps.config.maxPayloadBytes);
    if (!r.ok) return this.deadLetters(topic, payload, r.reason);
    if (this.tooFarAhead(r.value.since, Date.now())) return this.deadLetters(topic, payload, `${FUTURE_TS_REASON}: since ${r.value.since}`);
    if (!this.admitDescribed(t, topic, payload)) return;
    this.valid('state');
    this.deps.bus.emit('state', { line: t.line, station: t.station, state: r.value });
  }

  private onCommand(t: ParsedTopic, topic: string, payload: Buffer): void {
    const r = decodePayload(payload, CommandSchema, this.deps.config.maxPayloadBytes);
    if (!r.ok) return this.deadLetters(topic, payload, r.reason);
    this.valid('command');
    this.deps.metrics.commands.inc({ type: r.value.type });
    this.logger.info({ line: t.line, station: t.station, command: r.value }, 'command received');
    this.deps.bus.emit('command', { line: t.line, station: t.station, command: r.value });
  }

  /** Far-future stamps are a broken clock or a hostile sender; stored, they would sit ahead of every query (and past int64 ns). */
  private tooFarAhead(ts: number, receivedAt: number): boolean {
    return ts > receivedAt + this.deps.config.maxFutureTsMs;
  }

  private deadLetters(topic: string, payload: Buffer, reason: string): void {
    this.deps.deadLetters.deadLetter(topic, payload, reason);
  }

  private valid(kind: string): void {
    this.deps.metrics.valid.inc({ kind });
    this.deps.metrics.stats.valid++;
  }

  /** An empty retained payload deletes a retained message; nothing to validate. */
  private cleared(kind: string): void {
    this.deps.metrics.ignored.inc({ kind });
    this.deps.metrics.stats.ignored++;
  }

  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }): void {
    const client = this.client;
    if (!client) return;
    client.publish(topic, payload, opts, (err) => {
      if (err) this.logger.warn({ err: { message: err.message }, topic }, 'publish failed');
    });
  }

  /** Stops handling messages; unacked ones stay with the broker. The link stays up for the last publishes. */
  pause(): void {
    this.paused = true;
  }

  /**
   * Acknowledges what is still pending if `ackPending` (the writer kept everything), else leaves it for the
   * broker to redeliver; then closes the link after in-flight QoS 1 publishes are acknowledged (bounded wait).
   */
  async stop(ackPending: boolean): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.paused = true;
    await this.acking;
    if (ackPending) this.sendAcks(this.pendingAcks.splice(0));
    else if (this.pendingAcks.length > 0) this.logger.warn({ messages: this.pendingAcks.length }, 'messages left unacked: the broker redelivers them to the next run');
    const closed = client.endAsync(false);
    const forced = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([closed, forced]);
    if (!client.disconnected) await client.endAsync(true);
    this.client = undefined;
    this.deps.metrics.connected.set(0);
  }
}
