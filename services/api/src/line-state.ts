import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  CommandSchema,
  SNAPSHOT_WAFERS_PER_STATION,
  cappedReconnect,
  parseTopic,
  redactUrl,
  ServiceHealthSchema,
  topics,
  type Anomaly,
  type Command,
  type LineSnapshot,
  type ReplayStatus,
  type ServiceHealth,
  type StationTopicKind,
  type StationView,
} from '@linewatch/protocol';
import type { Store } from '@linewatch/store';
import { brokerOptions } from './broker-options.js';
import type { ApiConfig } from './config.js';
import { TypedBus, type LineEvents } from './line-events.js';
import { LinePicture } from './line-picture.js';
import type { ApiMetrics } from './metrics.js';

/** Kinds the API listens to; telemetry stays with the detector, and commands are the API's own, to the detector. */
export const WATCHED_KINDS = ['meta', 'state', 'status', 'anomaly', 'truth', 'wafer', 'quality'] as const satisfies readonly StationTopicKind[];
/** Retained topics a new replay clears on the replay line, so the last replay's stations do not linger. */
const RETAINED_KINDS = ['meta', 'state', 'status'] as const satisfies readonly StationTopicKind[];
const FIRST_CONNECT_WAIT_MS = 5_000;
/** Where services publish their health (`topics.health`). */
const HEALTH_PREFIX = topics.allHealth.replace('+/+', '');
/** Clearing the replay line must not hold a replay up for long when the broker is away. */
const CLEAR_WAIT_MS = 5_000;
/** A command the broker has not confirmed by then is reported as failed to the caller (it may still go out). */
const COMMAND_WAIT_MS = 5_000;

export interface LineStateDeps {
  config: ApiConfig;
  logger: Logger;
  metrics: ApiMetrics;
}

/**
 * The API's picture of the live line and of the replay line, built from retained meta/state/status plus live
 * anomaly, truth, wafer-verdict and data-quality messages over one broker connection. Every message is validated; a bad one is logged,
 * counted and dropped. The two lines are kept apart: replayed data never lands in the live picture.
 */
export class LineState {
  private client: MqttClient | null = null;
  private connected = false;
  private readonly log: Logger;
  readonly bus: TypedBus<LineEvents>;
  /** The line operators watch. */
  readonly live: LinePicture;
  /** Where replays from the page play into (REPLAY_LINE). */
  readonly replay: LinePicture;
  /** Services (detectors) that serve the live line, by health topic, as they last reported. */
  private readonly serviceHealth = new Map<string, ServiceHealth>();

  constructor(private readonly deps: LineStateDeps) {
    this.log = deps.logger.child({ module: 'line-state' });
    this.bus = new TypedBus<LineEvents>((event, err) => this.log.error({ err, event }, 'line event listener failed'));
    const { LINE, REPLAY_LINE, RECENT_ANOMALIES, RECENT_WAFERS } = deps.config;
    this.live = new LinePicture(LINE, RECENT_ANOMALIES, this.bus, RECENT_WAFERS);
    this.replay = new LinePicture(REPLAY_LINE, RECENT_ANOMALIES, this.bus, RECENT_WAFERS);
  }

  get line(): string {
    return this.live.line;
  }

  get replayLine(): string {
    return this.replay.line;
  }

  get brokerConnected(): boolean {
    return this.connected;
  }

