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
  /** The last rows of `key`, newest first, at most `lags` of them. */
  private history: Float64Array[] = [];

  /**
   * Adds the current snapshot of `key` and returns the model input `[x_t, x_t−1, …, x_t−lags]` (a new array), or
   * undefined while fewer than `lags` earlier snapshots of `key` were pushed in a row. With lags 0 it returns a copy.
   */
  push(key: string, row: Float64Array, lags: number): Float64Array | undefined {
    if (!(Number.isInteger(lags) && lags >= 0)) throw new Error(`lags must be an integer ≥ 0, got ${lags}`);
    if (key !== this.key || this.history.some((h) => h.length !== row.length)) {
      this.key = key;
      this.history = [];
    }
    const ready = this.history.length >= lags;
    let stacked: Float64Array | undefined;
    if (ready) {
      const width = row.length;
      stacked = new Float64Array(width * (lags + 1));
      stacked.set(row, 0);
      for (let l = 0; l < lags; l++) stacked.set(this.history[l] as Float64Array, (l + 1) * width);
    }
    // Kept as a copy: the caller may reuse its row buffer.
    this.history.unshift(Float64Array.from(row));
    if (this.history.length > lags) this.history.length = lags;
    return stacked;
  }

  /** Forgets the history (of `key` only, if given and it is the current one). */
  reset(key?: string): void {
    if (key !== undefined && key !== this.key) return;
    this.key = undefined;
    this.history = [];
  }

  /** Snapshots still needed before `push` returns a row for `key` with `lags`. */
  warmingUp(key: string, lags: number): number {
    return key === this.key ? Math.max(0, lags - this.history.length) : lags;
  }
}
