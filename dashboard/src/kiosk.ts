import type { StationView } from '@linewatch/protocol';
import { isStale } from './health.js';

/** How much a station needs a person: what a wall screen shows first. */
const RANK: Record<string, number> = { ALARM: 0, OFFLINE: 1, DATA_QUALITY: 2, WARN: 3, UNMODELLED: 5, OK: 6 };

/** An open alert on a station whose snapshots look fine (a faulty wafer, say): after ALARM, before the rest. */
const ALERTING_RANK = 0.5;

/**
 * The station most in need of a person, or null when every one is OK and fresh and none has an open alert.
 * ALARM first, then a station with an open alert, then OFFLINE, DATA QUALITY, WARN, stale; ties in process order.
 */
export function neediestStation(views: readonly StationView[], serverNow: number, staleAfterMs: number, alerting: ReadonlySet<string> = new Set()): StationView | null {
  let best: StationView | null = null;
  let bestRank = RANK.OK ?? 6;
  for (const view of views) {
    const health = view.status?.health;
    const own = health === undefined ? 4 : isStale(view, serverNow, staleAfterMs) && health === 'OK' ? 4 : (RANK[health] ?? 4);
    const rank = alerting.has(view.meta.station) ? Math.min(own, ALERTING_RANK) : own;
    if (rank < bestRank) {
      best = view;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * Which station a kiosk shows: while the line is healthy and no alert is open, each in turn for `cycleMs`;
 * otherwise the neediest one, held there until it recovers (`alerting`: stations with an open alert). Pure, so the cycle is tested without a clock.
 */
export function kioskStation(
  views: readonly StationView[],
  serverNow: number,
  staleAfterMs: number,
  cycleMs: number,
  alerting: ReadonlySet<string> = new Set(),
): { station: string | null; pinned: boolean; nextInMs: number } {
  if (views.length === 0) return { station: null, pinned: false, nextInMs: cycleMs };
  const needy = neediestStation(views, serverNow, staleAfterMs, alerting);
  if (needy) return { station: needy.meta.station, pinned: true, nextInMs: cycleMs };
  const slot = Math.floor(serverNow / cycleMs);
  const view = views[slot % views.length];
  return { station: view?.meta.station ?? null, pinned: false, nextInMs: cycleMs - (serverNow % cycleMs) };
}
