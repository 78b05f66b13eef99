import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { countAt, framesPerWindow, socketEventArg, socketEventName } from './dashboard-stats.js';

/**
 * Installed with addInitScript, so it runs before the page's own scripts: counts animation frames (one
 * requestAnimationFrame loop; the page itself draws in rAF too) and records long tasks. A plain string rather
 * than a function: tsx adds helpers to compiled functions that do not exist in the page. Both arrays are capped.
 */
const PROBE_SCRIPT = `(() => {
  const frames = [];
  const longTasks = [];
  let longTaskSupported = false;
  const loop = (t) => { if (frames.length < 200000) frames.push(t); requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (longTasks.length < 20000) longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    longTaskSupported = true;
  } catch (e) { /* no longtask entries in this browser: reported as unsupported */ }
  Object.defineProperty(window, '__lwBench', { value: {
    now: () => performance.now(),
    read: (from, to) => ({
      frames: frames.filter((t) => t >= from && t < to),
      longTasks: longTasks.filter((e) => e.start >= from && e.start < to),
      longTaskSupported,
      capped: frames.length >= 200000,
    }),
  } });
})();`;

/** The renderer metrics of CDP Performance.getMetrics this bench reads (sizes in bytes, durations in s). */
export interface RendererMetrics {
  JSHeapUsedSize: number;
  JSHeapTotalSize: number;
  Nodes: number;
  JSEventListeners: number;
  TaskDuration: number;
  ScriptDuration: number;
  LayoutDuration: number;
  RecalcStyleDuration: number;
}

export interface PageWindow {
  framesPerSecond: number[];
  longTasks: { start: number; duration: number }[];
  longTaskSupported: boolean;
}

/** What the page received over its socket.io WebSocket during the measured window, per second of bench time. */
export interface SocketCounts {
  /** Every WebSocket frame, pings included. */
  frames: number[];
  /** socket.io event packets: the messages the page handles. */
  events: number[];
  byEvent: Record<string, number>;
  readingsBatches: number[];
  readings: number;
  /** Receive time − status.ts of every status in every `statuses` batch: reading taken → status on the page (ms). */
  statusAgeMs: number[];
  /** `readings` batches seen before the window opened: the watch worked before measuring began. */
  readingsBatchesBeforeWindow: number;
  /** `watch` events the page sent (whole run): how the station view asks for its readings. */
  watchSent: number;
}

/**
 * The bench's eyes on the page: the init-script probe, and a CDP session for WebSocket frames, heap and renderer
 * metrics. Counting starts at `startWindow()` and stops at `stopWindow()`.
 */
export class PageProbe {
  private window: { t0Wall: number; t0Page: number; endWall: number } | null = null;
  readonly socket: SocketCounts = { frames: [], events: [], byEvent: {}, readingsBatches: [], readings: 0, statusAgeMs: [], readingsBatchesBeforeWindow: 0, watchSent: 0 };

  private constructor(
    private readonly page: Page,
    private readonly cdp: CDPSession,
  ) {}

  /** Call before the first navigation: the init script must be in place when the page's scripts run. */
  static async attach(context: BrowserContext, page: Page): Promise<PageProbe> {
    await context.addInitScript({ content: PROBE_SCRIPT });
    const cdp = await context.newCDPSession(page);
    const probe = new PageProbe(page, cdp);
    cdp.on('Network.webSocketFrameReceived', (e) => probe.onFrame(e.response.payloadData));
    cdp.on('Network.webSocketFrameSent', (e) => {
      if (socketEventName(e.response.payloadData) === 'watch') probe.socket.watchSent++;
    });
    await cdp.send('Network.enable');
    await cdp.send('Performance.enable');
    return probe;
  }

  async metrics(): Promise<RendererMetrics> {
    const { metrics } = await this.cdp.send('Performance.getMetrics');
    const by = new Map(metrics.map((m) => [m.name, m.value]));
    const get = (name: keyof RendererMetrics): number => by.get(name) ?? Number.NaN;
    return {
      JSHeapUsedSize: get('JSHeapUsedSize'), JSHeapTotalSize: get('JSHeapTotalSize'), Nodes: get('Nodes'), JSEventListeners: get('JSEventListeners'),
      TaskDuration: get('TaskDuration'), ScriptDuration: get('ScriptDuration'), LayoutDuration: get('LayoutDuration'), RecalcStyleDuration: get('RecalcStyleDuration'),
    };
  }

  /** A full collection first, so heap readings at the start and at the end compare live objects, not garbage. */
  async metricsAfterGc(): Promise<RendererMetrics> {
    await this.cdp.send('HeapProfiler.collectGarbage');
    return this.metrics();
  }

  async startWindow(seconds: number): Promise<void> {
    const t0Page = (await this.page.evaluate('window.__lwBench.now()')) as number;
    const t0Wall = Date.now();
    this.window = { t0Wall, t0Page, endWall: t0Wall + seconds * 1000 };
  }

