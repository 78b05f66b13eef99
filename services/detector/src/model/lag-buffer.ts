/**
 * The recent snapshots of one station, for models that read time (metadata `lags` > 0). The detector keeps one
 * per station and pushes every snapshot it routes to a model, keyed by that model (its path).
 *
 * A window only ever holds consecutive snapshots of one key, as in training: when the station moves to another
 * model (its recipe step changed), the history starts afresh, because the last snapshots of the same step on
 * the previous wafer are not this snapshot's past. Call `reset()` when the stream has a gap (the station went
 * offline, a snapshot was dropped or could not be scored), for the same reason.
 *
 * @example
 * const buffer = new LagBuffer();
 * const row = buffer.push(resolved.path, values, resolved.model.meta.lags ?? 0);
 * if (row) scorer.enqueue(resolved, row, …); // else: warming up, L snapshots to go after a step change
 */
export class LagBuffer {
  private key: string | undefined;
  /** The last rows of `key`, newest first: at most `lags` of them, or the last (lags + ½) periods' worth with timing. */
  private history: { ts: number; row: Float64Array }[] = [];

  /**
   * Adds the current snapshot of `key` and returns the model input `[x_t, x_t−1, …, x_t−lags]` (a new array), or
   * undefined while the window cannot be filled yet. Without `timing`, x_t−k is the k-th previous snapshot pushed.
   * With `timing` (the model's `lagPeriodMs`), it is the snapshot nearest to ts − k·period, within half a period:
   * a model trained at 1 Hz then reads the same past on a 10 Hz stream. With lags 0 it returns a copy.
   */
  push(key: string, row: Float64Array, lags: number, timing?: { ts: number; periodMs: number }): Float64Array | undefined {
    if (!(Number.isInteger(lags) && lags >= 0)) throw new Error(`lags must be an integer ≥ 0, got ${lags}`);
    if (key !== this.key || this.history.some((h) => h.row.length !== row.length)) {
      this.key = key;
      this.history = [];
    }
    const width = row.length;
    const past: Float64Array[] = [];
    for (let k = 1; k <= lags; k++) {
      const found = timing ? this.nearest(timing.ts - k * timing.periodMs, timing.periodMs / 2) : this.history[k - 1]?.row;
      if (!found) break;
      past.push(found);
    }
    let stacked: Float64Array | undefined;
    if (past.length === lags) {
      stacked = new Float64Array(width * (lags + 1));
      stacked.set(row, 0);
      past.forEach((p, l) => stacked?.set(p, (l + 1) * width));
    }
    // Kept as a copy: the caller may reuse its row buffer.
    this.history.unshift({ ts: timing?.ts ?? 0, row: Float64Array.from(row) });
    if (timing) {
      const oldest = timing.ts - (lags + 0.5) * timing.periodMs;
      while (this.history.length > 1 && (this.history.at(-1)?.ts ?? 0) < oldest) this.history.pop();
    } else if (this.history.length > lags) {
      this.history.length = lags;
    }
    return stacked;
  }

  private nearest(ts: number, tolerance: number): Float64Array | undefined {
    let best: { ts: number; row: Float64Array } | undefined;
    for (const h of this.history) {
      if (Math.abs(h.ts - ts) <= tolerance && (!best || Math.abs(h.ts - ts) < Math.abs(best.ts - ts))) best = h;
    }
    return best?.row;
  }

  /** Forgets the history (of `key` only, if given and it is the current one). */
  reset(key?: string): void {
    if (key !== undefined && key !== this.key) return;
    this.key = undefined;
    this.history = [];
  }

  /** Snapshots still needed before `push` returns a row for `key` with `lags` (without timing). */
  warmingUp(key: string, lags: number): number {
    return key === this.key ? Math.max(0, lags - this.history.length) : lags;
  }
}
