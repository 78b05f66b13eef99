import type { LineStats } from '@linewatch/protocol';
import { lastCall, openAlerts } from './attention.js';
import { byId, setText } from './dom.js';
import { formatAge, formatCount, formatNumber } from './format.js';
import { monitorTrouble, type LineStatusWord, type LineSummary } from './health.js';
import { t } from './i18n.js';
import type { DashboardState } from './line-store.js';

function statusWord(word: LineStatusWord | 'CONNECTING'): string {
  return t(`status.${word}`);
}

/** What the banner says about the detectors themselves: offline first (nothing watches), then storage degraded. */
function monitorMessage(state: DashboardState, serverNow: number): string {
  const { offline, degraded } = monitorTrouble(state.services);
  const first = offline[0];
  if (first) return t('banner.detectorOffline', { instance: first.instance, age: formatAge(serverNow - first.ts) });
  const slow = degraded[0];
  if (!slow) return '';
  const points = slow.storage?.journalPoints ?? 0;
  const key = slow.storage?.dropping ? 'banner.storageDropping' : slow.storage?.failing ? 'banner.storageDown' : 'banner.storageCatchingUp';
  return t(key, { instance: slow.instance, points: formatCount(points), dropped: formatCount(slow.storage?.droppedJournalFull ?? 0) });
}

/** The header and the connection banner: the part of the page read from across the room. */
export class HeaderView {
  private readonly header = byId('header');
  private readonly viewLabel = byId('view-label');
  private readonly viewLive = byId('view-live');
  private readonly viewReplay = byId('view-replay');
  private readonly lineName = byId('line-name');
  private readonly status = byId('line-status');
  private readonly count = byId('healthy-count');
  private readonly open = byId('open-alerts');
  private readonly throughput = byId('throughput');
  private readonly unattended = byId('unattended');
  private readonly connection = byId('connection');
  private readonly banner = byId('connection-banner');

  /** `summary` is of the line shown: the live line, or the replay line in the replay view. */
  render(state: DashboardState, summary: LineSummary, serverNow: number): void {
    const replayView = state.view === 'replay';
    this.header.dataset.view = state.view;
    this.viewLabel.hidden = !replayView;
    this.viewLive.setAttribute('aria-pressed', String(!replayView));
    this.viewReplay.setAttribute('aria-pressed', String(replayView));
    setText(this.lineName, (replayView ? state.replay.status?.line : state.line) ?? '—');
    const word = state.connection === 'connecting' ? 'CONNECTING' : summary.word;
    // "Running unmanned" is a claim about the fab; the replay line only shows how the replayed data scored.
    const shown = replayView ? t('status.replayPrefix', { word: word === 'RUNNING UNMANNED' ? t('status.allOk') : statusWord(word) }) : statusWord(word);
    setText(this.status, shown);
    this.status.dataset.status = word.replace(/ /g, '_');
    setText(this.count, t('header.healthyCount', { healthy: summary.healthy, total: summary.total }));
    this.renderFacts(state, serverNow);

    const connected = state.connection === 'connected';
    this.connection.dataset.connected = String(connected);
    const link = connected ? (replayView ? 'connection.connected' : 'connection.live') : state.connection === 'connecting' ? 'connection.connecting' : 'connection.reconnecting';
    setText(this.connection.querySelector('.connection-text') ?? this.connection, t(link));

    const monitor = connected && state.brokerConnected ? monitorMessage(state, serverNow) : '';
    const message =
      state.connection === 'lost'
        ? t('banner.socketLost', { age: formatAge(Date.now() - (state.lostAt ?? Date.now())) })
        : connected && !state.brokerConnected && state.line !== null
          ? t('banner.brokerLost')
          : monitor;
    setText(this.banner, message);
    this.banner.hidden = message === '';
    this.banner.dataset.kind = state.connection === 'lost' ? 'socket' : message === monitor ? 'monitor' : 'broker';
    const title = `${word === 'RUNNING UNMANNED' ? '' : `${statusWord(word)} · `}${state.line ?? 'linewatch'}`;
    document.title = replayView ? `${t('header.replayView')} · ${state.replay.status?.line ?? ''}` : title;
  }

  /** Open alerts, throughput and the time since a person was needed: always of the live line, the fab's own. */
  private renderFacts(state: DashboardState, serverNow: number): void {
    const alerts = openAlerts(state.alerts, state.line);
    setText(this.open, alerts.open === 0 ? t('header.openAlertsNone') : alerts.unacked > 0 ? t('header.openAlertsUnacked', alerts) : t('header.openAlertsCount', alerts));
    this.open.dataset.kind = alerts.unacked > 0 ? 'firing' : alerts.open > 0 ? 'acknowledged' : 'none';

    const stats: LineStats | null = state.stats;
    setText(this.throughput, stats === null || stats.wafersPerHour === null ? t('header.throughputNone') : formatNumber(stats.wafersPerHour));
    this.throughput.title = stats?.station ? t('header.throughputTitle', { station: stats.station, window: formatAge(stats.windowMs) }) : '';

    const call = lastCall(state.alerts, state.line);
    const text =
      call.kind === 'now'
        ? t('header.unattendedNow')
        : call.kind === 'onIt'
          ? t('header.unattendedOnIt', { age: formatAge(serverNow - call.since) })
          : call.kind === 'since'
            ? t('header.unattendedFor', { age: formatAge(serverNow - call.at) })
            : t('header.unattendedNever');
    setText(this.unattended, text);
    this.unattended.dataset.kind = call.kind;
    this.unattended.title = t('header.unattendedTitle');
  }
}
