import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ReadingSample, StationMeta } from '@linewatch/protocol';
import { anomalyNear, marksPlugin, type ChartMarks } from './chart-marks.js';
import { SERIES_DASH, readChartTheme, type ChartTheme } from './chart-theme.js';
import { decimate } from './decimate.js';
import { el } from './dom.js';
import { groupSensors, type SensorGroup } from './sensor-groups.js';
import { SeriesBuffer } from './series-buffer.js';
import { t } from './i18n.js';

/** Points a chart keeps: a day of bucketed history, or 10 minutes at 10 Hz live. */
const MAX_POINTS = 8_000;
/** A chart is drawn at most this often: live data comes in 4 batches a second. */
const MIN_REDRAW_MS = 250;
/** Drawing time a frame may spend on charts before the rest wait for the next frame. */
const FRAME_BUDGET_MS = 8;
/** The equipment-state band under the score chart, in CSS px. */
const STATE_BAND_PX = 14;

interface SensorChart {
  group: SensorGroup;
  buffer: SeriesBuffer;
  plot: uPlot;
}

/**
 * The station view's charts: the anomaly score against its threshold (with the equipment-state band, alert lines
 * and anomaly ticks), then one chart per group of sensors sharing a unit. The x range is set from outside
 * (`setRange`), so live charts scroll with the clock and history shows the range asked for. Hovering one chart
 * shows the same instant on all of them. A click near an anomaly tick picks that anomaly (`onPick`).
 */
export class StationCharts {
  /** The silence drawn as a gap, from the last history read; kept when the charts are rebuilt. */
  private gapMs = 5_000;
  private readonly scoreBuffer = new SeriesBuffer(['score', 'threshold'], MAX_POINTS, this.gapMs);
  private scorePlot: uPlot | null = null;
  private sensorCharts: SensorChart[] = [];
  private meta: StationMeta | null = null;
  private range: [number, number] = [0, 1];
  private marks: ChartMarks = { anomalies: [], alerts: [], states: [], chosen: null };
  private theme: ChartTheme | null = null;
  private dirty = false;
  /** Charts whose new data is not drawn yet, and the frame that will draw (some of) them. */
  private readonly waiting = new Map<uPlot, SeriesBuffer>();
  private frame = 0;
  private readonly drawnAt = new Map<uPlot, number>();
  private later: ReturnType<typeof setTimeout> | null = null;
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(
    private readonly root: HTMLElement,
    private readonly onPick: (anomalyId: string) => void,
  ) {
    this.resize.observe(root);
  }

  /** Builds empty charts for a station (the previous ones go). */
  build(meta: StationMeta): void {
    this.destroy();
    this.meta = meta;
    this.theme = readChartTheme();
    this.scoreBuffer.clear();
    const scoreCell = this.cell('score', t('charts.score'));
    this.scorePlot = new uPlot(this.scoreOptions(scoreCell), this.scoreBuffer.data(), scoreCell.body);
    scoreCell.body.addEventListener('click', (event) => this.pick(event));
    for (const group of groupSensors(meta.sensors)) {
      const cell = this.cell(group.id, group.unit ? t('charts.unit', { unit: group.unit }) : t('charts.noUnit'));
      const buffer = new SeriesBuffer(group.sensors.map((s) => s.name), MAX_POINTS, this.gapMs);
      const plot = new uPlot(this.sensorOptions(group, cell), buffer.data(), cell.body);
      this.sensorCharts.push({ group, buffer, plot });
    }
  }

  /** Rebuilds with the current theme's colours, keeping the data. */
  retheme(): void {
    if (!this.meta) return;
    const score = { xs: [...this.scoreBuffer.xs], cols: this.scoreBuffer.columns.map((c) => [...c]) };
    const sensors = this.sensorCharts.map((c) => ({ xs: [...c.buffer.xs], cols: c.buffer.columns.map((col) => [...col]) }));
    this.build(this.meta);
    const refill = (buffer: SeriesBuffer, saved: { xs: number[]; cols: Array<Array<number | null>> }) => {
      buffer.xs.push(...saved.xs);
      saved.cols.forEach((col, i) => buffer.columns[i]?.push(...col));
    };
    refill(this.scoreBuffer, score);
    this.sensorCharts.forEach((c, i) => {
      const saved = sensors[i];
      if (saved) refill(c.buffer, saved);
    });
    this.redraw();
  }

  destroy(): void {
    this.waiting.clear();
    this.drawnAt.clear();
    if (this.later) clearTimeout(this.later);
    this.later = null;
    this.scorePlot?.destroy();
    this.scorePlot = null;
    for (const c of this.sensorCharts) c.plot.destroy();
    this.sensorCharts = [];
    this.root.replaceChildren();
    this.meta = null;
  }

