import { TelemetrySchema, type Telemetry } from '@linewatch/protocol';
import type { RecordingEntry } from '@linewatch/recording';
import type { ReadingRow, Store } from '@linewatch/store';
import type { ReplaySegment, ReplaySource } from './source.js';
import { StationPages } from './station-pages.js';
import { SyntheticMeta } from './synthetic-meta.js';

export interface StoreRangeOptions {
  store: Store;
  line: string;
  /** Stations to replay, in the order their metas give (`order`). */
  stations: readonly string[];
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** Station type for every synthesised meta; default: each station id without a trailing `-NN`. */
  type?: string | undefined;
  /** Rows per store query; default 5 000. */
  pageSize?: number | undefined;
  /** Shown in progress and logs instead of the store kind, e.g. the redacted InfluxDB URL and database. */
  label?: string | undefined;
}

/** A stored row that is not a valid telemetry message; it is skipped, counted and shown, never dropped unseen. */
export interface SkippedRow {
  station: string;
  ts: number;
  reason: string;
}

const DEFAULT_PAGE_SIZE = 5_000;
const MAX_SKIPPED_SHOWN = 20;

/**
 * Readings of a time range from any `Store` (InfluxDB, SQLite), merged across stations in time order. A store
 * keeps readings only, so each station gets a synthesised meta before its first reading (and again when a new
 * sensor shows up), and there is no state and no ground truth.
 *
 * @example
 * const source = new StoreRangeSource({ store, line: 'fab1', stations: ['etch-01'], from: Date.parse('2026-11-20T08:00Z'), to: Date.parse('2026-11-20T09:00Z') });
 */
export class StoreRangeSource implements ReplaySource {
  /** Rows skipped because they are not valid telemetry, over every read. */
  skippedCount = 0;
  readonly skipped: SkippedRow[] = [];
  private readonly pageSize: number;

  constructor(private readonly options: StoreRangeOptions) {
    if (options.stations.length === 0) throw new Error('a store replay needs at least one station');
    if (!(Number.isSafeInteger(options.from) && Number.isSafeInteger(options.to) && options.to > options.from)) {
      throw new Error(`store range must be epoch ms with from before to, got ${options.from}..${options.to}`);
    }
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  get description(): string {
    const { line, from, to, label, store } = this.options;
    return `${label ?? `${store.kind} store`} ${line} ${new Date(from).toISOString()}..${new Date(to).toISOString()}`;
  }

  async segments(): Promise<ReplaySegment[]> {
    const { store, line, stations, from, to } = this.options;
    let readings = 0;
    let withData = 0;
    for (const station of stations) {
      let n: number;
      try {
        n = await store.countReadings({ line, station, from, to });
      } catch (err) {
        throw new Error(`counting readings of ${line}/${station} in the ${store.kind} store failed`, { cause: err });
      }
      readings += n;
      if (n > 0) withData++;
    }
    // One meta per station with data; a meta re-sent for a sensor that appears later is not counted ahead.
    return [{ name: this.description, entries: readings + withData, read: () => this.read() }];
  }

  private async *read(): AsyncGenerator<RecordingEntry> {
    const { store, line, stations, from, to } = this.options;
    const cursors = stations.map((station) => new StationPages({ store, line, station, from, to, pageSize: this.pageSize }));
    const metas = stations.map((station, order) => new SyntheticMeta(line, station, order, this.options.type));
    const heads = await Promise.all(cursors.map((c) => c.peek()));
    const first = Math.min(...heads.map((h) => h?.ts ?? Number.POSITIVE_INFINITY));
    if (!Number.isFinite(first)) return;
    // Every station is described before any reading, as the simulator does on connect.
    for (const [i, cursor] of cursors.entries()) {
      if (!heads[i]) continue;
      for (const row of cursor.currentPage) metas[i]!.observe(row.values);
      if (metas[i]!.sensorCount > 0) yield this.metaEntry(metas[i]!, first);
    }
    for (;;) {
      const next = await this.earliest(cursors);
      if (next === undefined) return;
      const row = cursors[next]!.take();
      const station = stations[next]!;
      const msg = this.telemetry(station, row);
      if (!msg) continue;
      if (metas[next]!.observe(msg.values)) yield this.metaEntry(metas[next]!, row.ts);
      yield { at: row.ts, line, station, kind: 'telemetry', msg };
    }
  }

  /** Index of the station whose next reading is earliest (ties: station order), or undefined when all are done. */
  private async earliest(cursors: StationPages[]): Promise<number | undefined> {
    let best: number | undefined;
    let bestTs = Number.POSITIVE_INFINITY;
    for (const [i, cursor] of cursors.entries()) {
      const head = await cursor.peek();
      if (head && head.ts < bestTs) {
        best = i;
        bestTs = head.ts;
      }
    }
    return best;
  }

  private metaEntry(meta: SyntheticMeta, at: number): RecordingEntry {
    const msg = meta.message();
    return { at, line: msg.line, station: msg.station, kind: 'meta', msg };
  }

  private telemetry(station: string, row: ReadingRow): Telemetry | undefined {
    const parsed = TelemetrySchema.safeParse({ ts: row.ts, seq: row.seq, values: row.values, ...(row.context ? { context: row.context } : {}) });
    if (parsed.success) return parsed.data;
    this.skippedCount++;
    if (this.skipped.length < MAX_SKIPPED_SHOWN) {
      this.skipped.push({ station, ts: row.ts, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    }
    return undefined;
  }
}
