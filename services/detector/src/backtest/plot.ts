import type { Episode, WindowResult } from './evaluate.js';
import type { StationTrace } from './trace.js';

export const PLOT = { width: 960, height: 170, left: 46, right: 8, top: 10, bottom: 22 } as const;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Fixed-precision numbers keep the SVG small and the file byte-identical run to run. */
const f1 = (x: number): string => x.toFixed(1);

/**
 * Score against threshold for one station and run, as inline SVG: the score on a log axis (min and max per
 * pixel column, so a one-sample spike still shows), the threshold, fault windows shaded amber, ALARM episodes as
 * a red band, and a marker where each window was detected.
 */
export function scorePlot(t: StationTrace, windows: WindowResult[], episodes: Episode[]): string {
  const { width, height, left, right, top, bottom } = PLOT;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = t.ts.length;
  if (n === 0) return '<p class="muted">no scored snapshots</p>';
  const t0 = t.ts[0] as number;
  const t1 = Math.max(t.ts[n - 1] as number, t0 + 1);
  const x = (ts: number): number => left + ((Math.min(Math.max(ts, t0), t1) - t0) / (t1 - t0)) * plotW;
  const logOf = (v: number): number => Math.log10(Math.max(v, 1e-3));
  let hi = 0.5;
  let lo = -1;
  for (let i = 0; i < n; i++) {
    hi = Math.max(hi, logOf(t.score[i] as number), logOf(t.threshold[i] as number) + 0.3);
    lo = Math.min(lo, logOf(t.score[i] as number));
  }
  lo = Math.max(lo, -3);
  const y = (v: number): number => top + (1 - (logOf(v) - lo) / (hi - lo)) * plotH;

  const columns = Math.min(plotW, n);
  const maxPath: string[] = [];
  const minPath: string[] = [];
  const thresholdPath: string[] = [];
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * n) / columns);
    const to = Math.max(from + 1, Math.floor(((c + 1) * n) / columns));
    let max = Number.NEGATIVE_INFINITY;
    let min = Number.POSITIVE_INFINITY;
    let threshold = 0;
    for (let i = from; i < to; i++) {
      const s = t.score[i] as number;
      if (s > max) max = s;
      if (s < min) min = s;
      threshold = Math.max(threshold, t.threshold[i] as number);
    }
    const px = f1(x(t.ts[from] as number));
    maxPath.push(`${c === 0 ? 'M' : 'L'}${px} ${f1(y(max))}`);
    minPath.push(`${c === 0 ? 'M' : 'L'}${px} ${f1(y(min))}`);
    thresholdPath.push(`${c === 0 ? 'M' : 'L'}${px} ${f1(y(threshold))}`);
  }
  const shaded = windows
    .map((w) => `<rect class="win" x="${f1(x(w.start))}" y="${top}" width="${f1(Math.max(1.5, x(w.end) - x(w.start)))}" height="${plotH}"><title>${escapeHtml(`${w.fault}: ${w.detected ? 'detected' : 'missed'}`)}</title></rect>`)
    .join('');
  const alarms = episodes
    .map((e) => `<rect class="${e.window ? 'alarm' : 'false'}" x="${f1(x(e.start))}" y="${top}" width="${f1(Math.max(1.5, x(e.end) - x(e.start)))}" height="5"><title>${escapeHtml(e.window ? `ALARM ${e.id}` : `false alert ${e.id}`)}</title></rect>`)
    .join('');
  const marks = windows
    .filter((w) => w.detectedAt !== null)
    .map((w) => {
      const px = x(w.detectedAt as number);
      return `<path class="mark" d="M${f1(px)} ${top + 7}l-4 7h8z"><title>detected after ${((w.timeToDetectMs as number) / 1000).toFixed(1)} s</title></path>`;
    })
    .join('');
  const ticks = [lo, 0, hi]
    .filter((v, i, all) => v >= lo && v <= hi && all.indexOf(v) === i)
    .map((v) => `<text class="tick" x="${left - 4}" y="${f1(top + (1 - (v - lo) / (hi - lo)) * plotH + 3)}">${escapeHtml(formatScore(10 ** v))}</text>`)
    .join('');
  const minutes = (t1 - t0) / 60_000;
  const axis = `<text class="tick start" x="${left}" y="${height - 6}">${new Date(t0).toISOString().replace('.000Z', 'Z')}</text><text class="tick" x="${width - right}" y="${height - 6}">+${minutes.toFixed(1)} min</text>`;
  return [
    `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="score of ${escapeHtml(t.station)}">`,
    `<rect class="bg" x="${left}" y="${top}" width="${plotW}" height="${plotH}"/>`,
    shaded,
    `<path class="smin" d="${minPath.join('')}"/><path class="smax" d="${maxPath.join('')}"/><path class="thr" d="${thresholdPath.join('')}"/>`,
    alarms,
    marks,
    ticks,
    axis,
    '</svg>',
  ].join('');
}

export function formatScore(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1);
  return v.toPrecision(1);
}
