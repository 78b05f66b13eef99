/** Period assumed when a recording has too little telemetry to tell (one snapshot a second, the simulator's default). */
export const DEFAULT_PERIOD_MS = 1000;
/** Deltas kept; the median of the first few hundred is as good as of all of them, and bounded. */
const MAX_SAMPLES = 255;

/**
 * The sample period of a recording: the median gap between consecutive snapshots of one station. The median
 * rather than the minimum, because real feeds have jitter and the odd burst; only positive gaps count.
 */
export class SamplePeriod {
  private readonly lastTs = new Map<string, number>();
  private readonly deltas: number[] = [];

  observe(station: string, ts: number): void {
    const last = this.lastTs.get(station);
    this.lastTs.set(station, ts);
    if (last !== undefined && ts > last && this.deltas.length < MAX_SAMPLES) this.deltas.push(ts - last);
  }

  /** Median gap in ms, at least 1; DEFAULT_PERIOD_MS when no station sent two snapshots. */
  estimate(): number {
    if (this.deltas.length === 0) return DEFAULT_PERIOD_MS;
    const sorted = [...this.deltas].sort((a, b) => a - b);
    return Math.max(1, Math.round(sorted[Math.floor(sorted.length / 2)]!));
  }
}
