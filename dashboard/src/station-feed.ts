import type { AlertView, Anomaly, ReadingSample, StationHistory, StationMeta, StateMessage, StationStatus } from '@linewatch/protocol';
import { historyApi } from './api-client.js';
import { chartMarks } from './station-marks.js';
import { resolveWindow, sameWindow, type TimeWindow } from './time-window.js';

/** How often a window that ends now (15 min, 1 h, 24 h) is read again. */
const REFRESH_MS: Record<string, number> = { '15m': 15_000, '1h': 30_000, '24h': 60_000 };
/** Live charts move in steps this long: 4 redraws a second at most, however often the page renders. */
const LIVE_STEP_MS = 250;
/**
 * The store is a little behind the live feed (the detector writes in batches): a Live window reads its history
 * once more this long after opening or reconnecting, when the store has caught up with the first live readings.
 */
const SETTLE_MS = 2_000;
/** Retries of a failed history read: 5 s, 10 s, then every 30 s. */
const RETRY_MS = [5_000, 10_000, 30_000];
/** Live readings and scores kept to join onto a history read: a minute, bounded in count too. */
const RECENT_MS = 60_000;
const MAX_RECENT = 20_000;

/** What the station view draws into: StationCharts, or a stand-in in tests. */
export interface ChartSink {
  build(meta: StationMeta): void;
  destroy(): void;
  clear(gapMs: number): void;
  appendReadings(readings: readonly ReadingSample[]): void;
  appendScore(ts: number, score: number | null, threshold: number | null): void;
  setMarks(marks: ReturnType<typeof chartMarks>['marks']): void;
  setRange(from: number, to: number): void;
  redraw(): void;
}

export type HistoryFetch = (line: string, station: string, from: number, to: number, signal?: AbortSignal) => Promise<StationHistory>;

/** What the station view shows: one station of one line, its meta, its window, and the live line's news. */
export interface FeedInput {
  line: string;
  station: string;
  meta: StationMeta;
  window: TimeWindow;
  state: StateMessage | null;
  liveAnomalies: readonly Anomaly[];
  alerts: readonly AlertView[];
  chosen: string | null;
  /** Server time now. */
  now: number;
}

export type LoadState = { kind: 'idle' } | { kind: 'loading' } | { kind: 'loaded'; bucketMs: number | null } | { kind: 'failed'; message: string; retryAt: number };

interface ScoreSample {
  ts: number;
  score: number | null;
  threshold: number | null;
}

/** Keeps the items of the last RECENT_MS (by their ts), at most MAX_RECENT. */
function keepRecent<T extends { ts: number }>(list: T[], now: number): void {
  let drop = 0;
  while (drop < list.length && (list[drop]?.ts ?? 0) < now - RECENT_MS) drop++;
  drop = Math.max(drop, list.length - MAX_RECENT);
  if (drop > 0) list.splice(0, drop);
}

/**
 * Keeps the station view's charts fed: loads the window's history from the API, appends the live feed's readings
 * and scores to a live window, marks anomalies, alerts and equipment states, and reads the history again after a
 * reconnect (the page catches up without a reload), after a failure (with backoff), and once shortly after a Live
 * window opens (the store lags the feed). The last minute of live readings is kept and joined onto every history
 * read, so the join has no hole; the charts refuse what is not newer than their last point, so it has no duplicate.
 */
export class StationFeed {
  private key = '';
  private window: TimeWindow | null = null;
  private history: StationHistory | null = null;
  private generation = 0;
  private abort: AbortController | null = null;
  private readonly recentReadings: ReadingSample[] = [];
  private readonly recentScores: ScoreSample[] = [];
  private lastLoad = 0;
  private settleAt: number | null = null;
  private failures = 0;
  private lastInput: FeedInput | null = null;
  private marksInput: unknown[] = [];
  private anomalies: Anomaly[] = [];
  private frame = 0;
  load: LoadState = { kind: 'idle' };

