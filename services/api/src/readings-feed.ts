import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import { z } from 'zod';
import {
  IdSchema,
  TelemetrySchema,
  cappedReconnect,
  decodePayload,
  parseTopic,
  topics,
  type ClientToServerEvents,
  type ReadingSample,
  type ServerToClientEvents,
} from '@linewatch/protocol';
import { brokerOptions } from './broker-options.js';
import type { ApiConfig } from './config.js';
import type { ApiMetrics } from './metrics.js';
import { ReadingsBatcher } from './readings-batcher.js';

/** At most ~4 batches a second per station: smooth enough for a chart, light enough for a wall screen. */
export const READINGS_INTERVAL_MS = 250;
/** Readings one batch may carry (8,000 a second per station); more in one interval are dropped and counted. */
export const MAX_READINGS_PER_BATCH = 2_000;
/** As the detector's default MAX_PAYLOAD_BYTES: nothing bigger is a snapshot the detector would score. */
const MAX_TELEMETRY_BYTES = 65_536;

/** What a client may send with `watch`; anything else stops its watch. */
export const WatchSelectionSchema = z.object({ line: IdSchema, station: IdSchema }).strict().nullable();

export type ReadingsSocket = Pick<Socket<ClientToServerEvents, ServerToClientEvents>, 'id' | 'join' | 'leave'>;

export interface ReadingsFeedDeps {
  config: Pick<ApiConfig, 'MQTT_URL' | 'MQTT_USERNAME' | 'MQTT_PASSWORD' | 'MQTT_TLS' | 'MQTT_CLIENT_ID' | 'LINE' | 'REPLAY_LINE'>;
  io: Pick<Server<ClientToServerEvents, ServerToClientEvents>, 'to'>;
  metrics: ApiMetrics;
  logger: Logger;
  /** Tests inject a fake broker link; the default connects to MQTT_URL. */
  connect?: (url: string, options: mqtt.IClientOptions) => MqttClient;
}

/** A watched station: its sockets, its batches and the room they go to. */
interface Watched {
  line: string;
  station: string;
  room: string;
  sockets: Set<string>;
  batcher: ReadingsBatcher;
  /** One warning per watch for bad telemetry; the rest are counted (a broken tool may send thousands). */
  warned: boolean;
}

const keyOf = (line: string, station: string): string => `${line}/${station}`;

/**
 * Live readings for the station view. The API does not take the line's telemetry (the detector does); only while
 * a client watches a station does this subscribe, over its own broker link, to that one station's telemetry, and
 * unsubscribe when the last watcher leaves. Each message is validated; the readings go to the watchers' socket.io
 * room as `readings` batches, at most one per READINGS_INTERVAL_MS per station. A separate link keeps a fast
 * tool's telemetry from queueing in front of the line picture's status messages.
 */
export class ReadingsFeed {
  private client: MqttClient | null = null;
  private readonly watched = new Map<string, Watched>();
  /** Socket id → the key it watches. */
  private readonly bySocket = new Map<string, string>();
  private readonly log: Logger;

  constructor(private readonly deps: ReadingsFeedDeps) {
    this.log = deps.logger.child({ module: 'readings-feed' });
  }

