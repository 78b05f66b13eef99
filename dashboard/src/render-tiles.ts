import type { StationView, WaferVerdict } from '@linewatch/protocol';
import { contributorText } from './alert-list.js';
import { el, setText } from './dom.js';
import { formatAge, formatClock, formatNumber, formatWord } from './format.js';
import { HEALTH_ICON, isStale, lastUpdate, type ShownHealth } from './health.js';
import { t as t_ } from './i18n.js';
import type { LineView } from './line-store.js';
import { SPARK_SPAN_MS, drawSparkline, type ScoreHistory, type SparkColours } from './score-history.js';
import { isReplayed } from './station-list.js';
import { VERDICT_LABEL, latestWafer, stepName } from './wafer-list.js';

interface TileParts {
  root: HTMLLIElement;
  name: HTMLElement;
  id: HTMLElement;
  badge: HTMLElement;
  replayTag: HTMLElement;
  equipment: HTMLElement;
  score: HTMLElement;
  spark: HTMLCanvasElement;
  contributor: HTMLElement;
  wafer: HTMLElement;
  age: HTMLElement;
}


function buildTile(station: string, open: (root: HTMLElement) => void): TileParts {
  const root = el('li', 'tile');
  root.dataset.testid = 'station-tile';
  root.dataset.station = station;
  // The whole tile opens the station's view: a big target on a touch screen, and the keyboard reaches it too.
  root.tabIndex = 0;
  root.setAttribute('role', 'button');
  root.addEventListener('click', () => open(root));
  root.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    open(root);
  });
  const head = el('div', 'tile-head');
  const title = el('div', 'tile-title');
  const name = el('span', 'tile-name');
  const id = el('span', 'tile-id');
  title.append(name, id);
  const badge = el('span', 'badge');
  const replayTag = el('span', 'replay-tag');
  replayTag.dataset.testid = 'replay-tag';
  const badges = el('div', 'tile-badges');
  badges.append(replayTag, badge);
  head.append(title, badges);
  const equipment = el('div', 'tile-equipment');
  const scoreRow = el('div', 'tile-score');
  const score = el('span', 'score-text');
  const spark = el('canvas', 'spark');
  spark.dataset.testid = 'tile-spark';
  spark.setAttribute('aria-hidden', 'true');
  scoreRow.append(score, spark);
  const contributor = el('div', 'tile-contributor');
  const wafer = el('div', 'tile-wafer');
  wafer.dataset.testid = 'tile-wafer';
  const age = el('div', 'tile-age');
  root.append(head, equipment, scoreRow, contributor, wafer, age);
  return { root, name, id, badge, replayTag, equipment, score, spark, contributor, wafer, age };
}

/**
 * In the replay view the data clock is the recording's (shifted, and faster than the wall clock), so ages and
 * staleness mean nothing there: the tile shows the data time, and the detector's OFFLINE covers a silent station.
 */
function fillTile(t: TileParts, view: StationView, serverNow: number, staleAfterMs: number, connected: boolean, mode: LineView, wafers: WaferVerdict[]): void {
  const status = view.status;
  const health: ShownHealth = status?.health ?? 'NO_STATUS';
  const replayView = mode === 'replay';
  const stale = !connected || (!replayView && isStale(view, serverNow, staleAfterMs));
  const replayed = replayView || isReplayed(view);
  t.root.dataset.health = health;
  t.root.dataset.line = view.meta.line;
  t.root.dataset.replay = String(replayed);
  t.root.classList.toggle('stale', stale);
  t.root.classList.toggle('replayed', replayed);
  t.replayTag.hidden = !replayed;
  setText(t.replayTag, t_('tile.replayTag'));
  t.replayTag.title = t_('tile.replayTitle');
  setText(t.name, view.meta.name);
  setText(t.id, view.meta.station);
  setText(t.badge, `${HEALTH_ICON[health]} ${t_(`health.${health}`)}`);
  t.badge.className = `badge health-${health}`;
  setText(t.equipment, view.state ? formatWord(view.state.state) : t_('tile.stateUnknown'));

  const score = status?.score ?? null;
  const threshold = status?.threshold ?? null;
  setText(t.score, score === null ? t_('tile.scoreNone') : t_('tile.score', { score: formatNumber(score), limit: formatNumber(threshold) }));
  t.score.classList.toggle('over', score !== null && threshold !== null && score > threshold);

  const top = health !== 'OK' ? status?.contributors[0] : undefined;
  setText(t.contributor, top ? `▸ ${contributorText(top)}` : '');
  t.contributor.hidden = !top;

  // The wafer-level verdict next to the sample-wise health: the latest wafer, as a small badge.
  const wafer = latestWafer(view, wafers);
  t.wafer.hidden = wafer === null;
  t.wafer.dataset.verdict = wafer?.verdict ?? '';
  // The verdict leads: on a narrow tile the step name is what gets cut off.
  setText(t.wafer, wafer ? `${VERDICT_LABEL[wafer.verdict]} · ${t_('tile.wafer', { wafer: wafer.wafer })} · ${stepName(wafer.step)}` : '');
  t.wafer.title = wafer ? t_('tile.waferTitle', { score: formatNumber(wafer.score), limit: formatNumber(wafer.threshold), time: formatClock(wafer.end) }) : '';

  const ts = lastUpdate(view);
  const age = ts === null ? '' : formatAge(serverNow - ts);
  const ageText =
    ts === null
      ? t_('tile.noStatus')
      : !connected
        ? t_('tile.notLive', { age })
        : replayView
          ? t_('tile.replayedData', { time: formatClock(ts) })
          : stale
            ? t_('tile.stale', { age })
            : t_('tile.updated', { age });
  setText(t.age, ageText);
}

