import type { EquipmentState, Severity } from '@linewatch/protocol';
import type { AlertClass, AlertEvidence, Observation } from './types.js';

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

/** The evidence of an active observation, copied so the caller may reuse its objects. */
export function evidenceOf(obs: Observation): AlertEvidence {
  return {
    score: obs.score,
    threshold: obs.threshold,
    modelVersion: obs.modelVersion,
    contributors: obs.contributors.map((contributor) => ({ ...contributor })),
    equipmentState: obs.equipmentState,
    replay: obs.replay,
  };
}

/** `30 s`, for the reasons in the alert history. */
export function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
