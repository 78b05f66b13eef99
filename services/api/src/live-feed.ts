import type { Server } from 'socket.io';
import type { Logger } from 'pino';
import type { ClientToServerEvents, ServerToClientEvents } from '@linewatch/protocol';
import type { LineState } from './line-state.js';
import type { ApiMetrics } from './metrics.js';
import { StatusCoalescer } from './status-coalescer.js';

/** ~4 status updates per station per second is plenty for a wall screen and keeps slow clients afloat. */
const STATUS_INTERVAL_MS = 250;

export interface LiveFeedDeps {
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  lineState: LineState;
  metrics: ApiMetrics;
  logger: Logger;
}

/** Pushes the line to socket.io clients: a snapshot on connect and on `resync`, then every change live. */
export class LiveFeed {
  private readonly unsubscribe: Array<() => void> = [];
  private coalescer: StatusCoalescer | null = null;

  constructor(private readonly deps: LiveFeedDeps) {}

  start(): void {
    const { io, lineState, metrics } = this.deps;
    const log = this.deps.logger.child({ module: 'live-feed' });
    const coalescer = new StatusCoalescer(STATUS_INTERVAL_MS, (s) => io.emit('status', s), () => metrics.statusCoalesced.inc());
    this.coalescer = coalescer;
    const bus = lineState.bus;
    this.unsubscribe.push(
      bus.on('status', (s) => coalescer.push(s)),
      bus.on('anomaly', (a) => io.emit('anomaly', a)),
      bus.on('state', (u) => io.emit('state', u)),
      bus.on('meta', (m) => io.emit('meta', m)),
      bus.on('truth', (t) => io.emit('truth', t)),
      bus.on('broker', (b) => io.emit('broker', b)),
    );
    io.on('connection', (socket) => {
      metrics.socketClients.inc();
      log.debug({ id: socket.id }, 'client connected');
      socket.emit('snapshot', lineState.snapshot());
      socket.on('resync', () => {
        try {
          socket.emit('snapshot', lineState.snapshot());
        } catch (err) {
          log.error({ err }, 'resync failed');
        }
      });
      socket.on('disconnect', () => metrics.socketClients.dec());
    });
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.coalescer?.stop();
    this.coalescer = null;
  }
}
