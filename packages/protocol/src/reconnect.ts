/** The part of an mqtt.js client the backoff needs (kept structural: the protocol package does not depend on mqtt). */
export interface ReconnectingClient {
  options: { reconnectPeriod?: number };
  on(event: 'close' | 'connect', listener: () => void): unknown;
}

/** The wait after `failures` failures in a row (1 after the first): base, 2 × base, 4 × base, …, never over max. */
export function cappedBackoffMs(failures: number, baseMs: number, maxMs: number): number {
  // 2^n overflows to Infinity long after the cap applies; min() keeps the result finite.
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}

export const RECONNECT_MIN_MS = 1_000;
export const RECONNECT_MAX_MS = 10_000;

/**
 * Capped exponential reconnect backoff for an mqtt.js client: 1 s, 2 s, 4 s, 8 s, then every 10 s while the broker
 * stays away, and back to 1 s once connected. A broker that restarts is found again within a few seconds, and one
 * that stays down for an hour is not hammered. mqtt.js reads `reconnectPeriod` before each attempt. A client made
 * with `reconnectPeriod: 0` (never reconnect) is left alone.
 */
export function cappedReconnect<C extends ReconnectingClient>(client: C, minMs = RECONNECT_MIN_MS, maxMs = RECONNECT_MAX_MS): C {
  if (client.options.reconnectPeriod === 0) return client;
  client.options.reconnectPeriod = minMs;
  client.on('close', () => {
    client.options.reconnectPeriod = Math.min(maxMs, (client.options.reconnectPeriod ?? minMs) * 2);
  });
  client.on('connect', () => {
    client.options.reconnectPeriod = minMs;
  });
  return client;
}
