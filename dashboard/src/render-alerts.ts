import type { AlertView } from '@linewatch/protocol';
import type { AlertAck } from './alert-ack.js';
import { ALERT_TABS, ackText, alertLevel, alertTiming, alertsIn, contributorTexts, deliveryLine, levelText, ruleTexts, tabCounts, type AlertTab } from './alert-list.js';
import { byId, el, setText } from './dom.js';
import { formatClock, formatNumber, formatWord } from './format.js';
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
  current: AlertView;
}

const STATE_LABEL: Record<AlertView['state'], string> = { pending: '… PENDING', firing: '✖ FIRING', acknowledged: '✔ ACKNOWLEDGED', resolved: '● RESOLVED' };
const EMPTY: Record<AlertTab, string> = { active: 'No active alerts.', acknowledged: 'No acknowledged alerts.', resolved: 'No resolved alerts yet.' };
const TAB_LABEL: Record<AlertTab, string> = { active: 'Active', acknowledged: 'Acknowledged', resolved: 'Resolved' };

function tag(text: string, kind: string, title: string): HTMLElement {
  const node = el('span', `alert-tag tag-${kind}`, text);
  node.title = title;
  node.dataset.tag = kind;
  return node;
}

/**
 * The alert panel: tabs for active, acknowledged and resolved alerts, one row per alert with what an operator
 * needs to act (station, severity, since when, the top contributors, the model), an Acknowledge button on firing
 * alerts, and the webhook delivery status. Rows are kept and updated in place, like the tiles.
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
      setText(button, `${TAB_LABEL[tab]} ${counts[tab]}`);
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
    setText(this.empty, EMPTY[this.tab]);
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
    const details = line.details.length > 0 ? line.details : ['No webhook subscriptions: add one with POST /api/webhooks.'];
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
    const ackButton = el('button', 'alert-ack-button', 'Acknowledge');
    ackButton.type = 'button';
    ackButton.dataset.testid = 'alert-ack';
    actions.append(ackButton);
    root.append(stateCol, stationCol, evidence, timingCol, actions);
    const parts: RowParts = { root, state, severity, name, id, tags, level, contributors, rules, model, timing, ackNote, ackButton, current: alert };
    ackButton.addEventListener('click', () => this.ack.open(parts.current, root, this.label(parts.current)));
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
    setText(r.state, STATE_LABEL[a.state]);
    setText(r.severity, a.severity === 'critical' ? '✖ CRITICAL' : '▲ WARNING');
    setText(r.name, this.names(a.line, a.station));
    setText(r.id, `${a.line}/${a.station} · ${a.source}`);
    const tags: HTMLElement[] = [];
    if (a.replay) tags.push(tag('REPLAY', 'replay', 'Raised by replayed data, not by the line as it runs now'));
    tags.push(dataQuality ? tag('? DATA QUALITY', 'dq', 'The data feed, not the process: stale, offline or implausible sensors') : tag('PROCESS', 'process', 'Raised by the station model'));
    tags.push(
      alertLevel(a) === 'wafer'
        ? tag('WAFER', 'level-wafer', 'Raised by a wafer-level verdict: one wafer’s recipe step, judged as a whole')
        : tag('SAMPLE', 'level-sample', 'Raised by the sample-wise verdict: the station’s snapshots, one by one'),
    );
    if (a.flapping) tags.push(tag('FLAPPING', 'flapping', 'Keeps starting and stopping: notifications are held back until it settles'));
    if (a.muted) tags.push(tag(`MUTED${a.equipmentState ? ` · ${formatWord(a.equipmentState)}` : ''}`, 'muted', 'The tool’s equipment state mutes it: nobody is notified'));
    const signature = tags.map((t) => t.textContent).join('|');
    if (r.tags.dataset.signature !== signature) {
      r.tags.dataset.signature = signature;
      r.tags.replaceChildren(...tags);
    }
    const contributors = contributorTexts(a);
    const shownContributors = contributors.length > 0 ? contributors : [dataQuality ? 'no sensor contributions (a data-quality check)' : 'no contributors reported'];
    // One unbreakable span per sensor, so `observed vs expected` never splits across lines.
    if (r.contributors.dataset.signature !== shownContributors.join('|')) {
      r.contributors.dataset.signature = shownContributors.join('|');
      r.contributors.replaceChildren(...shownContributors.map((text) => el('span', 'contributor', text)));
    }
    setText(r.level, levelText(a));
    setText(r.rules, ruleTexts(a));
    const score = a.score === null ? 'score –' : `score ${formatNumber(a.score)} / ${formatNumber(a.threshold)}`;
    const equipment = a.equipmentState ? ` · ${formatWord(a.equipmentState)}` : '';
    setText(r.model, `${score} · model ${a.modelVersion ?? '–'}${equipment}`);
    setText(r.timing, alertTiming(a, serverNow));
    r.timing.title = `started ${formatClock(a.startedAt)}${a.firingAt ? `, firing since ${formatClock(a.firingAt)}` : ''}${a.resolvedAt ? `, resolved ${formatClock(a.resolvedAt)}` : ''}`;
    setText(r.ackNote, ackText(a, serverNow));
    r.ackButton.hidden = a.state !== 'firing';
  }
}