  /** Drops all points, e.g. before a history load; `gapMs` is the silence drawn as a gap from now on. */
  clear(gapMs: number): void {
    this.gapMs = gapMs;
    this.scoreBuffer.clear();
    this.scoreBuffer.setGap(gapMs);
    for (const c of this.sensorCharts) {
      c.buffer.clear();
      c.buffer.setGap(gapMs);
    }
    this.dirty = true;
  }

  appendReadings(readings: readonly ReadingSample[]): void {
    for (const reading of readings) for (const c of this.sensorCharts) c.buffer.append(reading.ts, (name) => reading.values[name]);
    this.dirty = readings.length > 0 || this.dirty;
  }

  appendScore(ts: number, score: number | null, threshold: number | null): void {
    this.dirty = this.scoreBuffer.append(ts, (name) => (name === 'score' ? score : threshold)) || this.dirty;
  }

  get lastReadingTs(): number | null {
    return this.sensorCharts[0]?.buffer.last ?? null;
  }

  setMarks(marks: ChartMarks): void {
    this.marks = marks;
    this.dirty = true;
    this.root.dataset.anomalyMarks = String(marks.anomalies.length);
    this.root.dataset.alertMarks = String(marks.alerts.length);
    this.root.dataset.stateSpans = marks.states.map((s) => s.state).join(' ');
  }

  setRange(from: number, to: number): void {
    if (this.range[0] === from && this.range[1] === to) return;
    this.range = [from, to];
    // Points scrolled out of a live window are not kept.
    this.scoreBuffer.trimBefore(from - 60_000);
    for (const c of this.sensorCharts) c.buffer.trimBefore(from - 60_000);
    this.dirty = true;
  }

