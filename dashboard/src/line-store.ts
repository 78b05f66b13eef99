import type {
  AlertView,
  Anomaly,
  DeliveryStatus,
  LineSnapshot,
  LineStats,
  ReplayLineEvent,
  ReplayStatus,
  ServiceHealth,
  StateMessage,
  StationMeta,
  StationStatus,
  StationView,
  WaferVerdict,
} from '@linewatch/protocol';
import { alertList } from './alert-list.js';
import { sortedStations, stationList } from './station-list.js';
import { LIVE, type TimeWindow } from './time-window.js';
import { waferList } from './wafer-list.js';

export type ConnectionState = 'connecting' | 'connected' | 'lost';
/** Which line the tiles show: the live line, or the line replays play into. */
export type LineView = 'live' | 'replay';

/** The replay line: its stations, anomalies and wafer verdicts, and the current (or last) replay. */
export interface ReplayLineState {
  /** null until the first snapshot. */
  status: ReplayStatus | null;
  stations: StationView[];
  anomalies: Anomaly[];
  wafers: WaferVerdict[];
}

/** The station whose view is open: `line` tells a live station from its replayed namesake. */
export interface StationSelection {
  line: string;
  station: string;
}

export interface DashboardState {
  line: string | null;
  /** Process order (meta.order). */
  stations: StationView[];
  /** Newest first. */
  anomalies: Anomaly[];
  /** Wafer-level verdicts of the live line, newest first, a bounded number per station. */
  wafers: WaferVerdict[];
  connection: ConnectionState;
  /** The API's own broker link; false means the API itself is not hearing the line. */
  brokerConnected: boolean;
  /** serverTime − local clock at the last snapshot, so staleness does not depend on this PC's clock. */
  serverOffsetMs: number;
  replay: ReplayLineState;
  view: LineView;
  /** Alerts of the live and the replay line: every open one and the latest resolved ones. */
  alerts: AlertView[];
  /** The webhook outbox; null until the server first says. */
  deliveries: DeliveryStatus | null;
  /** The station view shown, if any. */
  selected: StationSelection | null;
  /** What the station view's charts show: live, the last 15 min/1 h/24 h, or a custom range. */
  window: TimeWindow;
  /** The anomaly whose contributors the station view shows instead of the current ones; null: the current. */
  chosen: string | null;
  /** The live line's throughput; null until the server first says. */
  stats: LineStats | null;
  /** Local time the connection was lost at, for "down for 12 s"; null while connected. */
  lostAt: number | null;
  /** A status older than this is shown stale: the API's setting, sent in the snapshot. */
  staleAfterMs: number;
  /** The detectors' own health (storage degraded, offline), as the API last heard it. */
  services: ServiceHealth[];
}

/** Until the API says (the snapshot), its default STALE_AFTER_MS. */
export const DEFAULT_STALE_AFTER_MS = 10_000;

const MAX_ANOMALIES = 200;

export function initialState(): DashboardState {
  return {
    line: null,
    stations: [],
    anomalies: [],
    wafers: [],
    connection: 'connecting',
    brokerConnected: false,
    serverOffsetMs: 0,
    replay: { status: null, stations: [], anomalies: [], wafers: [] },
    view: 'live',
    alerts: [],
    deliveries: null,
    selected: null,
    window: LIVE,
    chosen: null,
    stats: null,
    lostAt: null,
    staleAfterMs: DEFAULT_STALE_AFTER_MS,
    services: [],
  };
}

function addAnomaly(list: Anomaly[], anomaly: Anomaly): Anomaly[] {
  if (list.some((a) => a.id === anomaly.id)) return list;
  return [anomaly, ...list].sort((a, b) => b.ts - a.ts).slice(0, MAX_ANOMALIES);
}

/** Live events of another line are dropped: the API sends only the live line's, and the page must not mix lines. */
const otherLine = (s: DashboardState, line: string) => s.line !== null && line !== s.line;

