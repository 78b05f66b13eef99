import type { AlertEvidence, EquipmentState, Severity } from '@linewatch/protocol';

export type { AlertEvidence } from '@linewatch/protocol';

/**
 * The shared vocabulary of the alerting components: the lifecycle engine (pure), the durable store (SQLite) and
 * the webhook dispatcher. Each is built and tested on its own against these types.
 */

/** Process alerts come from the models and rules; data-quality alerts from sensor and feed checks. */
export type AlertClass = 'process' | 'data_quality';

export type AlertState = 'pending' | 'firing' | 'acknowledged' | 'resolved';

/**
 * One alert key: (line, station, source). `source` names what raised it: `model` for the detector's score,
 * `spc:<rule>`, `dq:<check>` and so on. Exactly one writer serialises each key.
 */
export interface AlertKey {
  line: string;
  station: string;
  source: string;
}

/** `line/station/source`. */
export function alertKey(k: AlertKey): string {
  return `${k.line}/${k.station}/${k.source}`;
}

/**
 * One observation of an alert condition, fed to the lifecycle: the detector's verdict for a key at a time.
 * `active` is the condition (the station in ALARM for `model`); `severity` its severity while active.
 */
export interface Observation extends AlertKey, AlertEvidence {
  class: AlertClass;
  /** Epoch ms of the evidence (the reading's ts). */
  at: number;
  active: boolean;
  severity: Severity;
}

/**
 * A station's equipment state as of `at`, fed to the lifecycle on its own (the retained state topic), so that a
 * tool going into PM mutes its alerts even when no verdict arrives. Observations that carry a state do the same.
 */
export interface EquipmentReport {
  line: string;
  station: string;
  state: EquipmentState;
  at: number;
}

export interface Acknowledgement {
  by: string;
  at: number;
  comment: string;
}

/** One episode of one key: from the first active observation to its resolution. */
export interface Alert extends AlertKey, AlertEvidence {
  /** Deterministic episode id: `{line}/{station}/{source}/{startedAt}`; the same data gives the same id. */
  id: string;
  class: AlertClass;
  state: AlertState;
  severity: Severity;
  /** First active observation of the episode. */
  startedAt: number;
  firingAt: number | null;
  resolvedAt: number | null;
  /** Latest observation, active or not. */
  lastObservedAt: number;
  /** Since when the condition has been clear (for the hold before resolving); null while active. */
  clearSince: number | null;
  /** True while the key flaps: its notifications are held back, and the alert says so. */
  flapping: boolean;
  /** True while equipment state mutes it (PM, down): it is tracked but does not notify. */
  muted: boolean;
  ack: Acknowledgement | null;
  /**
   * The severity receivers were last told (by `firing`, then `escalated`); null while no `firing` was sent for this
   * episode (pending, or held back by muting or flapping). Only an episode with a severity here notifies `resolved`,
   * and the store must persist it: after a restart it is what keeps a `firing` from being sent twice. The lifecycle
   * always sets it; it is optional only so alerts built elsewhere (fixtures) need not, and absent reads as null.
   */
  notifiedSeverity?: Severity | null;
}

/** A change of an alert's state or severity, kept in the alert history. */
export interface AlertTransition {
  alertId: string;
  key: string;
  from: AlertState | null;
  to: AlertState;
  severity: Severity;
  at: number;
  /** Why: `for-duration elapsed`, `escalated to critical`, `clear for 30 s`, `acknowledged by ana`, ... */
  reason: string;
}

/** What a receiver is told. `escalated` is a firing alert whose severity rose; it notifies again even when acknowledged. */
export type NotificationKind = 'firing' | 'escalated' | 'resolved';

/** One notification of one alert, to be delivered to every subscription whose filters match. */
export interface Notification {
  /** Deterministic: `{alertId}/{kind}/{severity}`; the webhook-id of its deliveries derives from it. */
  id: string;
  kind: NotificationKind;
  alert: Alert;
  at: number;
}

/** The lifecycle's output for one input: what changed and whom to tell. Applied by the store in one transaction. */
export interface LifecycleResult {
  /** Alerts whose row changed (new, new state, new severity, new evidence, flags). */
  alerts: Alert[];
  transitions: AlertTransition[];
  notifications: Notification[];
}

/** A webhook subscription. The secret is never returned by the API or logged. */
export interface Subscription {
  id: string;
  url: string;
  /** Empty arrays match everything. */
  filter: { lines: string[]; stations: string[]; severities: Severity[]; classes: AlertClass[] };
  /** Deliver alerts raised by replayed data too (default false: replays never reach production receivers). */
  includeReplay: boolean;
  /** One optional extra header, e.g. an API key the receiver wants. */
  header: { name: string; value: string } | null;
  /** Signing secrets, newest first; two are valid at once while one is rotated out. `whsec_` + base64. */
  secrets: string[];
  createdAt: number;
}
