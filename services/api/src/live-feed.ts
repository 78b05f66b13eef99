import type { Server } from 'socket.io';
import type { Logger } from 'pino';
import type { ClientToServerEvents, ReplayStatus, ServerToClientEvents } from '@linewatch/protocol';
import { LatestThrottle } from './latest-throttle.js';
import type { LineState } from './line-state.js';
import type { ApiMetrics } from './metrics.js';
import type { ReplayControl } from './replay-control.js';
import { StatusCoalescer } from './status-coalescer.js';

/** ~4 status updates per station per second is plenty for a wall screen and keeps slow clients afloat. */
const STATUS_INTERVAL_MS = 250;
/** Replay progress as often: a progress bar needs no more. State changes go at once. */
const REPLAY_INTERVAL_MS = 250;

export interface LiveFeedDeps {
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  lineState: LineState;
  replay: ReplayControl;
  metrics: ApiMetrics;
  logger: Logger;
}

/**
 * Pushes the line to socket.io clients: a snapshot on connect and on `resync`, then every change live. The live
 * line's changes go out as `status`, `anomaly`, `state`, `meta` and `truth`; the replay line's only as
 * `replayLine`, so nothing replayed can reach a client's live view by accident.
 */
export class LiveFeed {
  private readonly unsubscribe: Array<() => void> = [];
  private readonly stoppers: Array<() => void> = [];

  constructor(private readonly deps: LiveFeedDeps) {}

  start(): void {
    const { io, lineState, replay, metrics } = this.deps;
    const log = this.deps.logger.child({ module: 'live-feed' });
    const live = lineState.line;
    const replayLine = lineState.replayLine;
    const liveStatus = new StatusCoalescer(STATUS_INTERVAL_MS, (s) => io.emit('status', s), () => metrics.statusCoalesced.inc());
    const replayStatus = new StatusCoalescer(STATUS_INTERVAL_MS, (status) => io.emit('replayLine', { kind: 'status', line: replayLine, status }), () => metrics.statusCoalesced.inc());
    const progress = new LatestThrottle<ReplayStatus>(REPLAY_INTERVAL_MS, (s) => io.emit('replay', s), (a, b) => a.state !== b.state || a.run?.id !== b.run?.id);
    this.stoppers.push(() => liveStatus.stop(), () => replayStatus.stop(), () => progress.stop());
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
      // Ground truth of a replay is for backtests, not for the page.
      bus.on('truth', (t) => (t.line === live ? io.emit('truth', t) : undefined)),
      bus.on('broker', (b) => io.emit('broker', b)),
      replay.bus.on('status', (s) => progress.push(s)),
      replay.bus.on('reset', (line) => {
        // Statuses of the last replay still waiting must not land on the cleared line.
        replayStatus.stop();
        io.emit('replayLine', { kind: 'reset', line });
      }),
    );
    const snapshot = () => lineState.snapshot(replay.status());
    io.on('connection', (socket) => {
      metrics.socketClients.inc();
      log.debug({ id: socket.id }, 'client connected');
      socket.emit('snapshot', snapshot());
      socket.on('resync', () => {
        try {
          socket.emit('snapshot', snapshot());
        } catch (err) {
          log.error({ err }, 'resync failed');
        }
      });
      socket.on('disconnect', () => metrics.socketClients.dec());
    });
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const stop of this.stoppers.splice(0)) stop();
  }
}
