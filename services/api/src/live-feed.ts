import type { Server, Socket } from 'socket.io';
import type { Logger } from 'pino';
import type { AlertView, ClientToServerEvents, DeliveryStatus, LineSnapshot, ReplayStatus, ServerToClientEvents } from '@linewatch/protocol';
import type { Alerting } from './alerts/alerting.js';
import { deliveryStatus, snapshotAlerts, toAlertView } from './alerts/alert-view.js';
import { LatestThrottle } from './latest-throttle.js';
import type { LineState } from './line-state.js';
import type { LineThroughput } from './line-throughput.js';
import type { ApiMetrics } from './metrics.js';
import type { ReadingsFeed } from './readings-feed.js';
import type { ReplayControl } from './replay-control.js';
import { StatusBatcher } from './status-batcher.js';

/** ~4 status batches a second (each with every station that changed) is plenty for a wall screen and keeps slow clients afloat. */
const STATUS_INTERVAL_MS = 250;
/** Replay progress as often: a progress bar needs no more. State changes go at once. */
const REPLAY_INTERVAL_MS = 250;
/** New evidence of an alert (its score moves with every status): once a second is enough to read it. */
const ALERT_EVIDENCE_INTERVAL_MS = 1_000;
/** The dispatcher tells nobody when it tries a delivery, so the outbox is looked at this often (while anyone watches). */
const DELIVERY_POLL_MS = 1_000;
/** Throughput moves slowly (a wafer every minute or so): a header refreshed this often never looks stuck. */
export const LINE_STATS_INTERVAL_MS = 5_000;

/** What the live feed needs of the alerting component. */
export type AlertSource = Pick<Alerting, 'onAlert' | 'alertDb' | 'deliveries' | 'subscriptionDb'>;

/**
 * A change people must see at once (an acknowledgement is one: it changes the state); anything else about an
 * alert is new evidence and may wait its turn.
 */
export function isAlertNews(previous: AlertView, next: AlertView): boolean {
  return (
    previous.state !== next.state ||
    previous.severity !== next.severity ||
    previous.flapping !== next.flapping ||
    previous.muted !== next.muted
  );
}

/**
 * Alerts and webhook deliveries for the live feed. Each alert change goes out as an `alert` event: news (state,
 * severity, flapping, muting) at once, evidence alone at most once a second per alert, and the
 * latest always. The outbox summary goes out as `deliveries` when it changes, at most once a second.
 */
export class AlertFeed {
  private readonly perAlert = new Map<string, { throttle: LatestThrottle<AlertView>; sent: string }>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private unsubscribe: (() => void) | undefined;
  private lastDeliveries = '';
  private pollFailing = false;

  constructor(
    private readonly deps: {
      source: AlertSource;
      emitAlert: (alert: AlertView) => void;
      emitDeliveries: (status: DeliveryStatus) => void;
      /** False while no client is connected: then the outbox is not read at all. */
      watched: () => boolean;
      logger: Logger;
      now?: () => number;
    },
  ) {}

  start(): void {
    this.running = true;
    this.unsubscribe = this.deps.source.onAlert((alert) => {
      if (this.running) this.push(toAlertView(alert));
    });
    this.timer = setInterval(() => this.poll(), DELIVERY_POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearInterval(this.timer);
    for (const { throttle } of this.perAlert.values()) throttle.stop();
    this.perAlert.clear();
  }

  /** Open alerts and the latest resolved ones, for a snapshot. */
  alerts(): AlertView[] {
    return snapshotAlerts(this.deps.source.alertDb);
  }

  /** The outbox now, for a client that just connected. */
  deliveries(): DeliveryStatus {
    const { source } = this.deps;
    return deliveryStatus(source.deliveries, source.subscriptionDb.list(), (this.deps.now ?? Date.now)());
  }

  private push(view: AlertView): void {
    let entry = this.perAlert.get(view.id);
    if (!entry) {
      const created = { sent: '', throttle: new LatestThrottle<AlertView>(ALERT_EVIDENCE_INTERVAL_MS, (v) => this.deps.emitAlert(v), isAlertNews) };
      this.perAlert.set(view.id, (entry = created));
    }
    // The lifecycle reports an alert on every observation; one that says nothing new is not worth a message.
    const text = JSON.stringify(view);
    if (text === entry.sent) return;
    entry.sent = text;
    entry.throttle.push(view);
    // A resolved alert never changes again: its resolution went out at once (news), so forget it.
    if (view.state === 'resolved') {
      entry.throttle.stop();
      this.perAlert.delete(view.id);
    }
  }

  private poll(): void {
    if (!this.deps.watched()) {
      // Whoever connects next gets the summary on connect; compare afresh from there.
      this.lastDeliveries = '';
      return;
    }
    try {
      const status = this.deliveries();
      const text = JSON.stringify({ ...status, at: 0 });
      this.pollFailing = false;
      if (text === this.lastDeliveries) return;
      this.lastDeliveries = text;
      this.deps.emitDeliveries(status);
    } catch (err) {
      // Once per outage, not once a second.
      if (!this.pollFailing) this.deps.logger.error({ err }, 'cannot read the webhook outbox for the live feed');
      this.pollFailing = true;
    }
  }
}

export interface LiveFeedDeps {
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  lineState: LineState;
  replay: ReplayControl;
  metrics: ApiMetrics;
  logger: Logger;
  alerting: AlertSource;
  /** Live readings of the stations clients watch (`watch` → `readings`). */
  readings: Pick<ReadingsFeed, 'watch' | 'leave'>;
  /** The live line's throughput (`lineStats`, and `stats` in the snapshot). */
  throughput: Pick<LineThroughput, 'stats'>;
}

/**
 * Pushes the line to socket.io clients: a snapshot on connect and on `resync`, then every change live. The live
 * line's changes go out as `status`, `anomaly`, `state`, `meta`, `truth`, `wafer` and `quality`; the replay line's only as
 * `replayLine`, so nothing replayed can reach a client's live view by accident. Alerts of both lines go out as
 * `alert` (each says whether replayed data raised it), and the webhook outbox as `deliveries`. A client that
 * `watch`es a station gets its `readings`; every client gets `lineStats` every few seconds.
 */
export class LiveFeed {
  private readonly unsubscribe: Array<() => void> = [];
  private readonly stoppers: Array<() => void> = [];
  private readonly alertFeed: AlertFeed;