/** Pure transitions, one per server event: the page's whole state comes from these. */
export const reduce = {
  snapshot(s: DashboardState, snap: LineSnapshot, localNow: number): DashboardState {
    return {
      ...s,
      line: snap.line,
      stations: sortedStations(snap.stations),
      anomalies: snap.anomalies.slice(0, MAX_ANOMALIES),
      wafers: waferList.fromSnapshot(snap.wafers),
      brokerConnected: snap.brokerConnected,
      serverOffsetMs: snap.serverTime - localNow,
      replay: {
        status: snap.replay.status,
        stations: sortedStations(snap.replay.stations),
        anomalies: snap.replay.anomalies.slice(0, MAX_ANOMALIES),
        wafers: waferList.fromSnapshot(snap.replay.wafers),
      },
      // An API without alerting sends none: keep what the page has rather than show "no alerts".
      alerts: snap.alerts ? alertList.fromSnapshot(snap.alerts) : s.alerts,
      stats: snap.stats ?? s.stats,
      staleAfterMs: snap.staleAfterMs ?? s.staleAfterMs,
      services: snap.services ?? s.services,
    };
  },
  alert(s: DashboardState, alert: AlertView): DashboardState {
    const alerts = alertList.upsert(s.alerts, alert);
    return alerts === s.alerts ? s : { ...s, alerts };
  },
  deliveries(s: DashboardState, deliveries: DeliveryStatus): DashboardState {
    return { ...s, deliveries };
  },
  /** A batch of the live line's statuses: one state change for all of them. */
  statuses(s: DashboardState, batch: readonly StationStatus[]): DashboardState {
    const mine = batch.filter((status) => !otherLine(s, status.line));
    return mine.length === 0 ? s : { ...s, stations: stationList.statuses(s.stations, mine) };
  },
  state(s: DashboardState, station: string, state: StateMessage, line = s.line ?? ''): DashboardState {
    return otherLine(s, line) ? s : { ...s, stations: stationList.state(s.stations, station, state) };
  },
  meta(s: DashboardState, meta: StationMeta): DashboardState {
    return otherLine(s, meta.line) ? s : { ...s, stations: stationList.meta(s.stations, meta) };
  },
  anomaly(s: DashboardState, anomaly: Anomaly): DashboardState {
    if (otherLine(s, anomaly.line)) return s;
    const anomalies = addAnomaly(s.anomalies, anomaly);
    return anomalies === s.anomalies ? s : { ...s, anomalies };
  },
  wafer(s: DashboardState, verdict: WaferVerdict): DashboardState {
    if (otherLine(s, verdict.line)) return s;
    const wafers = waferList.add(s.wafers, verdict);
    return wafers === s.wafers ? s : { ...s, wafers };
  },
  connection(s: DashboardState, connection: ConnectionState, localNow = Date.now()): DashboardState {
    if (s.connection === connection) return s;
    return { ...s, connection, lostAt: connection === 'lost' ? (s.lostAt ?? localNow) : connection === 'connected' ? null : s.lostAt };
  },
  stats(s: DashboardState, stats: LineStats): DashboardState {
    return { ...s, stats };
  },
  services(s: DashboardState, services: ServiceHealth[]): DashboardState {
    return { ...s, services };
  },
  broker(s: DashboardState, connected: boolean): DashboardState {
    return { ...s, brokerConnected: connected };
  },
  replayStatus(s: DashboardState, status: ReplayStatus): DashboardState {
    return { ...s, replay: { ...s.replay, status } };
  },
  /** A change on the replay line; events for any other line are dropped. */
  replayLine(s: DashboardState, event: ReplayLineEvent): DashboardState {
    const r = s.replay;
    if (r.status && event.line !== r.status.line) return s;
    switch (event.kind) {
      case 'meta':
        return { ...s, replay: { ...r, stations: stationList.meta(r.stations, event.meta) } };
      case 'state':
        return { ...s, replay: { ...r, stations: stationList.state(r.stations, event.station, event.state) } };
      case 'statuses':
        return { ...s, replay: { ...r, stations: stationList.statuses(r.stations, event.statuses) } };
      case 'anomaly':
        return { ...s, replay: { ...r, anomalies: addAnomaly(r.anomalies, event.anomaly) } };
      case 'wafer': {
        const wafers = waferList.add(r.wafers, event.verdict);
        return wafers === r.wafers ? s : { ...s, replay: { ...r, wafers } };
      }
      case 'quality':
        // The station's status lists its active issues; the event itself adds nothing the page shows.
        return s;
      case 'reset':
        return { ...s, replay: { ...r, stations: [], anomalies: [], wafers: [] } };
    }
  },
  view(s: DashboardState, view: LineView): DashboardState {
    return s.view === view ? s : { ...s, view };
  },
  /** Opens a station's view (null closes it), live unless a window is given; a new station forgets the chosen anomaly. */
  select(s: DashboardState, selected: StationSelection | null, window?: TimeWindow): DashboardState {
    const same = s.selected?.line === selected?.line && s.selected?.station === selected?.station;
    if (same && (window === undefined || window === s.window)) return s;
    return { ...s, selected, window: window ?? (same ? s.window : LIVE), chosen: same ? s.chosen : null };
  },
  window(s: DashboardState, window: TimeWindow): DashboardState {
    return s.window === window ? s : { ...s, window };
  },
  /** Shows this anomaly's contributors in the station view (null: back to the current ones). */
  choose(s: DashboardState, chosen: string | null): DashboardState {
    return s.chosen === chosen ? s : { ...s, chosen };
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