  /**
   * Draws what changed since the last call; cheap when nothing did. The charts are drawn in the next animation
   * frames, as many per frame as fit in FRAME_BUDGET_MS (at least one): drawing all of them in one go is one long
   * task that drops frames, in software rendering about 10 ms a chart.
   */
  redraw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (this.scorePlot) this.waiting.set(this.scorePlot, this.scoreBuffer);
    for (const c of this.sensorCharts) this.waiting.set(c.plot, c.buffer);
    this.scheduleDraw();
    // What is drawn, for people inspecting the page and for the browser tests.
    const counts = this.counts();
    this.root.dataset.scorePoints = String(counts.score);
    this.root.dataset.readingPoints = String(counts.readings);
    this.root.dataset.lastReading = String(this.lastReadingTs ?? '');
  }

  /**
   * A chart is drawn again once its range moved by about a pixel (5 minutes on 560 px: every half second), and at
   * most 4 times a second: drawing more often changes nothing visible, and every drawn canvas is copied to the
   * compositor, in software rendering the page's largest cost.
   */
  private interval(plot: uPlot): number {
    return Math.max(MIN_REDRAW_MS, (this.range[1] - this.range[0]) / Math.max(100, plot.width));
  }

  /** Draws the waiting charts that are due, in animation frames, within FRAME_BUDGET_MS a frame. */
  private scheduleDraw(): void {
    if (this.frame || this.waiting.size === 0) return;
    const now = performance.now();
    let nextDue = Infinity;
    for (const plot of this.waiting.keys()) nextDue = Math.min(nextDue, (this.drawnAt.get(plot) ?? -Infinity) + this.interval(plot));
    if (nextDue > now) {
      if (!this.later) {
        this.later = setTimeout(() => {
          this.later = null;
          this.scheduleDraw();
        }, nextDue - now);
      }
      return;
    }
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const start = performance.now();
      // Two points per pixel column at most: the same picture, a fraction of the drawing (see decimate.ts).
      const [from, to] = this.range;
      for (const [plot, buffer] of this.waiting) {
        if ((this.drawnAt.get(plot) ?? -Infinity) + this.interval(plot) > start) continue;
        this.waiting.delete(plot);
        this.drawnAt.set(plot, start);
        plot.setData(decimate(buffer.data(), from, to, Math.max(100, plot.width)));
        if (performance.now() - start > FRAME_BUDGET_MS) break;
      }
      this.scheduleDraw();
    });
  }

  /** Points drawn on the score chart and on the sensor charts: what the tests check. */
  counts(): { score: number; readings: number } {
    return { score: this.scoreBuffer.length, readings: this.sensorCharts[0]?.buffer.length ?? 0 };
  }

  private cell(id: string, title: string): { body: HTMLElement; width: number } {
    const cell = el('figure', 'chart-cell');
    cell.dataset.chart = id;
    cell.dataset.testid = 'station-chart';
    cell.append(el('figcaption', 'chart-title', title));
    const body = el('div', 'chart-body');
    cell.append(body);
    this.root.append(cell);
    return { body, width: Math.max(200, body.clientWidth || cell.clientWidth) };
  }

  private base(width: number, height: number): Partial<uPlot.Options> & { width: number; height: number } {
    const theme = this.theme ?? readChartTheme();
    const axis = { stroke: theme.axis, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
    // 24-hour clock times as a fab writes them, with seconds on short ranges and the date on multi-day ones.
    const timeAxis = {
      ...axis,
      values: (_u: uPlot, splits: number[]) => splits.map((v) => axisTime(v, this.range[1] - this.range[0])),
      // Room for each label: "14:05:30" is wider than uPlot's default spacing expects.
      space: (_u: uPlot, _axis: number, min: number, max: number) => (max - min <= 15 * 60_000 ? 110 : max - min <= 86_460_000 ? 80 : 120),
    };
    return {
      width,
      height,
      ms: 1,
      cursor: { sync: { key: 'station-view' }, drag: { x: false, y: false } },
      scales: { x: { time: true, range: () => this.range } },
      axes: [timeAxis, { ...axis, size: 56 }],
      legend: { live: true },
    };
  }

  private chartHeight(rows: number): number {
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    return Math.round(rem * rows);
  }

  private scoreOptions(cell: { width: number }): uPlot.Options {
    const theme = this.theme ?? readChartTheme();
    return {
      ...this.base(cell.width, this.chartHeight(11)),
      scales: {
        x: { time: true, range: () => this.range },
        // asinh: the threshold stays readable beside a score 50 times over it, and 0 is allowed.
        y: { distr: 4, asinh: 1, range: (_u, _min, max) => [0, Math.max(max * 1.1, 1.5)] },
      },
      axes: [
        ...(this.base(cell.width, 0).axes ?? []).slice(0, 1),
        // asinh spreads a little below 0: no negative ticks for a score that cannot be negative.
        { stroke: theme.axis, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 }, size: 56, filter: (_u, splits) => splits.map((v) => (v < 0 ? null : v)) },
      ],
      series: [
        timeSeries(),
        { label: t('charts.scoreSeries'), stroke: theme.text, width: 1.5, points: { show: false } },
        { label: t('charts.threshold'), stroke: theme.alarm, width: 1.5, dash: [8, 4], points: { show: false } },
      ],
      plugins: [marksPlugin(() => this.marks, () => this.theme ?? readChartTheme(), STATE_BAND_PX)],
    };
  }

  private sensorOptions(group: SensorGroup, cell: { width: number }): uPlot.Options {
    const theme = this.theme ?? readChartTheme();
    return {
      ...this.base(cell.width, this.chartHeight(8)),
      series: [
        timeSeries(),
        ...group.sensors.map((sensor, i) => ({
          label: sensor.name,
          stroke: theme.series[i % theme.series.length] ?? theme.text,
          dash: SERIES_DASH[i % SERIES_DASH.length] ?? [],
          width: 1.5,
          points: { show: false },
        })),
      ],
      plugins: [marksPlugin(() => ({ ...this.marks, states: [] }), () => this.theme ?? readChartTheme(), 0)],
    };
  }

  private fit(): void {
    const cells = this.root.querySelectorAll<HTMLElement>('.chart-body');
    const plots = [this.scorePlot, ...this.sensorCharts.map((c) => c.plot)];
    plots.forEach((plot, i) => {
      const body = cells[i];
      if (!plot || !body) return;
      const width = Math.max(200, body.clientWidth);
      if (Math.abs(width - plot.width) > 2) plot.setSize({ width, height: plot.height });
    });
  }

  private pick(event: MouseEvent): void {
    const plot = this.scorePlot;
    if (!plot) return;
    const rect = plot.over.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const near = anomalyNear(this.marks.anomalies, (ts) => plot.valToPos(ts, 'x'), px);
    if (near) this.onPick(near.id);
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A time on the x axis: `14:05:30` on short ranges, `14:05` on hours, `11-29 14:05` over more than a day. */
export function axisTime(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanMs <= 15 * 60_000) return `${hm}:${pad(d.getSeconds())}`;
  if (spanMs <= 86_400_000 + 60_000) return hm;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** The legend's time column, in the page's language and a 24-hour clock. */
function timeSeries(): uPlot.Series {
  return { label: t('charts.time'), value: (_u, v) => (v === null ? '–' : axisTime(v, 0)) };
}
