/** How far back a tile's sparkline reaches. */
export const SPARK_SPAN_MS = 5 * 60_000;
/**
 * A sparkline keeps one point a second per station: the highest score of that second (its 5 minutes are about
 * 2.5 s a pixel, so nothing visible is lost, and an excursion is never averaged away).
 */
export const SPARK_BUCKET_MS = 1_000;
/** Points kept per station: 5 minutes at one a second, with room. */
const MAX_POINTS = 400;

export interface ScorePoint {
  ts: number;
  score: number;
  threshold: number;
}

/**
 * The recent anomaly scores of every station, for the tiles' sparklines. Fed by every status the live feed brings
 * (about 4 a second per station at most, the server coalesces) and by the API's history after a (re)connect, so a
 * sparkline is whole again without a reload. Mutable on purpose: it changes far more often than the page renders.
 */
export class ScoreHistory {
  private readonly byStation = new Map<string, ScorePoint[]>();

  /**
   * Adds a point; one not newer than the station's last is ignored (the history and the feed overlap), and one in
   * the same second as the last is folded into it (the higher score stays).
   */
  add(key: string, point: ScorePoint): void {
    let points = this.byStation.get(key);
    if (!points) this.byStation.set(key, (points = []));
    const last = points[points.length - 1];
    if (last && point.ts <= last.ts) return;
    if (last && Math.floor(point.ts / SPARK_BUCKET_MS) === Math.floor(last.ts / SPARK_BUCKET_MS)) {
      points[points.length - 1] = { ts: point.ts, score: Math.max(last.score, point.score), threshold: point.threshold };
      return;
    }
    points.push(point);
    if (points.length > MAX_POINTS * 1.2) points.splice(0, points.length - MAX_POINTS);
  }

  /** Merges points from the history (any order, may overlap what the feed already brought). */
  merge(key: string, points: readonly ScorePoint[]): void {
    const byTs = new Map<number, ScorePoint>();
    for (const p of this.byStation.get(key) ?? []) byTs.set(p.ts, p);
    for (const p of points) if (!byTs.has(p.ts)) byTs.set(p.ts, p);
    const merged = [...byTs.values()].sort((a, b) => a.ts - b.ts);
    this.byStation.set(key, merged.slice(-MAX_POINTS));
  }

  /** The station's newest point, if any. */
  last(key: string): ScorePoint | undefined {
    const points = this.byStation.get(key);
    return points?.[points.length - 1];
  }

  /** The station's points since `from`, oldest first. */
  since(key: string, from: number): ScorePoint[] {
    const points = this.byStation.get(key) ?? [];
    let i = points.length;
    while (i > 0 && (points[i - 1]?.ts ?? 0) >= from) i--;
    return points.slice(i);
  }

  /** Forgets a line's stations: a new replay clears the replay line, and its data clock may start earlier. */
  dropLine(line: string): void {
    for (const key of this.byStation.keys()) if (key.startsWith(`${line}/`)) this.byStation.delete(key);
  }
}

export interface SparkColours {
  line: string;
  over: string;
  limit: string;
}

/** One pixel column of a sparkline: the lowest and highest score in it, and whether any was over the limit. */
interface Column {
  x: number;
  min: number;
  max: number;
  over: boolean;
  ts: number;
}

/** Points folded into pixel columns (min and max each), so a long history costs one segment per pixel, not per point. */
function columns(points: readonly ScorePoint[], x: (ts: number) => number): Column[] {
  const out: Column[] = [];
  for (const p of points) {
    const px = Math.round(x(p.ts));
    const last = out[out.length - 1];
    if (last && last.x === px) {
      last.min = Math.min(last.min, p.score);
      last.max = Math.max(last.max, p.score);
      last.over ||= p.score > p.threshold;
      last.ts = p.ts;
    } else out.push({ x: px, min: p.score, max: p.score, over: p.score > p.threshold, ts: p.ts });
  }
  return out;
}

/**
 * Draws a sparkline: the score over [from, to] against its limit (a dashed line at the threshold), with the part
 * over the limit in the alarm colour. The y axis spans 0..2× the limit (higher values are clipped at the top), so
 * the limit always sits in the middle and every tile reads the same way. Two strokes a tile, however many points.
 * `size` is the canvas's CSS size, measured apart (a ResizeObserver): reading it here, between DOM writes, would
 * force a layout per tile.
 */
export function drawSparkline(
  canvas: HTMLCanvasElement,
  size: { width: number; height: number },
  points: readonly ScorePoint[],
  from: number,
  to: number,
  colours: SparkColours,
): void {
  const dpr = devicePixelRatio || 1;
  const width = Math.max(1, Math.round(size.width * dpr));
  const height = Math.max(1, Math.round(size.height * dpr));
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, width, height);
  const threshold = points[points.length - 1]?.threshold ?? 1;
  const top = threshold * 2 || 1;
  const x = (ts: number) => ((ts - from) / (to - from)) * width;
  const y = (v: number) => height - Math.min(1, Math.max(0, v / top)) * (height - 2 * dpr) - dpr;
  ctx.strokeStyle = colours.limit;
  ctx.lineWidth = dpr;
  ctx.setLineDash([3 * dpr, 3 * dpr]);
  ctx.beginPath();
  ctx.moveTo(0, y(threshold));
  ctx.lineTo(width, y(threshold));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.lineWidth = 1.5 * dpr;
  const cols = columns(points, x);
  for (const over of [false, true]) {
    ctx.strokeStyle = over ? colours.over : colours.line;
    ctx.beginPath();
    for (let i = 1; i < cols.length; i++) {
      const a = cols[i - 1];
      const b = cols[i];
      // A silence longer than 10 s is a gap, not a straight line.
      if (!a || !b || b.over !== over || b.ts - a.ts > 10_000) continue;
      ctx.moveTo(a.x, y(a.max));
      ctx.lineTo(b.x, y(b.min));
      if (b.max !== b.min) ctx.lineTo(b.x, y(b.max));
    }
    ctx.stroke();
  }
}