/** Tiles' sparkline colours from the theme's CSS variables. */
function sparkColours(): SparkColours {
  const style = getComputedStyle(document.documentElement);
  return { line: style.getPropertyValue('--text').trim(), over: style.getPropertyValue('--alarm').trim(), limit: style.getPropertyValue('--muted').trim() };
}

/**
 * A sparkline is drawn again at most this often (its 5 minutes are about 2.5 s a pixel), except at once when its
 * newest score crosses the limit. Every redrawn canvas is copied to the compositor; 50 tiles at every status cost
 * more in software rendering than everything else on the page.
 */
const SPARK_REDRAW_MS = 1_000;

/**
 * Keeps one DOM tile per station, in process order, updating text in place rather than rebuilding. A tile opens
 * its station's view (`onOpen`, with the line and station it shows).
 */
export class TilesView {
  private readonly tiles = new Map<string, TileParts>();
  /** Per sparkline: the window end and newest point it was last drawn with. */
  private readonly sparkDrawn = new Map<string, { end: number; last: number | undefined; over: boolean }>();
  /** The colours, read again only when the theme changes (a style read per render would cost a recalculation). */
  private colours: { theme: string; value: SparkColours } | null = null;
  /** Each sparkline's CSS size, kept by a ResizeObserver so drawing never forces a layout. */
  private readonly sparkSizes = new WeakMap<Element, { width: number; height: number }>();
  private readonly sparkResize = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const box = entry.contentBoxSize[0];
      this.sparkSizes.set(entry.target, box ? { width: box.inlineSize, height: box.blockSize } : { width: entry.contentRect.width, height: entry.contentRect.height });
      this.sparkDrawn.delete((entry.target as HTMLElement).dataset.key ?? '');
    }
  });

  constructor(
    private readonly list: HTMLOListElement,
    private readonly empty: HTMLElement,
    private readonly onOpen: (line: string, station: string) => void = () => undefined,
    private readonly scores: ScoreHistory | null = null,
  ) {}

  /** `wafers`: the line's recent wafer verdicts, for each tile's badge; `selected`: the station whose view is open. */
  render(views: StationView[], serverNow: number, staleAfterMs: number, connected: boolean, mode: LineView = 'live', wafers: WaferVerdict[] = [], selected: string | null = null): void {
    const seen = new Set<string>();
    const theme = document.documentElement.dataset.theme ?? '';
    if (this.colours?.theme !== theme) {
      this.colours = { theme, value: sparkColours() };
      this.sparkDrawn.clear();
    }
    const colours = this.colours.value;
    views.forEach((view, index) => {
      const station = view.meta.station;
      seen.add(station);
      let tile = this.tiles.get(station);
      if (!tile) {
        tile = buildTile(station, (root) => this.onOpen(root.dataset.line ?? '', station));
        this.tiles.set(station, tile);
        this.sparkResize.observe(tile.spark);
      }
      fillTile(tile, view, serverNow, staleAfterMs, connected, mode, wafers);
      this.drawSpark(tile, view, serverNow, colours);
      tile.root.classList.toggle('selected', station === selected);
      tile.root.setAttribute('aria-pressed', String(station === selected));
      if (this.list.children[index] !== tile.root) this.list.insertBefore(tile.root, this.list.children[index] ?? null);
    });
    for (const [station, tile] of this.tiles) {
      if (seen.has(station)) continue;
      tile.root.remove();
      this.sparkResize.unobserve(tile.spark);
      this.tiles.delete(station);
    }
    this.empty.hidden = views.length > 0;
  }

  /** The sparkline ends at the station's latest status, so a replay (its own clock) and a stale tile read right. */
  private drawSpark(tile: TileParts, view: StationView, serverNow: number, colours: SparkColours): void {
    // A tile not laid out yet (display none, first frame) has no size to draw into.
    const size = this.sparkSizes.get(tile.spark);
    if (!this.scores || !size || size.width === 0) return;
    const key = `${view.meta.line}/${view.meta.station}`;
    tile.spark.dataset.key = key;
    const end = view.status?.replay || tile.root.dataset.replay === 'true' ? (view.status?.ts ?? serverNow) : serverNow;
    const newest = this.scores.last(key);
    const over = newest !== undefined && newest.score > newest.threshold;
    const drawn = this.sparkDrawn.get(key);
    // A silent station's line still slides, every few seconds.
    const moved = end - (drawn?.end ?? -Infinity);
    if (drawn && drawn.over === over && (moved < SPARK_REDRAW_MS || (drawn.last === newest?.ts && moved < 5 * SPARK_REDRAW_MS))) return;
    this.sparkDrawn.set(key, { end, last: newest?.ts, over });
    drawSparkline(tile.spark, size, this.scores.since(key, end - SPARK_SPAN_MS), end - SPARK_SPAN_MS, end, colours);
    tile.spark.title = t_('tile.sparkTitle', { span: formatAge(SPARK_SPAN_MS) });
  }
}
