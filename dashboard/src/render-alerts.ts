import type { AlertView } from '@linewatch/protocol';
import type { AlertAck } from './alert-ack.js';
import { ALERT_TABS, ackText, alertLevel, alertTiming, alertsIn, contributorTexts, deliveryLine, levelText, ruleTexts, tabCounts, type AlertTab } from './alert-list.js';
import { byId, el, setText } from './dom.js';
import { formatClock, formatNumber, formatWord } from './format.js';
import { t, type TextKey } from './i18n.js';
import type { DashboardState } from './line-store.js';

/** Station names by `line/station`, for rows of either line. */
export type StationNames = (line: string, station: string) => string;

interface RowParts {
  root: HTMLLIElement;
  state: HTMLElement;
  severity: HTMLElement;
  name: HTMLElement;
  id: HTMLElement;
  tags: HTMLElement;
  level: HTMLElement;
  contributors: HTMLElement;
  rules: HTMLElement;
  model: HTMLElement;
  timing: HTMLElement;
  ackNote: HTMLElement;
  ackButton: HTMLButtonElement;
  openButton: HTMLButtonElement;
  current: AlertView;
}

const STATE_LABEL: Record<AlertView['state'], TextKey> = {
  pending: 'alerts.state.pending',
  firing: 'alerts.state.firing',
  acknowledged: 'alerts.state.acknowledged',
  resolved: 'alerts.state.resolved',
};
const EMPTY: Record<AlertTab, TextKey> = { active: 'alerts.empty.active', acknowledged: 'alerts.empty.acknowledged', resolved: 'alerts.empty.resolved' };
const TAB_LABEL: Record<AlertTab, TextKey> = { active: 'alerts.tab.active', acknowledged: 'alerts.tab.acknowledged', resolved: 'alerts.tab.resolved' };

function tag(text: string, kind: string, title: TextKey): HTMLElement {
  const node = el('span', `alert-tag tag-${kind}`, text);
  node.title = t(title);
  node.dataset.tag = kind;
  return node;
}

/**
 * The alert panel: tabs for active, acknowledged and resolved alerts, one row per alert with what an operator
 * needs to act (station, severity, since when, the top contributors, the model), an Acknowledge button on firing
 * alerts, an Open station button (`onOpenStation`: the page shows the station at the alert's time), and the webhook
 * delivery status. Rows are kept and updated in place, like the tiles; every text is set again on each render, so a
 * change of language reaches rows built before it.
 */
export class AlertPanelView {
  private readonly list = byId<HTMLOListElement>('alert-rows');
  private readonly empty = byId('no-alerts');
  private readonly delivery = byId<HTMLDetailsElement>('delivery-status');
  private readonly deliverySummary = byId('delivery-summary');
  private readonly deliveryDetails = byId<HTMLUListElement>('delivery-details');
  private readonly tabs = new Map<AlertTab, HTMLButtonElement>();
  private readonly rows = new Map<string, RowParts>();
  private tab: AlertTab = 'active';
  private names: StationNames = (_line, station) => station;

  constructor(
    private readonly ack: AlertAck,
    private readonly changed: () => void,
    private readonly onOpenStation: (alert: AlertView) => void = () => {},
  ) {
    for (const tab of ALERT_TABS) {
      const button = byId<HTMLButtonElement>(`alert-tab-${tab}`);
      button.addEventListener('click', () => {
        this.tab = tab;
        this.changed();
      });
      this.tabs.set(tab, button);
    }
  }

