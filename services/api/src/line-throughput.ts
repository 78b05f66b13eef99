import type { LineStats, StationStatus } from '@linewatch/protocol';
import type { LineEvents, TypedBus } from './line-events.js';

/** The trailing window the rate is over. */
export const THROUGHPUT_WINDOW_MS = 3_600_000;
/** Wafer ids remembered per station: far above any line's hourly output, so only a broken feed reaches it. */
const MAX_WAFERS_PER_STATION = 10_000;

/** When a wafer was first and last seen at one station. */
interface Sighting {
  first: number;
  last: number;
}

export interface LineThroughputDeps {
  bus: Pick<TypedBus<LineEvents>, 'on'>;
  /** The live line: statuses of any other line are ignored. */
  line: string;
  /** A live station's place in process order (its meta's `order`); undefined while its meta is unknown. */
  order: (station: string) => number | undefined;
  now?: () => number;
  windowMs?: number;
}

/**
 * The live line's output: wafers reaching its last station. The detector puts the latest reading's process context
 * on every status, so each status of a station says which wafer it works on. Every station's wafer sightings are
 * kept, and the one counted is the last in process order that reports wafers at all: which station that is may
 * change once its meta or its first wafer arrives, and its history is there already.
 *
 * A wafer counts once, when first seen. A wafer stays remembered until it has not been seen for a whole window,
 * so a tool that sits on its last wafer for hours (down, idle) does not count it again every hour.
 */
export class LineThroughput {
  private readonly stations = new Map<string, { sightings: Map<string, Sighting>; sinceStart: number }>();
  private startedAt = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: LineThroughputDeps) {}

  start(): void {
    this.startedAt = this.now();
    this.unsubscribe = this.deps.bus.on('status', (status) => this.observe(status));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** One status of any line; only the live line's with a wafer in its context count. */
  observe(status: StationStatus): void {
    const wafer = status.context?.wafer;
    if (status.line !== this.deps.line || !wafer) return;
    const now = this.now();
    // The status's own time (a retained one may be hours old), never later than now (a tool's clock may run ahead).
    const at = Math.min(status.ts, now);
    let station = this.stations.get(status.station);
    if (!station) this.stations.set(status.station, (station = { sightings: new Map(), sinceStart: 0 }));
    const seen = station.sightings.get(wafer);
    if (seen) {
      seen.last = Math.max(seen.last, at);
      return;
    }
    this.prune(station.sightings, now);
    if (station.sightings.size >= MAX_WAFERS_PER_STATION) {
      const oldest = station.sightings.keys().next();
      if (!oldest.done) station.sightings.delete(oldest.value);
    }
    station.sightings.set(wafer, { first: at, last: at });
    if (at > this.startedAt) station.sinceStart++;
  }

  stats(): LineStats {
    const now = this.now();
    const windowMs = this.windowMs(now);
    const counted = this.countedStation();
    if (!counted) return { at: now, station: null, wafersPerHour: null, wafers: 0, windowMs };
    const { sightings, sinceStart } = counted.record;
    this.prune(sightings, now);
    const windowStart = now - windowMs;
    let wafers = 0;
    // (now - window, now]: a wafer exactly a window old has left it.
    for (const s of sightings.values()) if (s.first > windowStart) wafers++;
    // Two sightings at least: one wafer alone says nothing about a rate.
    const wafersPerHour = sinceStart >= 2 && windowMs > 0 ? (wafers * 3_600_000) / windowMs : null;
    return { at: now, station: counted.station, wafersPerHour, wafers, windowMs };
  }

  private countedStation(): { station: string; record: { sightings: Map<string, Sighting>; sinceStart: number } } | undefined {
    let best: { station: string; order: number } | undefined;
    for (const station of this.stations.keys()) {
      const order = this.deps.order(station);
      if (order === undefined) continue;
      if (!best || order > best.order || (order === best.order && station > best.station)) best = { station, order };
    }
    const record = best ? this.stations.get(best.station) : undefined;
    return best && record ? { station: best.station, record } : undefined;
  }

  /** The window: a full one, or since start while the API has not run that long. */
  private windowMs(now: number): number {
    const full = this.deps.windowMs ?? THROUGHPUT_WINDOW_MS;
    return Math.max(0, Math.min(full, now - this.startedAt));
  }

  /** Forgets wafers not seen for a whole window: they can no longer count, nor be mistaken for new ones. */
  private prune(sightings: Map<string, Sighting>, now: number): void {
    const cutoff = now - (this.deps.windowMs ?? THROUGHPUT_WINDOW_MS);
    for (const [wafer, s] of sightings) if (s.last < cutoff) sightings.delete(wafer);
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
