/**
 * Columnar points for one uPlot chart: times (epoch ms) and one value column per series, oldest first. Appends
 * are cheap, a point not newer than the last is refused (a reading the history already has), and a silence longer
 * than `gapMs` is drawn as a gap rather than a line across it.
 */
export class SeriesBuffer {
  readonly xs: number[] = [];
  readonly columns: Array<Array<number | null>>;

  constructor(
    readonly names: readonly string[],
    private readonly maxPoints: number,
    private gapMs: number,
  ) {
    this.columns = names.map(() => []);
  }

  get length(): number {
    return this.xs.length;
  }

  get last(): number | null {
    return this.xs.length > 0 ? (this.xs[this.xs.length - 1] ?? null) : null;
  }

  setGap(gapMs: number): void {
    this.gapMs = gapMs;
  }

  /** Appends one point; `value(name)` gives each series' value (null or a non-finite number: no value). */
  append(ts: number, value: (name: string) => number | null | undefined): boolean {
    const last = this.last;
    // Not newer than the last: the history and the live feed overlap, or the tool sent it twice.
    if (last !== null && ts <= last) return false;
    if (last !== null && ts - last > this.gapMs) this.push(last + 1, () => null);
    this.push(ts, value);
    // Trim in chunks, not one shift per point: splice is O(n).
    if (this.xs.length > this.maxPoints * 1.1) this.dropFirst(this.xs.length - this.maxPoints);
    return true;
  }

  /** Drops every point before `ts`. */
  trimBefore(ts: number): void {
    let n = 0;
    while (n < this.xs.length && (this.xs[n] ?? 0) < ts) n++;
    if (n > 0) this.dropFirst(n);
  }

  clear(): void {
    this.xs.length = 0;
    for (const column of this.columns) column.length = 0;
  }

  /** uPlot's AlignedData: the times and then each series, sharing the arrays (no copy). */
  data(): [number[], ...Array<Array<number | null>>] {
    return [this.xs, ...this.columns];
  }

  private push(ts: number, value: (name: string) => number | null | undefined): void {
    this.xs.push(ts);
    this.names.forEach((name, i) => {
      const v = value(name);
      this.columns[i]?.push(typeof v === 'number' && Number.isFinite(v) ? v : null);
    });
  }

  private dropFirst(n: number): void {
    this.xs.splice(0, n);
    for (const column of this.columns) column.splice(0, n);
  }
}