  render(state: DashboardState, serverNow: number, names: StationNames): void {
    this.names = names;
    const counts = tabCounts(state.alerts);
    for (const [tab, button] of this.tabs) {
      button.setAttribute('aria-selected', String(tab === this.tab));
      setText(button, t(TAB_LABEL[tab], { count: counts[tab] }));
    }
    this.tabs.get('active')?.classList.toggle('attention', state.alerts.some((a) => a.state === 'firing'));

    const shown = alertsIn(state.alerts, this.tab);
    const keep = new Set(shown.map((a) => a.id));
    for (const [id, row] of this.rows) {
      if (keep.has(id)) continue;
      row.root.remove();
      this.rows.delete(id);
    }
    shown.forEach((alert, index) => {
      let row = this.rows.get(alert.id);
      if (!row) this.rows.set(alert.id, (row = this.buildRow(alert)));
      this.fillRow(row, alert, serverNow);
      if (this.list.children[index] !== row.root) this.list.insertBefore(row.root, this.list.children[index] ?? null);
    });
    setText(this.empty, t(EMPTY[this.tab]));
    this.empty.hidden = shown.length > 0;

    // The form belongs to a firing alert in view; anything else closes it.
    const open = this.ack.openFor;
    if (open !== null) {
      const alert = state.alerts.find((a) => a.id === open);
      if (alert?.state !== 'firing' || !keep.has(open)) this.ack.gone(alert);
    }
    this.ack.render();

    const line = deliveryLine(state.deliveries, serverNow);
    setText(this.deliverySummary, line.text);
    this.delivery.dataset.kind = line.kind;
    this.delivery.title = line.details.join('\n');
    const details = line.details.length > 0 ? line.details : [t('delivery.noSubscriptions')];
    if (this.deliveryDetails.childElementCount !== details.length) {
      this.deliveryDetails.replaceChildren(...details.map(() => el('li', 'delivery-subscription')));
    }
    details.forEach((text, i) => {
      const item = this.deliveryDetails.children[i];
      if (item) setText(item, text);
    });
  }

  private label(alert: AlertView): string {
    return `${this.names(alert.line, alert.station)} · ${alert.source}`;
  }

  private buildRow(alert: AlertView): RowParts {
    const root = el('li', 'alert-row');
    root.dataset.testid = 'alert-row';
    root.dataset.alertId = alert.id;
    const stateCol = el('div', 'alert-state-col');
    const state = el('span', 'alert-state');
    const severity = el('span', 'alert-severity');
    stateCol.append(state, severity);
    const stationCol = el('div', 'alert-station');
    const name = el('span', 'alert-station-name');
    const id = el('span', 'alert-station-id');
    const tags = el('span', 'alert-tags');
    stationCol.append(name, id, tags);
    const evidence = el('div', 'alert-evidence');
    const level = el('div', 'alert-wafer');
    level.dataset.testid = 'alert-level-text';
    const contributors = el('div', 'alert-contributors');
    const rules = el('div', 'alert-rules');
    rules.dataset.testid = 'alert-rules';
    const model = el('div', 'alert-model');
    evidence.append(level, contributors, rules, model);
    const timingCol = el('div', 'alert-timing-col');
    const timing = el('span', 'alert-timing');
    const ackNote = el('span', 'alert-ack-note');
    timingCol.append(timing, ackNote);
    const actions = el('div', 'alert-actions');
    // Not a kiosk `control`: it changes only what this page shows, nothing on the line.
    const openButton = el('button', 'alert-button alert-open-station');
    openButton.type = 'button';
    openButton.dataset.testid = 'alert-open-station';
    const ackButton = el('button', 'alert-ack-button control');
    ackButton.type = 'button';
    ackButton.dataset.testid = 'alert-ack';
    actions.append(openButton, ackButton);
    root.append(stateCol, stationCol, evidence, timingCol, actions);
    const parts: RowParts = { root, state, severity, name, id, tags, level, contributors, rules, model, timing, ackNote, ackButton, openButton, current: alert };
    ackButton.addEventListener('click', () => this.ack.open(parts.current, root, this.label(parts.current)));
    openButton.addEventListener('click', () => this.onOpenStation(parts.current));
    return parts;
  }

