/** uPlot's data: the times, then one column per series, null for no value. */
export type Columns = [number[], ...Array<Array<number | null>>];

/**
 * Thins points to what `buckets` pixel columns can show: each bucket of more than two points becomes two, at its
 * first and last time, carrying each series' lowest and highest value (alternating which comes first, so a flat
 * noisy line does not tilt). The drawn envelope is the same as with every point; a chart of 3,000 points a series
 * on 600 pixels draws 1,200 instead, which is most of what a redraw costs in software rendering. A bucket where a
 * series has a gap (null) keeps the gap, so a silence still breaks the line. Points outside [from, to] fall in
 * buckets of their own at the edges.
 *
 * @example
 * decimate([[0, 1, 2, 3], [5, 9, 1, 7]], 0, 4, 1) // [[0, 3], [1, 9]]
 */
export function decimate(data: Columns, from: number, to: number, buckets: number): Columns {
  const [xs, ...cols] = data;
  const n = xs.length;
  if (n <= buckets * 2 || to <= from || buckets < 1) return data;
  const width = (to - from) / buckets;
  const outX: number[] = [];
  const outCols: Array<Array<number | null>> = cols.map(() => []);
  let i = 0;
  while (i < n) {
    const bucket = Math.floor(((xs[i] ?? 0) - from) / width);
    let j = i + 1;
    while (j < n && Math.floor(((xs[j] ?? 0) - from) / width) === bucket) j++;
    if (j - i <= 2) {
      for (let k = i; k < j; k++) {
        outX.push(xs[k] ?? 0);
        cols.forEach((col, c) => outCols[c]?.push(col[k] ?? null));
      }
    } else {
      outX.push(xs[i] ?? 0, xs[j - 1] ?? 0);
      cols.forEach((col, c) => {
        let min = Infinity;
        let max = -Infinity;
        let gap = false;
        for (let k = i; k < j; k++) {
          const v = col[k];
          if (v === null || v === undefined) gap = true;
          else {
            if (v < min) min = v;
            if (v > max) max = v;
          }
        }
        const out = outCols[c];
        if (!out) return;
        if (max === -Infinity) out.push(null, null);
        else if (gap) out.push(null, max);
        else if (bucket % 2 === 0) out.push(min, max);
        else out.push(max, min);
      });
    }
    i = j;
  }
  return [outX, ...outCols];
}
