import type { Anomaly, LineSnapshot, StateMessage, StationMeta, StationStatus, StationView } from '@linewatch/protocol';

export type ConnectionState = 'connecting' | 'connected' | 'lost';

export interface DashboardState {
  line: string | null;
  /** Process order (meta.order). */
  stations: StationView[];
  /** Newest first. */
  anomalies: Anomaly[];
  connection: ConnectionState;
  /** The API's own broker link; false means the API itself is not hearing the line. */
  brokerConnected: boolean;
  /** serverTime − local clock at the last snapshot, so staleness does not depend on this PC's clock. */
  serverOffsetMs: number;
}

const MAX_ANOMALIES = 200;

export function initialState(): DashboardState {
  return { line: null, stations: [], anomalies: [], connection: 'connecting', brokerConnected: false, serverOffsetMs: 0 };
}

function byProcessOrder(a: StationView, b: StationView): number {
  return a.meta.order - b.meta.order || a.meta.station.localeCompare(b.meta.station);
}

function updateStation(s: DashboardState, station: string, patch: (v: StationView) => StationView): DashboardState {
  return { ...s, stations: s.stations.map((v) => (v.meta.station === station ? patch(v) : v)) };
}

/** Pure transitions, one per server event: the page's whole state comes from these. */
export const reduce = {
  snapshot(s: DashboardState, snap: LineSnapshot, localNow: number): DashboardState {
    return {
      ...s,
      line: snap.line,
      stations: [...snap.stations].sort(byProcessOrder),
      anomalies: snap.anomalies.slice(0, MAX_ANOMALIES),
      brokerConnected: snap.brokerConnected,
      serverOffsetMs: snap.serverTime - localNow,
    };
  },
  status(s: DashboardState, status: StationStatus): DashboardState {
    return updateStation(s, status.station, (v) => ({ ...v, status, lastSeen: status.ts }));
  },
  state(s: DashboardState, station: string, state: StateMessage): DashboardState {
    return updateStation(s, station, (v) => ({ ...v, state }));
  },
  meta(s: DashboardState, meta: StationMeta): DashboardState {
    const known = s.stations.some((v) => v.meta.station === meta.station);
    const stations = known
      ? s.stations.map((v) => (v.meta.station === meta.station ? { ...v, meta } : v))
      : [...s.stations, { meta, state: null, status: null, lastSeen: null }];
    return { ...s, stations: stations.sort(byProcessOrder) };
  },
  anomaly(s: DashboardState, anomaly: Anomaly): DashboardState {
    if (s.anomalies.some((a) => a.id === anomaly.id)) return s;
    const anomalies = [anomaly, ...s.anomalies].sort((a, b) => b.ts - a.ts).slice(0, MAX_ANOMALIES);
    return { ...s, anomalies };
  },
  connection(s: DashboardState, connection: ConnectionState): DashboardState {
    return { ...s, connection };
  },
  broker(s: DashboardState, connected: boolean): DashboardState {
    return { ...s, brokerConnected: connected };
  },
};

/** A tiny observable holder; renders are batched to one per animation frame by the caller. */
export class LineStore {
  private current: DashboardState = initialState();
  private readonly listeners = new Set<(state: DashboardState) => void>();

  get state(): DashboardState {
    return this.current;
  }

  update(transition: (s: DashboardState) => DashboardState): void {
    const next = transition(this.current);
    if (next === this.current) return;
    this.current = next;
    for (const listener of this.listeners) listener(next);
  }

  subscribe(listener: (state: DashboardState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
