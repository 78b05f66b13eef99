import type { Anomaly, Contributor, StationView, WaferVerdict } from '@linewatch/protocol';
import { contributorText } from './alert-list.js';
import { byId, el, setText } from './dom.js';
import { formatClock, formatNumber, formatWord } from './format.js';
import { HEALTH_ICON, type ShownHealth } from './health.js';
import { language, t } from './i18n.js';
import type { DashboardState, StationSelection } from './line-store.js';
import type { RangePicker } from './range-picker.js';
import type { RebaselineControl } from './rebaseline.js';
import type { StationFeed } from './station-feed.js';
import { VERDICT_LABEL, correlationText, indicatorText, qualityIssueText, ruleText, stationWafers, stepName, topIndicator } from './wafer-list.js';

/** Verdicts the wafer panel lists; more would not fit beside the sample-wise panel on a wall screen. */
const WAFER_ROWS = 10;
/** Sample-wise contributors listed. */
const CONTRIBUTORS = 5;
/** Bar spans 0..2× threshold, so the limit sits in the middle and an excursion is visibly past it. */
const BAR_SPAN = 2;

/** A contributor with its share of the score: `rf_power 1620 vs 1500 · 71%`. */
function contributorWithShare(c: Contributor): string {
  return `${contributorText(c)} · ${Math.round(c.contribution * 100)}%`;
}

/** What the station view shows of one line: the one its selection names. */
interface LineData {
  views: StationView[];
  anomalies: Anomaly[];
  wafers: WaferVerdict[];
  replayed: boolean;
}

function lineData(state: DashboardState, line: string): LineData | null {
  if (line === state.line) return { views: state.stations, anomalies: state.anomalies, wafers: state.wafers, replayed: false };
  if (line === state.replay.status?.line) return { views: state.replay.stations, anomalies: state.replay.anomalies, wafers: state.replay.wafers, replayed: true };
  return null;
}

/** Replaces a list's children only when what they say changed: renders run every second. */
function fillList(list: HTMLElement, texts: string[], build: (text: string) => HTMLElement): void {
  const signature = `${language()}\n${texts.join('\n')}`;
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren(...texts.map(build));
}

function waferRow(v: WaferVerdict): HTMLTableRowElement {
  const row = el('tr', `wafer-row verdict-${v.verdict}`);
  row.dataset.testid = 'wafer-row';
  row.dataset.verdict = v.verdict;
  row.dataset.wafer = v.wafer;
  const wafer = el('td', 'wafer-name');
  wafer.append(el('span', 'wafer-id', v.wafer), el('span', 'wafer-lot', v.lot ? t('wafers.lot', { lot: v.lot }) : ''));
  const verdict = el('td', 'wafer-verdict');
  verdict.append(el('span', `verdict-badge verdict-${v.verdict}`, VERDICT_LABEL[v.verdict]));
  const top = topIndicator(v);
  row.append(
    el('td', 'wafer-time', formatClock(v.end)),
    wafer,
    el('td', 'wafer-step', stepName(v.step)),
    verdict,
    el('td', 'wafer-score', v.verdict === 'baselining' ? t('wafers.scoreBaselining') : `${formatNumber(v.score)} / ${formatNumber(v.threshold)}`),
    el('td', 'wafer-indicator', top ? indicatorText(top) : '–'),
  );
  row.title = t('wafers.rowTitle', { model: v.modelVersion, baseline: v.baseline, samples: v.samples });
  return row;
}

/**
 * The station view: one station's sample-wise verdict (the model's score on every snapshot, its contributors, the
 * SPC rules and broken correlations of its latest anomaly) beside its wafer-level verdicts (one per wafer and recipe
 * step), its active data-quality issues, and the re-baseline control. Opened from a tile or a `#station=` link.
 */
export class StationPanel {
  private readonly root = byId('station-view');
  private readonly name = byId('station-view-name');
  private readonly id = byId('station-view-id');
  private readonly health = byId('station-view-health');
  private readonly equipment = byId('station-view-equipment');
  private readonly unknown = byId('station-view-unknown');
  private readonly body = byId('station-view-body');
  private readonly sampleScore = byId('sample-score');
  private readonly sampleBar = byId('sample-bar-fill');
  private readonly sampleContributors = byId<HTMLOListElement>('sample-contributors');
  private readonly sampleRules = byId('sample-rules');
  private readonly sampleModel = byId('sample-model');
  private readonly waferRows = byId<HTMLTableSectionElement>('wafer-rows');
  private readonly noWafers = byId('no-wafers');
  private readonly qualityList = byId<HTMLUListElement>('quality-issues');
  private readonly noQuality = byId('no-quality');
  private readonly chosenLine = byId('sample-chosen');
  private readonly chosenText = byId('sample-chosen-text');
  private readonly rows = new Map<string, HTMLTableRowElement>();
  private shown: string | null = null;

  constructor(
    private readonly rebaseline: RebaselineControl,
    close: () => void,
    private readonly feed: StationFeed,
    private readonly picker: RangePicker,
    clearChosen: () => void,
  ) {
    byId('station-view-close').addEventListener('click', close);
    byId('sample-chosen-clear').addEventListener('click', clearChosen);
  }