  /** Connects and waits briefly for the first connection; the client keeps reconnecting after that. */
  async start(): Promise<void> {
    const { config } = this.deps;
    // We subscribe on every connect ourselves, so the retained picture is re-sent after an outage.
    const client = cappedReconnect(mqtt.connect(config.MQTT_URL, brokerOptions(config)));
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.setConnected(false));
    client.on('error', (err) => this.log.warn({ err: { message: err.message } }, 'broker error'));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.log.warn({ url: redactUrl(config.MQTT_URL) }, 'broker not reachable yet; continuing and retrying');
        resolve();
      }, FIRST_CONNECT_WAIT_MS);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync(true).catch((err: unknown) => this.log.warn({ err }, 'broker close failed'));
    this.setConnected(false);
    this.bus.clear();
  }

  /** Live stations in process order. */
  stations(): StationView[] {
    return this.live.stations();
  }

  /** A live station. */
  station(id: string): StationView | undefined {
    return this.live.station(id);
  }

  /** Merges stored anomalies of either line into its ring, so a restarted API still shows what happened before it. */
  seedAnomalies(stored: Anomaly[]): void {
    this.live.seedAnomalies(stored);
    this.replay.seedAnomalies(stored);
  }

  recentAnomalies(): Anomaly[] {
    return this.live.recentAnomalies();
  }

  /**
   * Loads the newest RECENT_WAFERS verdicts of each line from the store into its ring, so a restarted API still
   * lists the wafers before it. Never throws: when the store does not answer, the lists start from what the broker
   * brings, and the failure is logged.
   */
  async loadRecentWafers(store: Pick<Store, 'waferVerdicts'>): Promise<void> {
    for (const picture of [this.live, this.replay]) {
      try {
        const stored = await store.waferVerdicts({ line: picture.line, limit: this.deps.config.RECENT_WAFERS });
        picture.seedWafers(stored);
        this.log.info({ line: picture.line, verdicts: stored.length }, 'recent wafer verdicts loaded from the store');
      } catch (err) {
        this.log.warn({ err, line: picture.line }, 'could not load recent wafer verdicts from the store; the list starts empty');
      }
    }
  }

  /** The picture of `line` when it is the live line or the replay line. */
  picture(line: string): LinePicture | undefined {
    return line === this.line ? this.live : line === this.replayLine ? this.replay : undefined;
  }

  /**
   * Publishes a command to the detector that scores `station` (QoS 1, not retained: a command is for the detector
   * running now, not for one that starts next week). Resolves once the broker confirmed it; throws when the API is
   * not connected or the broker did not confirm within a few seconds.
   */
  async publishCommand(line: string, station: string, command: Command): Promise<void> {
    const client = this.client;
    const payload = JSON.stringify(CommandSchema.parse(command));
    const failed = (reason: string, err?: unknown): Error => {
      this.deps.metrics.commands.inc({ type: command.type, outcome: 'failed' });
      this.log.warn({ err, line, station, command, reason }, 'command not published');
      return new Error(reason, { cause: err });
    };
    if (!client || !this.connected) throw failed('the API is not connected to the broker');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), COMMAND_WAIT_MS)));
    const published = client.publishAsync(topics.command(line, station), payload, { qos: 1, retain: false }).then(() => 'published' as const);
    // Once the wait is over nobody awaits it; a late failure must not become an unhandled rejection.
    void published.catch(() => undefined);
    let outcome: 'published' | 'timeout';
    try {
      outcome = await Promise.race([published, timedOut]);
    } catch (err) {
      throw failed('the broker refused it', err);
    } finally {
      clearTimeout(timer);
    }
    if (outcome === 'timeout') throw failed(`the broker did not confirm it within ${COMMAND_WAIT_MS / 1000} s`);
    this.deps.metrics.commands.inc({ type: command.type, outcome: 'published' });
    this.log.info({ line, station, command }, 'command published');
  }

  /** The live line's services, as they last reported. */
  services(): ServiceHealth[] {
    return [...this.serviceHealth.values()];
  }

  snapshot(replay: ReplayStatus): LineSnapshot {
    return {
      line: this.line,
      stations: this.live.stations(),
      anomalies: this.live.recentAnomalies(),
      wafers: this.live.snapshotWafers(SNAPSHOT_WAFERS_PER_STATION),
      serverTime: Date.now(),
      brokerConnected: this.connected,
      staleAfterMs: this.deps.config.STALE_AFTER_MS,
      services: this.services(),
      replay: {
        status: replay,
        stations: this.replay.stations(),
        anomalies: this.replay.recentAnomalies(),
        wafers: this.replay.snapshotWafers(SNAPSHOT_WAFERS_PER_STATION),
      },
    };
  }

  /**
   * Forgets the replay line and deletes its retained meta, state and status on the broker, so a new replay
   * starts from an empty line. Waits for the broker at most a few seconds: a replay is not held up by it.
   */
  async clearReplayLine(): Promise<void> {
    const stations = this.replay.clear();
    const client = this.client;
    if (!client || stations.length === 0) return;
    const deletes = stations.flatMap((station) =>
      RETAINED_KINDS.map((kind) => client.publishAsync(topics[kind](this.replayLine, station), '', { qos: 1, retain: true })),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLEAR_WAIT_MS)));
    const outcome = await Promise.race([Promise.all(deletes).then(() => 'done' as const), timedOut]).catch((err: unknown) => {
      this.log.warn({ err }, 'clearing the replay line failed');
      return 'failed' as const;
    });
    clearTimeout(timer);
    if (outcome === 'timeout') this.log.warn({ line: this.replayLine }, 'broker did not confirm clearing the replay line in time; going on');
    this.log.info({ line: this.replayLine, stations: stations.length, outcome }, 'replay line cleared');
  }

  private onConnect(client: MqttClient): void {
    const filters = [...[this.line, this.replayLine].flatMap((line) => WATCHED_KINDS.map((kind) => topics.all(kind, line))), topics.allHealth];
    client.subscribe(filters, { qos: 1 }, (err) => {
      if (err) this.log.error({ err: { message: err.message } }, 'subscribe failed');
      else this.log.info({ filters }, 'subscribed');
    });
    this.setConnected(true);
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.deps.metrics.brokerConnected.set(connected ? 1 : 0);
    this.log.info({ connected }, connected ? 'broker connected' : 'broker disconnected');
    this.bus.emit('broker', { connected, at: Date.now() });
  }

  /** One wrapper around every message: nothing a publisher sends can throw out of here. */
  private onMessage(topic: string, payload: Buffer): void {
    if (topic.startsWith(HEALTH_PREFIX)) return this.onHealth(topic, payload);
    const parsed = parseTopic(topic);
    const kind = parsed?.kind ?? 'unknown';
    try {
      const picture = parsed ? this.picture(parsed.line) : undefined;
      if (!parsed || !picture) return this.reject(kind, topic, 'not a topic of this line or its replay line');
      const reason = picture.apply(parsed.kind, parsed.station, payload);
      if (reason) return this.reject(kind, topic, reason);
      this.deps.metrics.messages.inc({ kind });
    } catch (err) {
      this.log.error({ err, topic }, 'message handler failed');
      this.deps.metrics.rejects.inc({ kind });
    }
  }

  /** A service's retained health; an empty payload clears it. Only services of the live line (or of every line) count. */
  private onHealth(topic: string, payload: Buffer): void {
    try {
      if (payload.length === 0) {
        if (this.serviceHealth.delete(topic)) this.bus.emit('services', this.services());
        return;
      }
      const r = ServiceHealthSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (!r.success) return this.reject('health', topic, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const health = r.data;
      this.deps.metrics.messages.inc({ kind: 'health' });
      if (health.line !== this.line && health.line !== '+') return;
      const before = this.serviceHealth.get(topic);
      // A last will carries the time the detector started (it is set up then): seen turning offline live, it went
      // offline now. One found retained at the API's start keeps its own time.
      const next = health.state === 'offline' && before !== undefined && before.state !== 'offline' ? { ...health, ts: Date.now() } : health;
      this.serviceHealth.set(topic, next);
      if (before?.state !== next.state) this.log.warn({ service: next.service, instance: next.instance, state: next.state, reason: next.reason }, 'service health changed');
      this.bus.emit('services', this.services());
    } catch (err) {
      this.reject('health', topic, `not JSON: ${(err as Error).message}`);
    }
  }

  private reject(kind: string, topic: string, reason: string): void {
    this.deps.metrics.rejects.inc({ kind });
    this.log.warn({ topic, reason }, 'message rejected');
  }
}