  private fillRow(r: RowParts, a: AlertView, serverNow: number): void {
    r.current = a;
    const dataQuality = a.class === 'data_quality';
    r.root.dataset.state = a.state;
    r.root.dataset.class = a.class;
    r.root.dataset.severity = a.severity;
    r.root.dataset.replay = String(a.replay);
    r.root.dataset.level = alertLevel(a);
    const className = `alert-row class-${a.class} severity-${a.severity} state-${a.state}${a.replay ? ' replayed' : ''}`;
    if (r.root.className !== className) r.root.className = className;
    setText(r.state, t(STATE_LABEL[a.state]));
    setText(r.severity, t(a.severity === 'critical' ? 'severity.critical' : 'severity.warning'));
    const name = this.names(a.line, a.station);
    setText(r.name, name);
    setText(r.id, `${a.line}/${a.station} · ${a.source}`);
    const tags: HTMLElement[] = [];
    if (a.replay) tags.push(tag(t('alerts.tag.replay'), 'replay', 'alerts.tag.replayTitle'));
    tags.push(dataQuality ? tag(t('alerts.tag.dataQuality'), 'dq', 'alerts.tag.dataQualityTitle') : tag(t('alerts.tag.process'), 'process', 'alerts.tag.processTitle'));
    tags.push(
      alertLevel(a) === 'wafer'
        ? tag(t('alerts.tag.wafer'), 'level-wafer', 'alerts.tag.waferTitle')
        : tag(t('alerts.tag.sample'), 'level-sample', 'alerts.tag.sampleTitle'),
    );
    if (a.flapping) tags.push(tag(t('alerts.tag.flapping'), 'flapping', 'alerts.tag.flappingTitle'));
    if (a.muted) {
      const muted = a.equipmentState ? t('alerts.tag.mutedState', { state: formatWord(a.equipmentState) }) : t('alerts.tag.muted');
      tags.push(tag(muted, 'muted', 'alerts.tag.mutedTitle'));
    }
    // The titles are in the signature too: a tag's word can be the same in both languages while its title is not.
    const signature = tags.map((node) => `${node.textContent}:${node.title}`).join('|');
    if (r.tags.dataset.signature !== signature) {
      r.tags.dataset.signature = signature;
      r.tags.replaceChildren(...tags);
    }
    const contributors = contributorTexts(a);
    const shownContributors = contributors.length > 0 ? contributors : [t(dataQuality ? 'alerts.noContributorsDq' : 'alerts.noContributors')];
    // One unbreakable span per sensor, so `observed vs expected` never splits across lines.
    if (r.contributors.dataset.signature !== shownContributors.join('|')) {
      r.contributors.dataset.signature = shownContributors.join('|');
      r.contributors.replaceChildren(...shownContributors.map((text) => el('span', 'contributor', text)));
    }
    setText(r.level, levelText(a));
    setText(r.rules, ruleTexts(a));
    const score = a.score === null ? t('alerts.scoreNone') : t('alerts.score', { score: formatNumber(a.score), limit: formatNumber(a.threshold) });
    const equipment = a.equipmentState ? ` · ${formatWord(a.equipmentState)}` : '';
    setText(r.model, `${t('alerts.model', { score, model: a.modelVersion ?? '–' })}${equipment}`);
    setText(r.timing, alertTiming(a, serverNow));
    r.timing.title = [
      t('alerts.started', { time: formatClock(a.startedAt) }),
      a.firingAt ? t('alerts.firingSince', { time: formatClock(a.firingAt) }) : '',
      a.resolvedAt ? t('alerts.resolvedAt', { time: formatClock(a.resolvedAt) }) : '',
    ].join('');
    setText(r.ackNote, ackText(a, serverNow));
    setText(r.ackButton, t('alerts.acknowledge'));
    r.ackButton.hidden = a.state !== 'firing';
    setText(r.openButton, t('alerts.openStation'));
    r.openButton.title = t('alerts.openStationTitle', { station: name });
  }
}