  render(state: DashboardState, serverNow: number): void {
    const selected = state.selected;
    this.root.hidden = selected === null;
    if (selected === null) {
      this.shown = null;
      this.rebaseline.render(null);
      this.feed.show(null);
      return;
    }
    const key = `${selected.line}/${selected.station}`;
    const opened = this.shown !== key;
    this.shown = key;
    const data = lineData(state, selected.line);
    const view = data?.views.find((v) => v.meta.station === selected.station);
    this.root.dataset.station = selected.station;
    this.root.dataset.line = selected.line;
    this.root.classList.toggle('replayed', data?.replayed === true);
    setText(this.id, key);
    this.unknown.hidden = view !== undefined;
    this.body.hidden = view === undefined || data === null;
    if (view === undefined || data === null) {
      setText(this.name, selected.station);
      setText(this.unknown, t('station.unknown', { station: selected.station, line: selected.line }));
      this.rebaseline.render(null);
      this.feed.show(null);
    } else {
      setText(this.name, view.meta.name);
      // Alerts of both lines are in one list; the feed keeps the selected line's.
      this.feed.show({ ...selected, meta: view.meta, window: state.window, state: view.state, liveAnomalies: data.anomalies, alerts: state.alerts, chosen: state.chosen, now: serverNow });
      this.picker.render(state.window, this.feed.load, state.connection === 'connected', serverNow);
      this.renderSample(view, data.anomalies, state.chosen);
      this.renderWafers(stationWafers(data.wafers, selected.station, WAFER_ROWS));
      this.renderQuality(view, data.replayed ? null : serverNow);
      this.rebaseline.render({ ...selected, name: view.meta.name } satisfies StationSelection & { name: string });
    }
    const health: ShownHealth = view?.status?.health ?? 'NO_STATUS';
    setText(this.health, `${HEALTH_ICON[health]} ${t(`health.${health}`)}`);
    this.health.className = `badge health-${health}`;
    setText(this.equipment, view?.state ? formatWord(view.state.state) : t('tile.stateUnknown'));
    // Bring it into sight when it opens, not on every render.
    if (opened) this.root.scrollIntoView({ block: 'nearest' });
  }

  /**
   * The current sample-wise verdict, or the chosen anomaly's (picked on the chart or in the anomaly list): its
   * score, contributors (observed against expected) and evidence.
   */
  private renderSample(view: StationView, anomalies: Anomaly[], chosenId: string | null): void {
    const status = view.status;
    const chosen = chosenId === null ? undefined : (this.feed.knownAnomalies.find((a) => a.id === chosenId) ?? anomalies.find((a) => a.id === chosenId));
    this.chosenLine.hidden = chosenId === null;
    this.root.dataset.chosen = chosen?.id ?? '';
    if (chosenId !== null) {
      setText(
        this.chosenText,
        chosen ? t('station.chosen', { time: formatClock(chosen.ts), score: formatNumber(chosen.score), limit: formatNumber(chosen.threshold), severity: chosen.severity }) : t('station.chosenGone'),
      );
    }
    const score = chosen ? chosen.score : (status?.score ?? null);
    const threshold = chosen ? chosen.threshold : (status?.threshold ?? null);
    setText(this.sampleScore, score === null ? t('tile.scoreNone') : t('tile.score', { score: formatNumber(score), limit: formatNumber(threshold) }));
    const ratio = score !== null && threshold ? Math.min(1, Math.max(0, score / threshold / BAR_SPAN)) : 0;
    this.sampleBar.style.width = `${(ratio * 100).toFixed(1)}%`;
    this.sampleBar.classList.toggle('over', score !== null && threshold !== null && score > threshold);
    const contributors = (chosen ? chosen.contributors : (status?.contributors ?? [])).slice(0, CONTRIBUTORS).map(contributorWithShare);
    const healthy = !chosen && status?.health === 'OK';
    this.sampleContributors.dataset.healthy = String(contributors.length === 0);
    fillList(this.sampleContributors, contributors.length > 0 ? contributors : [healthy ? t('station.withinNormal') : t('station.noContributors')], (text) => el('li', 'contributor', text));
    // The rules and broken pairs of the chosen anomaly, or of the latest sample-wise one while the station is not healthy.
    const latest = chosen ?? (healthy ? undefined : anomalies.find((a) => a.station === view.meta.station && a.level !== 'wafer'));
    const evidence = [
      ...(latest?.rules?.length ? [t('station.spcRules', { rules: latest.rules.map(ruleText).join(', ') })] : []),
      ...(latest?.brokenCorrelations?.length ? [t('station.broken', { pairs: latest.brokenCorrelations.map(correlationText).join(', ') })] : []),
    ].join(' · ');
    setText(this.sampleRules, evidence);
    this.sampleRules.hidden = evidence === '';
    const model = chosen?.modelVersion ?? status?.modelVersion ?? '–';
    const at = chosen?.ts ?? status?.ts;
    setText(this.sampleModel, [t('station.model', { model }), ...(at !== undefined ? [t('station.reading', { time: formatClock(at) })] : [])].join(' · '));
  }

  private renderWafers(verdicts: WaferVerdict[]): void {
    const keep = new Set(verdicts.map((v) => v.id));
    for (const [id, row] of this.rows) {
      if (keep.has(id)) continue;
      row.remove();
      this.rows.delete(id);
    }
    verdicts.forEach((v, index) => {
      let row = this.rows.get(v.id);
      // Rows are built once per verdict and language.
      const key = `${v.id}|${language()}`;
      if (row?.dataset.key !== key) {
        const built = waferRow(v);
        built.dataset.key = key;
        row?.replaceWith(built);
        this.rows.set(v.id, (row = built));
      }
      if (this.waferRows.children[index] !== row) this.waferRows.insertBefore(row, this.waferRows.children[index] ?? null);
    });
    this.noWafers.hidden = verdicts.length > 0;
  }

  private renderQuality(view: StationView, serverNow: number | null): void {
    const issues = view.status?.quality ?? [];
    fillList(this.qualityList, issues.map((issue) => qualityIssueText(issue, serverNow)), (text) => {
      const item = el('li', 'quality-issue', text);
      item.dataset.testid = 'quality-issue';
      return item;
    });
    this.noQuality.hidden = issues.length > 0;
  }
}