  /** Frames per 1 s window and long tasks of the measured window, from the page (page clock). */
  async readWindow(seconds: number): Promise<PageWindow> {
    if (!this.window) throw new Error('readWindow before startWindow');
    const from = this.window.t0Page;
    const to = from + seconds * 1000;
    const got = (await this.page.evaluate(`window.__lwBench.read(${from}, ${to})`)) as {
      frames: number[];
      longTasks: { start: number; duration: number }[];
      longTaskSupported: boolean;
      capped: boolean;
    };
    if (got.capped) throw new Error('the page probe hit its frame cap: the run is longer than it was sized for');
    return { framesPerSecond: framesPerWindow(got.frames, from, to), longTasks: got.longTasks, longTaskSupported: got.longTaskSupported };
  }

  /** One WebSocket frame from the server: counted by bench wall-clock second inside the window. */
  private onFrame(payload: string): void {
    const now = Date.now();
    const name = socketEventName(payload);
    if (!this.window || now < this.window.t0Wall) {
      if (name === 'readings') this.socket.readingsBatchesBeforeWindow++;
      return;
    }
    if (now >= this.window.endWall) return;
    const sec = Math.floor((now - this.window.t0Wall) / 1000);
    const s = this.socket;
    countAt(s.frames, sec);
    countAt(s.events, sec, 0);
    countAt(s.readingsBatches, sec, 0);
    if (name === null) return;
    countAt(s.events, sec);
    s.byEvent[name] = (s.byEvent[name] ?? 0) + 1;
    if (name === 'readings') {
      countAt(s.readingsBatches, sec);
      const batch = socketEventArg(payload) as { readings?: unknown[] } | undefined;
      s.readings += batch?.readings?.length ?? 0;
    } else if (name === 'statuses') {
      const batch = socketEventArg(payload) as Array<{ ts?: number }> | undefined;
      for (const status of Array.isArray(batch) ? batch : []) if (typeof status.ts === 'number') s.statusAgeMs.push(now - status.ts);
    }
  }
}

/** What shows that the heavy path ran: every tile with its sparkline, the station view and its live charts. */
export interface HeavyPath {
  tiles: number;
  sparklines: number;
  stationViewOpen: boolean;
  charts: number;
  uplots: number;
  /** The charts' own counts (data-reading-points / data-score-points on #station-charts). */
  readingPoints: number;
  scorePoints: number;
  /** Tiles and charts inside the viewport: what is painted, not only laid out. */
  tilesInView: number;
  chartsInView: number;
  viewport: { width: number; height: number };
}

/** Counts elements matching `selector` whose box intersects the viewport (a string: see PROBE_SCRIPT). */
const inView = (selector: string): string => `[...document.querySelectorAll('${selector}')].filter((e) => {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
}).length`;

export async function heavyPath(page: Page): Promise<HeavyPath> {
  const charts = page.getByTestId('station-charts');
  const attr = async (name: string): Promise<number> => Number((await charts.getAttribute(name).catch(() => null)) ?? 0);
  return {
    tiles: await page.getByTestId('station-tile').count(),
    sparklines: await page.getByTestId('tile-spark').count(),
    stationViewOpen: await page.getByTestId('station-view').isVisible(),
    charts: await page.getByTestId('station-chart').count(),
    uplots: await page.locator('[data-testid="station-charts"] .uplot').count(),
    readingPoints: await attr('data-reading-points'),
    scorePoints: await attr('data-score-points'),
    tilesInView: (await page.evaluate(inView('[data-testid="station-tile"]'))) as number,
    chartsInView: (await page.evaluate(inView('[data-testid="station-chart"]'))) as number,
    viewport: page.viewportSize() ?? { width: 0, height: 0 },
  };
}

/**
 * Makes the viewport as tall as the page's tiles and station view (at most `maxHeight`), so every sparkline and
 * every chart is painted, as on a wall screen that shows the whole line and one station at once. Only the height
 * changes: the charts keep the width they were built for.
 */
export async function fitViewport(page: Page, maxHeight: number): Promise<void> {
  const size = page.viewportSize();
  if (!size) return;
  const bottom = (await page.evaluate(`(() => {
    const v = document.querySelector('[data-testid="station-view"]');
    return Math.ceil(scrollY + (v ? v.getBoundingClientRect().bottom : document.documentElement.scrollHeight)) + 16;
  })()`)) as number;
  await page.setViewportSize({ width: size.width, height: Math.min(maxHeight, Math.max(size.height, bottom)) });
  await page.evaluate('window.scrollTo(0, 0)');
}

/** Waits (at most `timeoutMs`) until all tiles, their sparklines, the station view and its charts are on the page. */
export async function waitForHeavyPath(page: Page, stations: number, timeoutMs: number): Promise<HeavyPath> {
  const deadline = Date.now() + timeoutMs;
  let seen = await heavyPath(page);
  while (Date.now() < deadline) {
    if (seen.tiles === stations && seen.sparklines === stations && seen.stationViewOpen && seen.charts > 0 && seen.uplots > 0) return seen;
    await new Promise((resolve) => setTimeout(resolve, 250));
    seen = await heavyPath(page);
  }
  throw new Error(`the page never showed the heavy path within ${timeoutMs} ms: ${JSON.stringify(seen)} (wanted ${stations} tiles and sparklines, the station view and its charts)`);
}
