import type { Anomaly, StateMessage, StationMeta, StationStatus, Truth } from './schemas.js';

/** A station as the API knows it: what it is plus the latest of everything the line says about it. */
export interface StationView {
  meta: StationMeta;
  state: StateMessage | null;
  status: StationStatus | null;
  /** Epoch ms of the latest telemetry-derived status. */
  lastSeen: number | null;
}

/** Sent on connect and after every reconnect, so a client never starts from a partial picture. */
export interface LineSnapshot {
  line: string;
  stations: StationView[];
  anomalies: Anomaly[];
  serverTime: number;
  /** Whether the API's own broker link is up; false means every status below may be stale. */
  brokerConnected: boolean;
}

/** socket.io events the server emits. Both the API and the dashboard are typed by these maps. */
export interface ServerToClientEvents {
  snapshot: (snapshot: LineSnapshot) => void;
  status: (status: StationStatus) => void;
  anomaly: (anomaly: Anomaly) => void;
  state: (update: { line: string; station: string; state: StateMessage }) => void;
  meta: (meta: StationMeta) => void;
  truth: (truth: Truth) => void;
  broker: (link: { connected: boolean; at: number }) => void;
}

/** socket.io events a client may send. */
export interface ClientToServerEvents {
  /** Ask for a fresh snapshot, e.g. after the tab was hidden. */
  resync: () => void;
}
