import type { AlertView, Anomaly, ReadingsBatch, StationHistory, StationMeta, StateMessage, StationStatus } from '@linewatch/protocol';
import { historyApi } from './api-client.js';
import type { StationCharts } from './station-charts.js';
import { chartMarks } from './station-marks.js';
import { resolveWindow, sameWindow, type TimeWindow } from './time-window.js';

/** How often a window that ends now (15 min, 1 h, 24 h) is read again. */
const REFRESH_MS: Record<string, number> = { '15m': 15_000, '1h': 30_000, '24h': 60_000 };
/** Live charts move in steps this long: 4 redraws a second at most, however often the page renders. */
const LIVE_STEP_MS = 250;
/** Live readings kept while the history loads, to append after it. */
const MAX_PENDING = 20_000;

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

export type LoadState = { kind: 'idle' } | { kind: 'loading' } | { kind: 'loaded'; at: number; bucketMs: number | null } | { kind: 'failed'; message: string };

/**
 * Keeps the station view's charts fed: loads the window's history from the API, appends the live feed's readings
 * and scores to a live window, marks anomalies, alerts and equipment states, and reads the history again after a
 * reconnect (the page catches up without a reload). Readings that arrive while history loads are held and
 * appended after it, so the join has neither a hole nor a duplicate.
 */
export class StationFeed {
  private key = '';
  private window: TimeWindow | null = null;
  private history: StationHistory | null = null;
  private generation = 0;
  private loading = false;
  private pending: ReadingsBatch['readings'] = [];
  private pendingScores: Array<{ ts: number; score: number | null; threshold: number | null }> = [];
  private lastLoad = 0;
  private marksInput: unknown[] = [];
  private anomalies: Anomaly[] = [];
  load: LoadState = { kind: 'idle' };

  constructor(
    private readonly charts: StationCharts,
    private readonly onChange: () => void,
    private readonly fetchHistory = historyApi.station,
  ) {}

  /** The anomalies the charts mark (history and live), newest first: where a chosen one is looked up. */
  get knownAnomalies(): Anomaly[] {
    return this.anomalies;
  }

  get showing(): string {
    return this.key;
  }

  /** Called on every render with what the view shows; cheap when nothing changed. */
  show(input: FeedInput | null): void {
    if (input === null) {
      if (this.key !== '') this.close();
      return;
    }
    const key = `${input.line}/${input.station}|${input.meta.sensors.map((s) => s.name).join(',')}`;
    const { from, to, follows } = resolveWindow(input.window, input.now);
    if (key !== this.key) {
      this.key = key;
      this.window = input.window;
      this.charts.build(input.meta);
      this.reload(input);
    } else if (!this.window || !sameWindow(this.window, input.window)) {
      this.window = input.window;
      this.reload(input);
    } else if (!follows && input.window.kind === 'last' && !this.loading && input.now - this.lastLoad > (REFRESH_MS[input.window.span] ?? 30_000)) {
      this.reload(input);
    }
    const end = follows ? Math.ceil(to / LIVE_STEP_MS) * LIVE_STEP_MS : to;
    this.charts.setRange(follows ? end - (to - from) : from, end);
    this.updateMarks(input, end);
    this.charts.redraw();
  }

  /** The live feed's readings of the watched station. */
  readings(batch: ReadingsBatch): void {
    if (!this.follows(batch.line, batch.station)) return;
    if (this.loading) {
      this.pending.push(...batch.readings);
      if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
      return;
    }
    this.charts.appendReadings(batch.readings);
  }

  /** The station's status: its score is the score chart's live point. */
  status(status: StationStatus): void {
    if (!this.follows(status.line, status.station)) return;
    const point = { ts: status.ts, score: status.score, threshold: status.threshold };
    if (this.loading) this.pendingScores.push(point);
    else this.charts.appendScore(point.ts, point.score, point.threshold);
  }

  /** After a reconnect: read the window again, so what was missed while away is drawn. */
  catchUp(now: number): void {
    if (this.key === '' || !this.window || !this.lastInput) return;
    this.reload({ ...this.lastInput, now });
  }

  close(): void {
    this.key = '';
    this.window = null;
    this.history = null;
    this.generation++;
    this.loading = false;
    this.pending = [];
    this.pendingScores = [];
    this.anomalies = [];
    this.lastInput = null;
    this.load = { kind: 'idle' };
    this.charts.destroy();
  }

  private lastInput: FeedInput | null = null;

  private follows(line: string, station: string): boolean {
    return this.window?.kind === 'live' && this.key.startsWith(`${line}/${station}|`);
  }

  private reload(input: FeedInput): void {
    this.lastInput = input;
    const generation = ++this.generation;
    const { from, to } = resolveWindow(input.window, input.now);
    this.loading = true;
    this.lastLoad = input.now;
    this.load = { kind: 'loading' };
    this.pending = [];
    this.pendingScores = [];
    this.fetchHistory(input.line, input.station, from, to).then(
      (history) => {
        if (generation !== this.generation) return;
        this.apply(history);
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        this.loading = false;
        this.load = { kind: 'failed', message: err instanceof Error ? err.message : String(err) };
        // Live data still draws; the history is what is missing.
        this.flushPending();
        this.onChange();
      },
    );
  }

  private apply(history: StationHistory): void {
    this.history = history;
    this.loading = false;
    const gap = gapFor(history);
    this.charts.clear(gap);
    this.charts.appendReadings(history.readings);
    for (const s of history.scores) this.charts.appendScore(s.ts, s.score, s.threshold);
    this.flushPending();
    this.marksInput = [];
    this.load = { kind: 'loaded', at: Date.now(), bucketMs: history.bucketMs };
    this.onChange();
  }

  private flushPending(): void {
    this.charts.appendReadings(this.pending);
    for (const s of this.pendingScores) this.charts.appendScore(s.ts, s.score, s.threshold);
    this.pending = [];
    this.pendingScores = [];
  }

  private updateMarks(input: FeedInput, end: number): void {
    this.lastInput = input;
    // Marks change when their inputs do, not with every frame.
    const inputs = [this.history, input.liveAnomalies, input.alerts, input.state, input.chosen, Math.floor(end / 1_000)];
    if (inputs.length === this.marksInput.length && inputs.every((v, i) => v === this.marksInput[i])) return;
    this.marksInput = inputs;
    const { marks, anomalies } = chartMarks({ history: this.history, liveAnomalies: input.liveAnomalies, alerts: input.alerts, state: input.state, line: input.line, station: input.station, end, chosen: input.chosen });
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
