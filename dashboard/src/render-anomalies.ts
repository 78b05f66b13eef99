import type { Anomaly } from '@linewatch/protocol';
import { el } from './dom.js';
import { formatClock, formatNumber } from './format.js';

/** Rows beyond this stay in the store but not in the DOM: a wall screen cannot show more anyway. */
const MAX_ROWS = 50;

/** The recent-anomalies table, newest first. Rows are immutable, so each is built once and reused. */
export class AnomaliesView {
  private readonly rows = new Map<string, HTMLTableRowElement>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly empty: HTMLElement,
  ) {}

  render(anomalies: Anomaly[], stationName: (station: string) => string): void {
    const shown = anomalies.slice(0, MAX_ROWS);
    const keep = new Set(shown.map((a) => a.id));
    for (const [id, row] of this.rows) {
      if (keep.has(id)) continue;
      row.remove();
      this.rows.delete(id);
    }
    shown.forEach((anomaly, index) => {
      let row = this.rows.get(anomaly.id);
      if (!row) {
        row = buildRow(anomaly, stationName(anomaly.station));
        this.rows.set(anomaly.id, row);
      }
      if (this.body.children[index] !== row) this.body.insertBefore(row, this.body.children[index] ?? null);
    });
    this.empty.hidden = shown.length > 0;
  }
}

function buildRow(a: Anomaly, name: string): HTMLTableRowElement {
  const row = el('tr', `anomaly-row severity-${a.severity}`);
  row.dataset.testid = 'anomaly-row';
  row.dataset.station = a.station;
  const station = el('td', 'anomaly-station');
  station.append(el('span', 'anomaly-name', name), el('span', 'anomaly-id', a.station));
  const contributors = el('td', 'anomaly-contributors');
  for (const c of a.contributors.slice(0, 3)) {
    // A wafer-level anomaly's contributors are indicators: `rf_power.mean`.
    contributors.append(el('span', 'contributor', `${c.sensor}${c.stat ? `.${c.stat}` : ''} ${formatNumber(c.value)} vs ${formatNumber(c.expected)}`));
  }
  row.append(
    el('td', 'anomaly-time', formatClock(a.ts)),
    station,
    el('td', 'anomaly-severity', a.severity === 'critical' ? '✖ CRITICAL' : '▲ WARNING'),
    el('td', 'anomaly-score', `${formatNumber(a.score)} / ${formatNumber(a.threshold)}`),
    contributors,
  );
  return row;
}
