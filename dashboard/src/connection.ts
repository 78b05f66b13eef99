import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '@linewatch/protocol';
import { reduce, type LineStore } from './line-store.js';

export type LineSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Connects the live feed to the store. socket.io reconnects by itself; the server sends a fresh
 * snapshot on every (re)connect, so the page heals without a reload.
 */
export function connectLine(store: LineStore, url?: string): LineSocket {
  const socket: LineSocket = url ? io(url, { transports: ['websocket', 'polling'] }) : io({ transports: ['websocket', 'polling'] });

  socket.on('connect', () => store.update((s) => reduce.connection(s, 'connected')));
  socket.on('disconnect', (reason) => {
    store.update((s) => reduce.connection(s, 'lost'));
    // After a server-side disconnect socket.io does not retry on its own; a wall screen must.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1_000);
  });
  socket.on('connect_error', () => store.update((s) => reduce.connection(s, 'lost')));

  socket.on('snapshot', (snap) => store.update((s) => reduce.snapshot(s, snap, Date.now())));
  socket.on('status', (status) => store.update((s) => reduce.status(s, status)));
  socket.on('state', (u) => store.update((s) => reduce.state(s, u.station, u.state, u.line)));
  socket.on('meta', (meta) => store.update((s) => reduce.meta(s, meta)));
  socket.on('anomaly', (anomaly) => store.update((s) => reduce.anomaly(s, anomaly)));
  socket.on('wafer', (verdict) => store.update((s) => reduce.wafer(s, verdict)));
  socket.on('broker', (link) => store.update((s) => reduce.broker(s, link.connected)));
  socket.on('replay', (status) => store.update((s) => reduce.replayStatus(s, status)));
  socket.on('replayLine', (event) => store.update((s) => reduce.replayLine(s, event)));
  socket.on('alert', (alert) => store.update((s) => reduce.alert(s, alert)));
  socket.on('deliveries', (status) => store.update((s) => reduce.deliveries(s, status)));

  // A hidden tab may have been throttled for minutes; start from a full picture when it comes back.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && socket.connected) socket.emit('resync');
  });
  return socket;
}
