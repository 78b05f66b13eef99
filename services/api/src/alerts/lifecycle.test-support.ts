import type { LifecycleRules } from './lifecycle-rules.js';
import type { AlertTransition, LifecycleResult, Notification, Observation } from './types.js';

/** The defaults, spelled out so a change of DEFAULT_LIFECYCLE_RULES does not silently change what the tests mean. */
export const RULES: LifecycleRules = { forMs: 10_000, clearHoldMs: 30_000, clearRatio: 0.9, flapEpisodes: 4, flapWindowMs: 600_000 };

/** An ALARM verdict of etch-01's model, PRODUCTIVE, warning, unless patched. */
export function active(at: number, patch: Partial<Observation> = {}): Observation {
  return {
    line: 'fab1',
    station: 'etch-01',
    source: 'model',
    class: 'process',
    at,
    active: true,
    severity: 'warning',
    score: 3.2,
    threshold: 1,
    modelVersion: 'etch@3',
    contributors: [{ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 }],
    equipmentState: 'PRODUCTIVE',
    replay: false,
    ...patch,
  };
}

/** A healthy verdict, well below threshold × clearRatio. */
export function clear(at: number, patch: Partial<Observation> = {}): Observation {
  return active(at, { active: false, score: 0.2, contributors: [], ...patch });
}

/** A data-quality verdict of etch-01 (no score, as the feed checks have none). */
export function dq(at: number, isActive: boolean, patch: Partial<Observation> = {}): Observation {
  return active(at, { source: 'data_quality', class: 'data_quality', active: isActive, score: null, threshold: null, ...patch });
}

/** Everything an engine said over a test, in order. */
export class Transcript {
  readonly transitions: AlertTransition[] = [];
  readonly notifications: Notification[] = [];

  /** Keep a call's result and hand it back, so a test can look at one step and at the whole run. */
  record(result: LifecycleResult): LifecycleResult {
    this.transitions.push(...result.transitions);
    this.notifications.push(...result.notifications);
    return result;
  }

  notificationIds(): string[] {
    return this.notifications.map((n) => n.id);
  }

  reasons(alertId: string): string[] {
    return this.transitions.filter((t) => t.alertId === alertId).map((t) => `${t.from ?? '-'}>${t.to}: ${t.reason}`);
  }
}
