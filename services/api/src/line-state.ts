import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  AnomalySchema,
  StateMessageSchema,
  StationMetaSchema,
  StationStatusSchema,
  TruthSchema,
  decodePayload,
  parseTopic,
  redactUrl,
  topics,
  type Anomaly,
  type LineSnapshot,
  type StateMessage,
  type StationMeta,
  type StationStatus,
  type StationTopicKind,
  type StationView,
} from '@linewatch/protocol';
import type { ApiConfig } from './config.js';
import { TypedBus, type LineEvents } from './line-events.js';
import type { ApiMetrics } from './metrics.js';

/** Kinds the API listens to; telemetry stays with the detector. */
export const WATCHED_KINDS = ['meta', 'state', 'status', 'anomaly', 'truth'] as const satisfies readonly StationTopicKind[];
const MAX_PAYLOAD_BYTES = 256 * 1024;
const FIRST_CONNECT_WAIT_MS = 5_000;

export interface LineStateDeps {
  config: ApiConfig;
  logger: Logger;
  metrics: ApiMetrics;
}

/**
 * The API's picture of one line, built from retained meta/state/status plus live anomaly and truth
 * messages. Every message is validated; a bad one is logged, counted and dropped.
 */
export class LineState {
  private client: MqttClient | null = null;
  private readonly metas = new Map<string, StationMeta>();
  private readonly states = new Map<string, StateMessage>();
  private readonly statuses = new Map<string, StationStatus>();
  /** Newest first. */
  private recent: Anomaly[] = [];
  private connected = false;
  private readonly log: Logger;
  readonly bus: TypedBus<LineEvents>;

  constructor(private readonly deps: LineStateDeps) {
    this.log = deps.logger.child({ module: 'line-state' });
    this.bus = new TypedBus<LineEvents>((event, err) => this.log.error({ err, event }, 'line event listener failed'));
  }

  get line(): string {
    return this.deps.config.LINE;
  }

  get brokerConnected(): boolean {
    return this.connected;
  }

  /** Connects and waits briefly for the first connection; the client keeps reconnecting after that. */
  async start(): Promise<void> {
    const { config } = this.deps;
    const client = mqtt.connect(config.MQTT_URL, {
      clientId: config.MQTT_CLIENT_ID,
      ...(config.MQTT_USERNAME ? { username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD } : {}),
      clean: true,
      reconnectPeriod: 1_000,
      connectTimeout: 5_000,
      // We subscribe on every connect ourselves, so the retained picture is re-sent after an outage.
      resubscribe: false,
    });
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

  /** Stations with meta, in process order. Status and state may arrive before meta; they wait for it. */
  stations(): StationView[] {
    return [...this.metas.values()]
      .sort((a, b) => a.order - b.order || a.station.localeCompare(b.station))
      .map((meta) => this.view(meta));
  }

  station(id: string): StationView | undefined {
    const meta = this.metas.get(id);
    return meta ? this.view(meta) : undefined;
  }

  /** Merges stored anomalies into the ring, so a restarted API still shows what happened before it. */
  seedAnomalies(stored: Anomaly[]): void {
    const known = new Set(this.recent.map((a) => a.id));
    const merged = [...this.recent, ...stored.filter((a) => a.line === this.line && !known.has(a.id))];
    this.recent = merged.sort((a, b) => b.ts - a.ts).slice(0, this.deps.config.RECENT_ANOMALIES);
  }

  recentAnomalies(): Anomaly[] {
    return [...this.recent];
  }

  snapshot(): LineSnapshot {
    return {
      line: this.line,
      stations: this.stations(),
      anomalies: this.recentAnomalies(),
      serverTime: Date.now(),
      brokerConnected: this.connected,
    };
  }

  private view(meta: StationMeta): StationView {
    const status = this.statuses.get(meta.station) ?? null;
    return { meta, state: this.states.get(meta.station) ?? null, status, lastSeen: status ? status.ts : null };
  }

  private onConnect(client: MqttClient): void {
    const filters = WATCHED_KINDS.map((kind) => topics.all(kind, this.line));
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
    const parsed = parseTopic(topic);
    const kind = parsed?.kind ?? 'unknown';
    try {
      if (!parsed || parsed.line !== this.line) return this.reject(kind, topic, 'not a topic of this line');
      const reason = this.dispatch(parsed.kind, parsed.station, payload);
      if (reason) return this.reject(kind, topic, reason);
      this.deps.metrics.messages.inc({ kind });
    } catch (err) {
      this.log.error({ err, topic }, 'message handler failed');
      this.deps.metrics.rejects.inc({ kind });
    }
  }

  private reject(kind: string, topic: string, reason: string): void {
    this.deps.metrics.rejects.inc({ kind });
    this.log.warn({ topic, reason }, 'message rejected');
  }

  /** Returns a reject reason, or undefined when the message was applied. */
  private dispatch(kind: StationTopicKind, station: string, payload: Buffer): string | undefined {
    // An empty retained payload is MQTT's way to delete a retained message.
    if (payload.byteLength === 0) return this.onCleared(kind, station);
    switch (kind) {
      case 'meta': {
        const r = decodePayload(payload, StationMetaSchema, MAX_PAYLOAD_BYTES);
        if (!r.ok) return r.reason;
        if (r.value.station !== station || r.value.line !== this.line) return 'line/station differ from the topic';
        this.metas.set(station, r.value);
        this.bus.emit('meta', r.value);
        return undefined;
      }
      case 'state': {
        const r = decodePayload(payload, StateMessageSchema, MAX_PAYLOAD_BYTES);
        if (!r.ok) return r.reason;
        this.states.set(station, r.value);
        this.bus.emit('state', { line: this.line, station, state: r.value });
        return undefined;
      }
      case 'status': {
        const r = decodePayload(payload, StationStatusSchema, MAX_PAYLOAD_BYTES);
        if (!r.ok) return r.reason;
        if (r.value.station !== station || r.value.line !== this.line) return 'line/station differ from the topic';
        this.statuses.set(station, r.value);
        this.bus.emit('status', r.value);
        return undefined;
      }
      case 'anomaly': {
        const r = decodePayload(payload, AnomalySchema, MAX_PAYLOAD_BYTES);
        if (!r.ok) return r.reason;
        if (r.value.station !== station || r.value.line !== this.line) return 'line/station differ from the topic';
        // QoS 1 may deliver twice; the id is deterministic, so a repeat is dropped here.
        if (this.recent.some((a) => a.id === r.value.id)) return undefined;
        this.recent = [r.value, ...this.recent].sort((a, b) => b.ts - a.ts).slice(0, this.deps.config.RECENT_ANOMALIES);
        this.bus.emit('anomaly', r.value);
        return undefined;
      }
      case 'truth': {
        const r = decodePayload(payload, TruthSchema, MAX_PAYLOAD_BYTES);
        if (!r.ok) return r.reason;
        if (r.value.station !== station || r.value.line !== this.line) return 'line/station differ from the topic';
        this.bus.emit('truth', r.value);
        return undefined;
      }
      case 'telemetry':
        return 'telemetry is not handled by the API';
    }
  }

  private onCleared(kind: StationTopicKind, station: string): string | undefined {
    if (kind === 'meta') this.metas.delete(station);
    else if (kind === 'state') this.states.delete(station);
    else if (kind === 'status') this.statuses.delete(station);
    else return 'empty payload';
    return undefined;
  }
}
