import {
  AnomalySchema,
  StateMessageSchema,
  StationMetaSchema,
  StationStatusSchema,
  TruthSchema,
  decodePayload,
  type Anomaly,
  type StateMessage,
  type StationMeta,
  type StationStatus,
  type StationTopicKind,
  type StationView,
} from '@linewatch/protocol';
import type { LineEvents, TypedBus } from './line-events.js';

const MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * What the API knows about one line: retained meta/state/status per station and the recent anomalies. It
 * validates every message for its line and announces each change on the bus; the events carry the line, so
 * listeners can tell the live line from the replay line.
 */
export class LinePicture {
  private readonly metas = new Map<string, StationMeta>();
  private readonly states = new Map<string, StateMessage>();
  private readonly statuses = new Map<string, StationStatus>();
  /** Newest first. */
  private recent: Anomaly[] = [];

  constructor(
    readonly line: string,
    private readonly recentLimit: number,
    private readonly bus: TypedBus<LineEvents>,
  ) {}

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
    this.recent = merged.sort((a, b) => b.ts - a.ts).slice(0, this.recentLimit);
  }

  recentAnomalies(): Anomaly[] {
    return [...this.recent];
  }

  /** Forgets the whole line; returns every station it knew anything about, so their retained topics can be cleared. */
  clear(): string[] {
    const known = new Set([...this.metas.keys(), ...this.states.keys(), ...this.statuses.keys()]);
    this.metas.clear();
    this.states.clear();
    this.statuses.clear();
    this.recent = [];
    return [...known];
  }

  /** Applies one message of this line; returns a reject reason, or undefined when it was applied. */
  apply(kind: StationTopicKind, station: string, payload: Buffer): string | undefined {
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
        this.recent = [r.value, ...this.recent].sort((a, b) => b.ts - a.ts).slice(0, this.recentLimit);
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
      case 'quality':
      case 'wafer':
      case 'command':
        return `${kind} is not handled by the line picture`;
    }
  }

  private view(meta: StationMeta): StationView {
    const status = this.statuses.get(meta.station) ?? null;
    return { meta, state: this.states.get(meta.station) ?? null, status, lastSeen: status ? status.ts : null };
  }

  private onCleared(kind: StationTopicKind, station: string): string | undefined {
    if (kind === 'meta') this.metas.delete(station);
    else if (kind === 'state') this.states.delete(station);
    else if (kind === 'status') this.statuses.delete(station);
    else return 'empty payload';
    return undefined;
  }
}
