import type { StateMessage, StationMeta, StationStatus, StationView } from '@linewatch/protocol';

/** Pure updates of a line's stations (kept in process order), shared by the live line and the replay line. */
export function byProcessOrder(a: StationView, b: StationView): number {
  return a.meta.order - b.meta.order || a.meta.station.localeCompare(b.meta.station);
}

export function sortedStations(views: StationView[]): StationView[] {
  return [...views].sort(byProcessOrder);
}

function patch(list: StationView[], station: string, change: (v: StationView) => StationView): StationView[] {
  return list.map((v) => (v.meta.station === station ? change(v) : v));
}

export const stationList = {
  /**
   * Statuses in one pass over the list (a batch from the live feed). Status of an unknown station is dropped: it
   * shows once its meta arrives (the next status carries it).
   */
  statuses(list: StationView[], batch: readonly StationStatus[]): StationView[] {
    const byStation = new Map(batch.map((status) => [status.station, status]));
    return list.map((v) => {
      const status = byStation.get(v.meta.station);
      return status ? { ...v, status, lastSeen: status.ts } : v;
    });
  },
  state: (list: StationView[], station: string, state: StateMessage) => patch(list, station, (v) => ({ ...v, state })),
  meta(list: StationView[], meta: StationMeta): StationView[] {
    const known = list.some((v) => v.meta.station === meta.station);
    const next = known ? patch(list, meta.station, (v) => ({ ...v, meta })) : [...list, { meta, state: null, status: null, lastSeen: null }];
    return next.sort(byProcessOrder);
  },
};

/**
 * True when a station's current data comes from a replay (someone replayed into this line, e.g. from the CLI).
 * The latest status says it; state and meta only when there is no status yet, since they are retained and can
 * keep an old replay's mark long after live data is back.
 */
export function isReplayed(view: StationView): boolean {
  if (view.status) return view.status.replay === true;
  return view.state?.replay === true || view.meta.replay === true;
}
