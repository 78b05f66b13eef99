import { byId, setText } from './dom.js';
import type { LineSummary } from './health.js';
import type { DashboardState } from './line-store.js';

/** The header and the connection banner: the part of the page read from across the room. */
export class HeaderView {
  private readonly header = byId('header');
  private readonly viewLabel = byId('view-label');
  private readonly viewLive = byId('view-live');
  private readonly viewReplay = byId('view-replay');
  private readonly lineName = byId('line-name');
  private readonly status = byId('line-status');
  private readonly count = byId('healthy-count');
  private readonly connection = byId('connection');
  private readonly banner = byId('connection-banner');

  /** `summary` is of the line shown: the live line, or the replay line in the replay view. */
  render(state: DashboardState, summary: LineSummary): void {
    const replayView = state.view === 'replay';
    this.header.dataset.view = state.view;
    this.viewLabel.hidden = !replayView;
    this.viewLive.setAttribute('aria-pressed', String(!replayView));
    this.viewReplay.setAttribute('aria-pressed', String(replayView));
    setText(this.lineName, (replayView ? state.replay.status?.line : state.line) ?? '—');
    const word = state.connection === 'connecting' ? 'CONNECTING' : summary.word;
    // "Running unmanned" is a claim about the fab; the replay line only shows how the replayed data scored.
    setText(this.status, replayView ? `REPLAY: ${word === 'RUNNING UNMANNED' ? 'ALL OK' : word}` : word);
    this.status.dataset.status = word.replace(/ /g, '_');
    setText(this.count, `${summary.healthy}/${summary.total} healthy`);

    const connected = state.connection === 'connected';
    this.connection.dataset.connected = String(connected);
    setText(
      this.connection.querySelector('.connection-text') ?? this.connection,
      connected ? (replayView ? 'connected' : 'live') : state.connection === 'connecting' ? 'connecting' : 'reconnecting',
    );

    const message =
      state.connection === 'lost'
        ? 'Connection lost — reconnecting… Data below is not live.'
        : connected && !state.brokerConnected && state.line !== null
          ? 'The API has lost its link to the line (MQTT broker) — statuses may be stale.'
          : '';
    setText(this.banner, message);
    this.banner.hidden = message === '';
    this.banner.dataset.kind = state.connection === 'lost' ? 'socket' : 'broker';
    const title = `${word === 'RUNNING UNMANNED' ? '' : `${word} · `}${state.line ?? 'linewatch'}`;
    document.title = replayView ? `REPLAY VIEW · ${state.replay.status?.line ?? ''}` : title;
  }
}
