import { describe, expect, it } from 'vitest';
import { StationWatch, type LineSocket } from './connection.js';

/** Just what StationWatch uses of a socket.io socket: connect listeners, emit, and whether it is connected. */
function fakeSocket() {
  const listeners = new Map<string, Array<() => void>>();
  const sent: unknown[] = [];
  const socket = {
    connected: false,
    on(event: string, fn: () => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), fn]);
      return socket;
    },
    emit(event: string, arg: unknown) {
      if (event === 'watch') sent.push(arg);
      return socket;
    },
  };
  const connect = () => {
    socket.connected = true;
    for (const fn of listeners.get('connect') ?? []) fn();
  };
  return { socket: socket as unknown as LineSocket, sent, connect, drop: () => (socket.connected = false) };
}

describe('StationWatch', () => {
  it('asks for the station once, again after every reconnect, and stops with null', () => {
    const { socket, sent, connect, drop } = fakeSocket();
    const watch = new StationWatch(socket);
    watch.set({ line: 'fab1', station: 'etch-01' });
    expect(sent).toEqual([]);
    connect();
    expect(sent).toEqual([{ line: 'fab1', station: 'etch-01' }]);
    watch.set({ line: 'fab1', station: 'etch-01' });
    expect(sent).toHaveLength(1);
    drop();
    connect();
    expect(sent).toEqual([{ line: 'fab1', station: 'etch-01' }, { line: 'fab1', station: 'etch-01' }]);
    watch.set(null);
    expect(sent.at(-1)).toBeNull();
    drop();
    connect();
    expect(sent).toHaveLength(3);
  });
});
