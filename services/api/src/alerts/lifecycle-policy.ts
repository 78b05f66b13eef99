import type { EquipmentState, Severity } from '@linewatch/protocol';
import type { LifecycleRules } from './lifecycle-rules.js';
import type { Alert, AlertClass, AlertEvidence, Observation } from './types.js';

/** warning < critical. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { warning: 0, critical: 1 };

/**
 * Whether an observation lowers the condition. Only an inactive one whose score has fallen to threshold × clearRatio
 * does; between that and the threshold (the hysteresis band) the condition stays as it was, so a score hovering at
 * the limit neither resolves an alert nor restarts its hold. Without a score or threshold (most data-quality checks)
 * inactive is clear.
 */
export function isClear(obs: Observation, clearRatio: number): boolean {
  if (obs.active) return false;
  if (obs.score === null || obs.threshold === null) return true;
  return obs.score <= obs.threshold * clearRatio;
}

/**
 * Tool states that inhibit data-quality alerts: a tool that is down, or not scheduled at all, stops or powers off
 * its sensors, and stale or missing readings are then expected, not news. NON_SCHEDULED is our addition to the
 * issue's two down states, for the weekend a tool sits switched off.
 */
const TOOL_DOWN: ReadonlySet<EquipmentState> = new Set(['SCHEDULED_DOWN', 'UNSCHEDULED_DOWN', 'NON_SCHEDULED']);

/**
 * Why the station's equipment state mutes an alert of this class, or null when it does not. Any state but
 * PRODUCTIVE mutes process alerts (a tool in PM or standby makes no product, so its process signals prove nothing);
 * only a tool that is down mutes data-quality alerts. An unknown state mutes nothing.
 */
export function muteReason(alertClass: AlertClass, state: EquipmentState | null): string | null {
  if (state === null || state === 'PRODUCTIVE') return null;
  if (alertClass === 'process') return `station ${state}, process alerts muted`;
  if (TOOL_DOWN.has(state)) return `station ${state}, tool down inhibits sensor alerts`;
  return null;
}

/**
 * True for an alert raised by a wafer-level verdict. A verdict is a decision over a whole wafer's step, taken once:
 * - it fires at once, without the for-duration. The for-duration debounces a condition seen on every snapshot;
 *   a wafer's next verdict may come within it (minutes apart live, seconds in a fast replay), and an ok wafer then
 *   would end the episode before it fired, so a faulty wafer would never be announced.
 * - it is muted by the equipment state the wafer ran in (its evidence), never by the station's state now: the tool
 *   is often already in STANDBY between wafers when the verdict arrives, and that says nothing about the wafer.
 */
export function isWaferLevel(alert: Pick<AlertEvidence, 'level'>): boolean {
  return alert.level === 'wafer';
}

/** How long the alert's condition must hold before it fires. */
export function forMsOf(alert: Alert, rules: LifecycleRules): number {
  return isWaferLevel(alert) ? 0 : rules.forMs;
}

/** The evidence fields only some observations carry; an alert drops the previous ones when new evidence comes. */
const OPTIONAL_EVIDENCE = ['level', 'wafer', 'rules', 'brokenCorrelations', 'lastWafer', 'lastSample'] as const satisfies readonly (keyof AlertEvidence)[];

/** Deep copies of the optional evidence the source has, so neither side's objects change under the other. */
export function optionalEvidence(e: AlertEvidence): Partial<AlertEvidence> {
  const out: Partial<AlertEvidence> = {};
  if (e.level !== undefined) out.level = e.level;
  if (e.wafer !== undefined) out.wafer = e.wafer === null ? null : { ...e.wafer };
  if (e.rules !== undefined) out.rules = e.rules.map((hit) => ({ ...hit }));
  if (e.brokenCorrelations !== undefined) {
    out.brokenCorrelations = e.brokenCorrelations.map((b) => ({ ...b, sensors: [...b.sensors], z: [...b.z] }));
  }
  if (e.lastWafer !== undefined) out.lastWafer = e.lastWafer === null ? null : { ...e.lastWafer };
  if (e.lastSample !== undefined) out.lastSample = e.lastSample === null ? null : { ...e.lastSample };
  return out;
}

/** The evidence of an active observation, copied so the caller may reuse its objects. */
export function evidenceOf(obs: Observation): AlertEvidence {
  return {
    score: obs.score,
    threshold: obs.threshold,
    modelVersion: obs.modelVersion,
    contributors: obs.contributors.map((contributor) => ({ ...contributor })),
    equipmentState: obs.equipmentState,
    replay: obs.replay,
    ...optionalEvidence(obs),
  };
}

/** Replaces the alert's evidence with the observation's: optional fields it does not carry go. */
export function setEvidence(alert: Alert, obs: Observation): void {
  for (const key of OPTIONAL_EVIDENCE) delete alert[key];
  Object.assign(alert, evidenceOf(obs));
}

/** `30 s`, for the reasons in the alert history. */
export function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
