import { optionalEvidence } from './lifecycle-policy.js';
import { alertKey } from './types.js';
import type { Alert, AlertState, AlertTransition, LifecycleResult, NotificationKind } from './types.js';

/** A deep copy: the engine keeps changing its own alerts, and what it hands out must not change under the reader. */
export function copyAlert(alert: Alert): Alert {
  return {
    ...alert,
    contributors: alert.contributors.map((contributor) => ({ ...contributor })),
    ack: alert.ack === null ? null : { ...alert.ack },
    ...optionalEvidence(alert),
  };
}

/**
 * Collects the output of one engine call, in the order things happened. Notifications copy the alert as it was
 * when they were sent; `alerts` copies each changed alert once, at the end, in its final state (what the store saves).
 */
export class ResultBuilder {
  private readonly changed = new Map<string, Alert>();
  private readonly result: LifecycleResult = { alerts: [], transitions: [], notifications: [] };

  /** The alert's row changed (evidence, last observation, flags) without a transition. */
  touch(alert: Alert): void {
    if (!this.changed.has(alert.id)) this.changed.set(alert.id, alert);
  }

  /** Record a transition to the alert's current state and severity. */
  transition(alert: Alert, from: AlertState | null, at: number, reason: string): void {
    this.touch(alert);
    this.result.transitions.push({
      alertId: alert.id,
      key: alertKey(alert),
      from,
      to: alert.state,
      severity: alert.severity,
      at,
      reason,
    } satisfies AlertTransition);
  }

  /** The id is `{alertId}/{kind}/{severity}`: a replay of the same data yields the same ids, so deliveries dedupe. */
  notify(alert: Alert, kind: NotificationKind, at: number): void {
    this.touch(alert);
    this.result.notifications.push({ id: `${alert.id}/${kind}/${alert.severity}`, kind, alert: copyAlert(alert), at });
  }

  build(): LifecycleResult {
    return { ...this.result, alerts: [...this.changed.values()].map(copyAlert) };
  }
}
