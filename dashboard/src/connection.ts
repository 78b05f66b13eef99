import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ReadingsBatch, ServerToClientEvents, StationStatus } from '@linewatch/protocol';
import { reduce, type LineStore } from './line-store.js';

export type LineSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What the page does with the feed beyond its state: charts and sparklines take points as they come. */
export interface FeedHooks {
  /** Every status of either line (the live line's, and the replay line's unwrapped). */
  status?: (status: StationStatus) => void;
  readings?: (batch: ReadingsBatch) => void;
  /** After every (re)connect, once its snapshot is in: catch up from the API (not after a mere `resync`). */
  reconnected?: () => void;
  /** A new replay cleared the replay line: what the page kept of it (sparklines) must go too. */
  replayReset?: (line: string) => void;
}

/**
 * Connects the live feed to the store. socket.io reconnects by itself; the server sends a fresh
 * snapshot on every (re)connect, so the page heals without a reload.
 */
export function connectLine(store: LineStore, hooks: FeedHooks = {}, url?: string): LineSocket {
  const socket: LineSocket = url ? io(url, { transports: ['websocket', 'polling'] }) : io({ transports: ['websocket', 'polling'] });

  // The snapshot after a connect is a catch-up; one after a `resync` (a tab shown again) is not worth 50 queries.
  let fresh = false;
  socket.on('connect', () => {
    fresh = true;
    store.update((s) => reduce.connection(s, 'connected'));
  });
  socket.on('disconnect', (reason) => {
    store.update((s) => reduce.connection(s, 'lost'));
    // After a server-side disconnect socket.io does not retry on its own; a wall screen must.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1_000);
  });
  socket.on('connect_error', () => store.update((s) => reduce.connection(s, 'lost')));

  socket.on('snapshot', (snap) => {
    store.update((s) => reduce.snapshot(s, snap, Date.now()));
    if (fresh) hooks.reconnected?.();
    fresh = false;
  });
  socket.on('statuses', (batch) => {
    if (hooks.status) for (const status of batch) hooks.status(status);
    store.update((s) => reduce.statuses(s, batch));
  });
  socket.on('state', (u) => store.update((s) => reduce.state(s, u.station, u.state, u.line)));
  socket.on('meta', (meta) => store.update((s) => reduce.meta(s, meta)));
  socket.on('anomaly', (anomaly) => store.update((s) => reduce.anomaly(s, anomaly)));
  socket.on('wafer', (verdict) => store.update((s) => reduce.wafer(s, verdict)));
  socket.on('broker', (link) => store.update((s) => reduce.broker(s, link.connected)));
  socket.on('replay', (status) => store.update((s) => reduce.replayStatus(s, status)));
  socket.on('replayLine', (event) => {
    if (event.kind === 'statuses' && hooks.status) for (const status of event.statuses) hooks.status(status);
    if (event.kind === 'reset') hooks.replayReset?.(event.line);
    store.update((s) => reduce.replayLine(s, event));
  });
  socket.on('alert', (alert) => store.update((s) => reduce.alert(s, alert)));
  socket.on('deliveries', (status) => store.update((s) => reduce.deliveries(s, status)));
  socket.on('lineStats', (stats) => store.update((s) => reduce.stats(s, stats)));
  socket.on('services', (services) => store.update((s) => reduce.services(s, services)));
  socket.on('readings', (batch) => hooks.readings?.(batch));

  // A hidden tab may have been throttled for minutes; start from a full picture when it comes back.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && socket.connected) socket.emit('resync');
  });
  return socket;
}

/**
 * Tells the server which station's readings to stream (the station view's), and tells it again after every
 * reconnect: the server forgets a socket's watch when it goes.
 */
export class StationWatch {
  private current: { line: string; station: string } | null = null;

  constructor(private readonly socket: LineSocket) {
    socket.on('connect', () => {
      if (this.current) socket.emit('watch', this.current);
    });
  }

  set(selection: { line: string; station: string } | null): void {
    if (this.current?.line === selection?.line && this.current?.station === selection?.station) return;
    this.current = selection ? { line: selection.line, station: selection.station } : null;
    if (this.socket.connected) this.socket.emit('watch', this.current);
  }
}
