import {
  AnomalySchema,
  DataQualityEventSchema,
  StateMessageSchema,
  StationMetaSchema,
  StationStatusSchema,
  TruthSchema,
  WaferVerdictSchema,
  decodePayload,
  type Anomaly,
  type StateMessage,
  type StationMeta,
  type StationStatus,
  type StationTopicKind,
  type StationView,
  type WaferVerdict,
} from '@linewatch/protocol';
// The store's order (newest by the end of the step, then by id), so the ring and the history agree.
import { byNewestStep } from '@linewatch/store';
import type { LineEvents, TypedBus } from './line-events.js';

const MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * What the API knows about one line: retained meta/state/status per station, the recent anomalies and the recent
 * wafer-level verdicts. It
 * validates every message for its line and announces each change on the bus; the events carry the line, so
 * listeners can tell the live line from the replay line.
 */
export class LinePicture {
  private readonly metas = new Map<string, StationMeta>();
  private readonly states = new Map<string, StateMessage>();
  private readonly statuses = new Map<string, StationStatus>();
  /** Newest first. */
  private recent: Anomaly[] = [];
  /** Newest first (byNewestStep), at most waferLimit; `waferIds` holds exactly their ids, for dedup. */
  private wafers: WaferVerdict[] = [];
  private readonly waferIds = new Set<string>();

  constructor(
    readonly line: string,
    private readonly recentLimit: number,
    private readonly bus: TypedBus<LineEvents>,
    private readonly waferLimit = 500,
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

  /**
   * Merges stored verdicts into the ring, so a restarted API still lists the wafers before it. They are history,
   * not news: nothing is announced on the bus. Verdicts of another line are ignored.
   */
  seedWafers(stored: WaferVerdict[]): void {
    for (const verdict of stored) if (verdict.line === this.line) this.addWafer(verdict);
  }

  /** The recent wafer verdicts, newest first: of one station, or of the whole line. */
  recentWafers(station?: string, limit = this.waferLimit): WaferVerdict[] {
    const of = station === undefined ? this.wafers : this.wafers.filter((v) => v.station === station);
    return of.slice(0, limit);
  }

  /** The latest `perStation` verdicts of every station, newest first: what a snapshot carries. */
  snapshotWafers(perStation: number): WaferVerdict[] {
    const counts = new Map<string, number>();
    return this.wafers.filter((v) => {
      const n = counts.get(v.station) ?? 0;
      counts.set(v.station, n + 1);
      return n < perStation;
    });
  }

  /** True when the line has meta or wafer verdicts of the station. */
  knows(station: string): boolean {
    return this.metas.has(station) || this.wafers.some((v) => v.station === station);
  }

  /** Forgets the whole line; returns every station it knew anything about, so their retained topics can be cleared. */
  clear(): string[] {
    const known = new Set([...this.metas.keys(), ...this.states.keys(), ...this.statuses.keys()]);
    this.metas.clear();
    this.states.clear();
    this.statuses.clear();
    this.recent = [];
    this.wafers = [];
    this.waferIds.clear();
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
      case 'wafer': {
        const r = decodePayload(payload, WaferVerdictSchema, MAX_PAYLOAD_BYTES);
        if (!r.ok) return r.reason;
        if (r.value.station !== station || r.value.line !== this.line) return 'line/station differ from the topic';
        if (this.addWafer(r.value)) this.bus.emit('wafer', r.value);
        return undefined;
      }
      case 'quality': {
        const r = decodePayload(payload, DataQualityEventSchema, MAX_PAYLOAD_BYTES);
        if (!r.ok) return r.reason;
        if (r.value.station !== station || r.value.line !== this.line) return 'line/station differ from the topic';
        // The active issues travel on the retained status; the events are passed on, not kept.
        this.bus.emit('quality', r.value);
        return undefined;
      }
      case 'telemetry':
        return 'telemetry is not handled by the API';
      case 'command':
        return 'commands go to the detector, not the API';
    }
  }

  /**
   * Keeps a verdict in the ring; false when it is already there (QoS 1 may deliver it twice; its id is
   * deterministic) or older than every verdict a full ring keeps (a late redelivery must not be news again).
   */
  private addWafer(verdict: WaferVerdict): boolean {
    if (this.waferIds.has(verdict.id)) return false;
    let at = 0;
    while (at < this.wafers.length && byNewestStep(this.wafers[at] as WaferVerdict, verdict) < 0) at++;
    if (at >= this.waferLimit) return false;
    this.wafers.splice(at, 0, verdict);
    this.waferIds.add(verdict.id);
    for (const dropped of this.wafers.splice(this.waferLimit)) this.waferIds.delete(dropped.id);
    return true;
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
