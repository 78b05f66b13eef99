import { byId, setText } from './dom.js';
import type { LineSummary } from './health.js';
import type { DashboardState } from './line-store.js';

/** The header and the connection banner: the part of the page read from across the room. */
export class HeaderView {
  private readonly lineName = byId('line-name');
  private readonly status = byId('line-status');
  private readonly count = byId('healthy-count');
  private readonly connection = byId('connection');
  private readonly banner = byId('connection-banner');

  render(state: DashboardState, summary: LineSummary): void {
    setText(this.lineName, state.line ?? '—');
    const word = state.connection === 'connecting' ? 'CONNECTING' : summary.word;
    setText(this.status, word);
    this.status.dataset.status = word.replace(/ /g, '_');
    setText(this.count, `${summary.healthy}/${summary.total} healthy`);

    const connected = state.connection === 'connected';
    this.connection.dataset.connected = String(connected);
    setText(this.connection.querySelector('.connection-text') ?? this.connection, connected ? 'live' : state.connection === 'connecting' ? 'connecting' : 'reconnecting');

    const message =
      state.connection === 'lost'
        ? 'Connection lost — reconnecting… Data below is not live.'
        : connected && !state.brokerConnected && state.line !== null
          ? 'The API has lost its link to the line (MQTT broker) — statuses may be stale.'
          : '';
    setText(this.banner, message);
    this.banner.hidden = message === '';
    this.banner.dataset.kind = state.connection === 'lost' ? 'socket' : 'broker';
    document.title = `${word === 'RUNNING UNMANNED' ? '' : `${word} · `}${state.line ?? 'linewatch'}`;
  }
}