  constructor(
    private readonly charts: ChartSink,
    private readonly onChange: () => void,
    private readonly fetchHistory: HistoryFetch = historyApi.station,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The anomalies the charts mark (history and live), newest first: where a chosen one is looked up. */
  get knownAnomalies(): Anomaly[] {
    return this.anomalies;
  }

  /** Called on every render with what the view shows; cheap when nothing changed. */
  show(input: FeedInput | null): void {
    if (input === null) {
      if (this.key !== '') this.close();
      return;
    }
    const key = `${input.line}/${input.station}|${input.meta.sensors.map((s) => s.name).join(',')}`;
    const { from, to, follows } = resolveWindow(input.window, input.now);
    if (key !== this.key) this.close();
    this.lastInput = input;
    if (key !== this.key) {
      this.key = key;
      this.window = input.window;
      this.charts.build(input.meta);
      this.reload(input);
    } else if (!this.window || !sameWindow(this.window, input.window)) {
      this.window = input.window;
      this.reload(input);
    } else if (this.due(input)) {
      this.reload(input);
    }
    // Ranges that end now move in steps: a quarter second live, about a pixel for a day.
    const step = Math.max(LIVE_STEP_MS, (to - from) / 2_000);
    const end = follows || input.window.kind === 'last' ? Math.ceil(to / step) * step : to;
    this.charts.setRange(end - (to - from), end);
    this.updateMarks(input);
    this.charts.redraw();
  }

  /** The live feed's readings of the watched station; charts redraw on the next frame, not with a page render. */
  readings(batch: { line: string; station: string; readings: readonly ReadingSample[] }): void {
    if (!this.follows(batch.line, batch.station)) return;
    this.recentReadings.push(...batch.readings);
    keepRecent(this.recentReadings, this.clock());
    if (this.load.kind === 'loading') return;
    this.charts.appendReadings(batch.readings);
    this.redrawSoon();
  }

  /** The station's status: its score is the score chart's live point. */
  status(status: StationStatus): void {
    if (!this.follows(status.line, status.station)) return;
    const point = { ts: status.ts, score: status.score, threshold: status.threshold };
    this.recentScores.push(point);
    keepRecent(this.recentScores, this.clock());
    if (this.load.kind !== 'loading') this.charts.appendScore(point.ts, point.score, point.threshold);
  }

  /** After a reconnect: read the window again (and once more when the store caught up), so what was missed is drawn. */
  catchUp(now: number): void {
    if (this.key === '' || !this.lastInput) return;
    this.reload({ ...this.lastInput, now });
  }

  close(): void {
    this.abort?.abort();
    this.abort = null;
    this.key = '';
    this.window = null;
    this.history = null;
    this.generation++;
    this.recentReadings.length = 0;
    this.recentScores.length = 0;
    this.settleAt = null;
    this.failures = 0;
    this.anomalies = [];
    this.marksInput = [];
    this.lastInput = null;
    this.load = { kind: 'idle' };
    this.charts.destroy();
  }

  private follows(line: string, station: string): boolean {
    return this.window?.kind === 'live' && this.key.startsWith(`${line}/${station}|`);
  }

  /** A read is due: a window ending now went stale, a Live window's settling read, or a retry after a failure. */
  private due(input: FeedInput): boolean {
    if (this.load.kind === 'loading') return false;
    if (this.load.kind === 'failed') return input.now >= this.load.retryAt;
    if (this.settleAt !== null && input.now >= this.settleAt) {
      this.settleAt = null;
      return true;
    }
    return input.window.kind === 'last' && input.now - this.lastLoad > (REFRESH_MS[input.window.span] ?? 30_000);
  }

  private reload(input: FeedInput): void {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const generation = ++this.generation;
    const { from, to, follows } = resolveWindow(input.window, input.now);
    this.lastLoad = input.now;
    this.load = { kind: 'loading' };
    this.fetchHistory(input.line, input.station, from, to, abort.signal).then(
      (history) => {
        if (generation !== this.generation) return;
        this.failures = 0;
        // A first read of a Live window lags the feed by the detector's write batching: read once more soon.
        if (follows && this.history === null) this.settleAt = input.now + SETTLE_MS;
        this.apply(history);
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)] ?? 30_000;
        this.failures++;
        this.load = { kind: 'failed', message: err instanceof Error ? err.message : String(err), retryAt: input.now + wait };
        // Live data still draws; the history is what is missing.
        this.joinRecent();
        this.onChange();
      },
    );
  }

  private apply(history: StationHistory): void {
    this.history = history;
    this.charts.clear(gapFor(history));
    this.charts.appendReadings(history.readings);
    for (const s of history.scores) this.charts.appendScore(s.ts, s.score, s.threshold);
    this.joinRecent();
    this.marksInput = [];
    this.load = { kind: 'loaded', bucketMs: history.bucketMs };
    this.onChange();
  }

  /** The live minute after whatever is drawn: the charts keep only what is newer than their last point. */
  private joinRecent(): void {
    this.charts.appendReadings(this.recentReadings);
    for (const s of this.recentScores) this.charts.appendScore(s.ts, s.score, s.threshold);
  }

  private redrawSoon(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.charts.redraw();
    });
  }

  private updateMarks(input: FeedInput): void {
    // Marks change when their inputs do, not with every frame; the last state runs to the chart's right edge.
    const inputs = [this.history, input.liveAnomalies, input.alerts, input.state, input.chosen];
    if (inputs.length === this.marksInput.length && inputs.every((v, i) => v === this.marksInput[i])) return;
    this.marksInput = inputs;
    const { marks, anomalies } = chartMarks({ history: this.history, liveAnomalies: input.liveAnomalies, alerts: input.alerts, state: input.state, line: input.line, station: input.station, end: Number.POSITIVE_INFINITY, chosen: input.chosen });
    this.anomalies = anomalies;
    this.charts.setMarks(marks);
  }
}

/** A silence drawn as a gap: 5 times the usual spacing of the history's points, at least 5 s. */
export function gapFor(history: Pick<StationHistory, 'readings' | 'bucketMs'>): number {
  if (history.bucketMs) return history.bucketMs * 3;
  const steps: number[] = [];
  for (let i = 1; i < history.readings.length && steps.length < 200; i++) steps.push((history.readings[i]?.ts ?? 0) - (history.readings[i - 1]?.ts ?? 0));
  steps.sort((a, b) => a - b);
  const median = steps[Math.floor(steps.length / 2)] ?? 1_000;
  return Math.max(5_000, median * 5);
}