  constructor(private readonly deps: LiveFeedDeps) {
    this.alertFeed = new AlertFeed({
      source: deps.alerting,
      emitAlert: (alert) => deps.io.emit('alert', alert),
      emitDeliveries: (status) => deps.io.emit('deliveries', status),
      watched: () => deps.io.engine.clientsCount > 0,
      logger: deps.logger.child({ module: 'live-feed' }),
    });
  }

  start(): void {
    const { io, lineState, replay, metrics } = this.deps;
    const log = this.deps.logger.child({ module: 'live-feed' });
    const live = lineState.line;
    const replayLine = lineState.replayLine;
    const liveStatus = new StatusBatcher(STATUS_INTERVAL_MS, (batch) => io.emit('statuses', batch), () => metrics.statusCoalesced.inc());
    const replayStatus = new StatusBatcher(STATUS_INTERVAL_MS, (statuses) => io.emit('replayLine', { kind: 'statuses', line: replayLine, statuses }), () => metrics.statusCoalesced.inc());
    const progress = new LatestThrottle<ReplayStatus>(REPLAY_INTERVAL_MS, (s) => io.emit('replay', s), (a, b) => a.state !== b.state || a.run?.id !== b.run?.id);
    this.stoppers.push(() => liveStatus.stop(), () => replayStatus.stop(), () => progress.stop(), () => this.alertFeed.stop());
    this.alertFeed.start();
    const statsTimer = setInterval(() => {
      // Nobody to tell: skip the work. A client that connects gets the stats in its snapshot.
      if (io.engine.clientsCount === 0) return;
      try {
        io.emit('lineStats', this.deps.throughput.stats());
      } catch (err) {
        log.error({ err }, 'line stats failed');
      }
    }, LINE_STATS_INTERVAL_MS);
    statsTimer.unref();
    this.stoppers.push(() => clearInterval(statsTimer));
    const bus = lineState.bus;
    this.unsubscribe.push(
      bus.on('status', (s) => (s.line === live ? liveStatus.push(s) : s.line === replayLine ? replayStatus.push(s) : undefined)),
      bus.on('anomaly', (anomaly) => {
        if (anomaly.line === live) io.emit('anomaly', anomaly);
        else if (anomaly.line === replayLine) io.emit('replayLine', { kind: 'anomaly', line: replayLine, anomaly });
      }),
      bus.on('state', (u) => {
        if (u.line === live) io.emit('state', u);
        else if (u.line === replayLine) io.emit('replayLine', { kind: 'state', ...u });
      }),
      bus.on('meta', (meta) => {
        if (meta.line === live) io.emit('meta', meta);
        else if (meta.line === replayLine) io.emit('replayLine', { kind: 'meta', line: replayLine, meta });
      }),
      bus.on('wafer', (verdict) => {
        if (verdict.line === live) io.emit('wafer', verdict);
        else if (verdict.line === replayLine) io.emit('replayLine', { kind: 'wafer', line: replayLine, verdict });
      }),
      bus.on('quality', (event) => {
        if (event.line === live) io.emit('quality', event);
        else if (event.line === replayLine) io.emit('replayLine', { kind: 'quality', line: replayLine, event });
      }),
      // Ground truth of a replay is for backtests, not for the page.
      bus.on('truth', (t) => (t.line === live ? io.emit('truth', t) : undefined)),
      bus.on('broker', (b) => io.emit('broker', b)),
      bus.on('services', (services) => io.emit('services', services)),
      replay.bus.on('status', (s) => progress.push(s)),
      replay.bus.on('reset', (line) => {
        // Statuses of the last replay still waiting must not land on the cleared line.
        replayStatus.stop();
        io.emit('replayLine', { kind: 'reset', line });
      }),
    );
    const snapshot = (): LineSnapshot => ({
      ...lineState.snapshot(replay.status()),
      alerts: this.alertFeed.alerts(),
      stats: this.deps.throughput.stats(),
    });
    // The whole picture a client starts from; a failure is logged, never thrown into socket.io's connection handling.
    const sendPicture = (socket: Socket<ClientToServerEvents, ServerToClientEvents>, why: string) => {
      try {
        socket.emit('snapshot', snapshot());
        socket.emit('deliveries', this.alertFeed.deliveries());
      } catch (err) {
        log.error({ err }, `${why} failed`);
      }
    };
    io.on('connection', (socket) => {
      metrics.socketClients.inc();
      log.debug({ id: socket.id }, 'client connected');
      sendPicture(socket, 'snapshot on connect');
      socket.on('resync', () => sendPicture(socket, 'resync'));
      socket.on('watch', (selection) => {
        try {
          this.deps.readings.watch(socket, selection);
        } catch (err) {
          log.error({ err }, 'watch failed');
        }
      });
      socket.on('disconnect', () => {
        metrics.socketClients.dec();
        this.deps.readings.leave(socket);
      });
    });
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const stop of this.stoppers.splice(0)) stop();
  }
}