  /** Connects in the background: a client may watch before the broker answers, it subscribes on connect. */
  start(): void {
    const { config } = this.deps;
    const connect = this.deps.connect ?? mqtt.connect;
    // A clean session forgets subscriptions; on every connect we subscribe to what is watched now.
    const client = cappedReconnect(connect(config.MQTT_URL, brokerOptions(config, 'readings')));
    this.client = client;
    client.on('connect', () => {
      const filters = [...this.watched.values()].map((w) => topics.telemetry(w.line, w.station));
      if (filters.length > 0) this.subscribe(filters);
    });
    client.on('error', (err) => this.log.warn({ err: { message: err.message } }, 'broker error'));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  async stop(): Promise<void> {
    for (const w of this.watched.values()) {
      const discarded = w.batcher.stop();
      if (discarded > 0) this.deps.metrics.readingsDropped.inc({ reason: 'unwatched' }, discarded);
    }
    this.watched.clear();
    this.bySocket.clear();
    this.deps.metrics.watchedStations.set(0);
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync(true).catch((err: unknown) => this.log.warn({ err }, 'broker close failed'));
  }

  /**
   * A client's `watch`: one station per socket, a new selection replaces the last, null stops. A selection that is
   * not two ids of the live or the replay line is refused: it stops the socket's watch and is logged.
   */
  watch(socket: ReadingsSocket, selection: unknown): void {
    const parsed = WatchSelectionSchema.safeParse(selection);
    const { LINE, REPLAY_LINE } = this.deps.config;
    let wanted: { line: string; station: string } | null = null;
    if (!parsed.success) this.log.debug({ socket: socket.id }, 'watch refused: not { line, station } ids');
    else if (parsed.data && parsed.data.line !== LINE && parsed.data.line !== REPLAY_LINE)
      this.log.debug({ socket: socket.id, line: parsed.data.line }, 'watch refused: neither the live nor the replay line');
    else wanted = parsed.data;
    const key = wanted ? keyOf(wanted.line, wanted.station) : undefined;
    if (key === this.bySocket.get(socket.id)) return;
    this.leave(socket);
    if (!wanted || !key) return;
    let w = this.watched.get(key);
    if (!w) w = this.add(key, wanted.line, wanted.station);
    w.sockets.add(socket.id);
    this.bySocket.set(socket.id, key);
    void socket.join(w.room);
  }

  /** The socket stops watching (its `watch(null)`, a new selection, or its disconnect). */
  leave(socket: ReadingsSocket): void {
    const key = this.bySocket.get(socket.id);
    if (key === undefined) return;
    this.bySocket.delete(socket.id);
    const w = this.watched.get(key);
    if (!w) return;
    w.sockets.delete(socket.id);
    void socket.leave(w.room);
    if (w.sockets.size === 0) this.remove(key, w);
  }

  /** Stations watched now, as `line/station`. */
  stations(): string[] {
    return [...this.watched.keys()];
  }

  private add(key: string, line: string, station: string): Watched {
    const { io, metrics } = this.deps;
    const room = `readings:${key}`;
    const batcher = new ReadingsBatcher({
      intervalMs: READINGS_INTERVAL_MS,
      maxBatch: MAX_READINGS_PER_BATCH,
      send: (readings) => {
        io.to(room).emit('readings', { line, station, readings });
        metrics.readingsBatches.inc();
        metrics.readingsForwarded.inc(readings.length);
      },
      onDropped: (count) => metrics.readingsDropped.inc({ reason: 'batch_full' }, count),
    });
    const w: Watched = { line, station, room, sockets: new Set(), batcher, warned: false };
    this.watched.set(key, w);
    metrics.watchedStations.set(this.watched.size);
    if (this.client?.connected) this.subscribe([topics.telemetry(line, station)]);
    this.log.info({ line, station }, 'watching station telemetry');
    return w;
  }

  private remove(key: string, w: Watched): void {
    const discarded = w.batcher.stop();
    // Nobody is left to send them to; counted so the forwarded/received balance still adds up.
    if (discarded > 0) this.deps.metrics.readingsDropped.inc({ reason: 'unwatched' }, discarded);
    this.watched.delete(key);
    this.deps.metrics.watchedStations.set(this.watched.size);
    const client = this.client;
    // While disconnected there is nothing to undo: the clean session that comes back only has what is watched.
    if (client?.connected) {
      client.unsubscribe(topics.telemetry(w.line, w.station), (err) => {
        if (err) this.log.warn({ err: { message: err.message }, line: w.line, station: w.station }, 'unsubscribe failed');
      });
    }
    this.log.info({ line: w.line, station: w.station }, 'no longer watching station telemetry');
  }

  private subscribe(filters: string[]): void {
    // QoS 1: the page is promised every reading the broker has for the station while it watches.
    this.client?.subscribe(filters, { qos: 1 }, (err) => {
      if (err) this.log.error({ err: { message: err.message }, filters }, 'subscribe failed');
    });
  }

  /** One wrapper around every message: nothing a tool sends can throw out of here. */
  private onMessage(topic: string, payload: Buffer): void {
    const { metrics } = this.deps;
    try {
      const parsed = parseTopic(topic);
      const w = parsed?.kind === 'telemetry' ? this.watched.get(keyOf(parsed.line, parsed.station)) : undefined;
      // A message still in flight for a station nobody watches any more.
      if (!w) return;
      const r = decodePayload(payload, TelemetrySchema, MAX_TELEMETRY_BYTES);
      if (!r.ok) {
        metrics.rejects.inc({ kind: 'telemetry' });
        if (!w.warned) this.log.warn({ topic, reason: r.reason }, 'bad telemetry dropped (further ones of this watch are only counted)');
        w.warned = true;
        return;
      }
      metrics.messages.inc({ kind: 'telemetry' });
      const { ts, seq, values, context } = r.value;
      const reading: ReadingSample = context ? { ts, seq, values, context } : { ts, seq, values };
      w.batcher.push(reading);
    } catch (err) {
      this.log.error({ err, topic }, 'telemetry handler failed');
      metrics.rejects.inc({ kind: 'telemetry' });
    }
  }
}
