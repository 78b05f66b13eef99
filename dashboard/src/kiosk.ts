import type { StationView } from '@linewatch/protocol';
import { isStale } from './health.js';

/** How much a station needs a person: what a wall screen shows first. */
const RANK: Record<string, number> = { ALARM: 0, OFFLINE: 1, DATA_QUALITY: 2, WARN: 3, UNMODELLED: 5, OK: 6 };

/** The station most in need of a person, or null when every one is OK and fresh. ALARM first, then in process order. */
export function neediestStation(views: readonly StationView[], serverNow: number, staleAfterMs: number): StationView | null {
  let best: StationView | null = null;
  let bestRank = RANK.OK ?? 6;
  for (const view of views) {
    const health = view.status?.health;
    const rank = health === undefined ? 4 : isStale(view, serverNow, staleAfterMs) && health === 'OK' ? 4 : (RANK[health] ?? 4);
    if (rank < bestRank) {
      best = view;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * Which station a kiosk shows: while the line is healthy, each in turn for `cycleMs`; otherwise the neediest one,
 * held there until it recovers. Pure, so the cycle is tested without a clock.
 */
export function kioskStation(views: readonly StationView[], serverNow: number, staleAfterMs: number, cycleMs: number): { station: string | null; pinned: boolean; nextInMs: number } {
  if (views.length === 0) return { station: null, pinned: false, nextInMs: cycleMs };
  const needy = neediestStation(views, serverNow, staleAfterMs);
  if (needy) return { station: needy.meta.station, pinned: true, nextInMs: cycleMs };
  const slot = Math.floor(serverNow / cycleMs);
  const view = views[slot % views.length];
  return { station: view?.meta.station ?? null, pinned: false, nextInMs: cycleMs - (serverNow % cycleMs) };
}
