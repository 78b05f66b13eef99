import { forMsOf } from './lifecycle-policy.js';
import type { LifecycleRules } from './lifecycle-rules.js';
import { alertKey } from './types.js';
import type { Alert, AlertKey } from './types.js';

/** What the engine remembers of one key beyond its open alert: enough to order its inputs and to detect flapping. */
export interface KeyMemory {
  readonly key: string;
  readonly line: string;
  readonly station: string;
  /** The open episode; a key has at most one. */
  alert: Alert | null;
  lastObservedAt: number;
  /** The latest moment anything of this key was stamped at; later stamps never go below it. */
  clock: number;
  /** Starts of the most recent episodes (at most flapEpisodes, oldest first). */
  episodeStarts: number[];
  flapping: boolean;
  /** So that acknowledging an alert that just resolved says 'not firing', not 'unknown alert'. */
  lastResolvedId: string | null;
}

export function newKeyMemory(k: AlertKey): KeyMemory {
  return {
    key: alertKey(k),
    line: k.line,
    station: k.station,
    alert: null,
    lastObservedAt: -Infinity,
    clock: -Infinity,
    episodeStarts: [],
    flapping: false,
    lastResolvedId: null,
  };
}

/** A time-based transition of one key, and the moment its rule is met. */
export type Due = { event: 'flap-end'; at: number } | { event: 'fire' | 'resolve'; at: number; alert: Alert };

/**
 * The key's next time-based transition, whenever it falls: the flap ends a window after the last episode started,
 * a pending alert fires forMs after its start while its condition holds (at once for a wafer-level alert), and a
 * clear alert resolves after the hold.
 */
export function nextDue(memory: KeyMemory, rules: LifecycleRules): Due | null {
  const candidates: Due[] = [];
  if (memory.flapping) {
    candidates.push({ event: 'flap-end', at: (memory.episodeStarts.at(-1) ?? -Infinity) + rules.flapWindowMs });
  }
  const alert = memory.alert;
  if (alert?.state === 'pending' && alert.clearSince === null) {
    candidates.push({ event: 'fire', at: alert.startedAt + forMsOf(alert, rules), alert });
  }
  if (alert !== null && alert.clearSince !== null) {
    candidates.push({ event: 'resolve', at: alert.clearSince + rules.clearHoldMs, alert });
  }
  // Ties go to the earlier candidate: a flap that ends as the alert fires lets that firing be announced.
  return candidates.reduce<Due | null>((a, b) => (a === null || b.at < a.at ? b : a), null);
}

/** The time to record for something that happens to the key at `at`: the key's history never runs backwards. */
export function stamp(memory: KeyMemory, at: number): number {
  memory.clock = Math.max(memory.clock, at);
  return memory.clock;
}
