/** How alerts move through their lifecycle. Durations are in ms of the observations' clock, never the wall clock. */
export interface LifecycleRules {
  /** The condition must hold this long before pending becomes firing (0 fires on the first active observation). Default 10_000. */
  forMs: number;
  /** Hysteresis: clear this long before an alert resolves. Default 30_000. */
  clearHoldMs: number;
  /** An inactive observation counts as clear only when score <= threshold × clearRatio (when both are known). Default 0.9. */
  clearRatio: number;
  /** Flapping: this many episodes of one key starting within flapWindowMs make it flap. Defaults 4 and 600_000. */
  flapEpisodes: number;
  flapWindowMs: number;
}

export const DEFAULT_LIFECYCLE_RULES: LifecycleRules = Object.freeze({
  forMs: 10_000,
  clearHoldMs: 30_000,
  clearRatio: 0.9,
  flapEpisodes: 4,
  flapWindowMs: 600_000,
});

/** Every problem with a set of rules at once, so a bad config is fixed in one go; empty when they are usable. */
export function ruleProblems(rules: LifecycleRules): string[] {
  const problems: string[] = [];
  for (const name of ['forMs', 'clearHoldMs', 'flapWindowMs'] as const) {
    if (!Number.isFinite(rules[name]) || rules[name] < 0) problems.push(`${name} must be a finite number >= 0`);
  }
  if (!(rules.clearRatio > 0 && rules.clearRatio <= 1)) problems.push('clearRatio must be in (0, 1]');
  // One episode cannot be a flap: with 1, every episode would be held back.
  if (!Number.isInteger(rules.flapEpisodes) || rules.flapEpisodes < 2) problems.push('flapEpisodes must be an integer >= 2');
  return problems;
}
