import type { Anomaly } from '@linewatch/protocol';
import { contributorText } from './alert-list.js';
import { el } from './dom.js';
import { formatClock, formatNumber } from './format.js';
import { language, t } from './i18n.js';

/** Rows beyond this stay in the store but not in the DOM: a wall screen cannot show more anyway. */
const MAX_ROWS = 50;

interface BuiltRow {
  row: HTMLTableRowElement;
  /** The language the row was written in: a row is rebuilt when the page changes language. */
  lang: string;
}

/**
 * The recent-anomalies table, newest first. Rows are immutable, so each is built once and reused (until the language
 * changes). A row opens its anomaly in its station's view (`onOpen`): a click anywhere on it, or its time, a button,
 * from the keyboard.
 */
export class AnomaliesView {
  private readonly rows = new Map<string, BuiltRow>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly empty: HTMLElement,
    private readonly onOpen: (anomaly: Anomaly) => void = () => {},
  ) {}

  render(anomalies: Anomaly[], stationName: (station: string) => string): void {
    const shown = anomalies.slice(0, MAX_ROWS);
    const lang = language();
    const keep = new Set(shown.map((a) => a.id));
    for (const [id, built] of this.rows) {
      if (keep.has(id) && built.lang === lang) continue;
      built.row.remove();
      this.rows.delete(id);
    }
    shown.forEach((anomaly, index) => {
      let built = this.rows.get(anomaly.id);
      if (!built) {
        built = { row: this.buildRow(anomaly, stationName(anomaly.station)), lang };
        this.rows.set(anomaly.id, built);
      }
      if (this.body.children[index] !== built.row) this.body.insertBefore(built.row, this.body.children[index] ?? null);
    });
    this.empty.hidden = shown.length > 0;
  }

  private buildRow(a: Anomaly, name: string): HTMLTableRowElement {
    const row = el('tr', `anomaly-row severity-${a.severity}`);
    row.dataset.testid = 'anomaly-row';
    row.dataset.station = a.station;
    const time = formatClock(a.ts);
    // The time is the row's button: the keyboard reaches it, and its click bubbles to the row's one listener.
    const open = el('button', 'link-button anomaly-open', time);
    open.type = 'button';
    open.dataset.testid = 'anomaly-open';
    open.title = t('anomalies.open', { station: name, time });
    open.setAttribute('aria-label', open.title);
    const timeCell = el('td', 'anomaly-time');
    timeCell.append(open);
    const station = el('td', 'anomaly-station');
    station.append(el('span', 'anomaly-name', name), el('span', 'anomaly-id', a.station));
    const contributors = el('td', 'anomaly-contributors');
    // A wafer-level anomaly's contributors are indicators: `rf_power.mean`.
    for (const c of a.contributors.slice(0, 3)) contributors.append(el('span', 'contributor', contributorText(c)));
    row.append(
      timeCell,
      station,
      el('td', 'anomaly-severity', t(a.severity === 'critical' ? 'severity.critical' : 'severity.warning')),
      el('td', 'anomaly-score', `${formatNumber(a.score)} / ${formatNumber(a.threshold)}`),
      contributors,
    );
    row.addEventListener('click', () => this.onOpen(a));
    return row;
  }
}
