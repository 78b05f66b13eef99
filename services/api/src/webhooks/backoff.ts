import { cappedBackoffMs } from '@linewatch/protocol';

/**
 * When to try a failed delivery again: exponential backoff with full jitter (a uniformly random wait between 0
 * and base × 2^n, capped), so receivers coming back from an outage are not hit by every sender in lockstep.
 */

export interface RetryPolicy {
  /** Ceiling of the first retry's wait. */
  baseDelayMs: number;
  /** No wait is longer than this, however many attempts failed. */
  maxDelayMs: number;
  /** Retries stop this long after the first attempt; the delivery is then dead. */
  retryForMs: number;
}

/** Wait ceiling after `failedAttempts` failures (1 after the first): base, 2 × base, 4 × base, ... capped. */
export function delayCeilingMs(failedAttempts: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  return cappedBackoffMs(failedAttempts, policy.baseDelayMs, policy.maxDelayMs);
}

/**
 * When the next attempt is due after a failure at `failedAt`, or null when the retry window is over and the
 * delivery should go dead. The last retry is pulled in to the window's end, so the window is used to the full
 * and the give-up happens at a predictable time.
 *
 * @example
 * nextAttemptAt({ failedAttempts: 1, firstAttemptAt: 0, failedAt: 0 }, policy, () => 0.5) // 2_500 with base 5 s
 */
export function nextAttemptAt(
  attempt: { failedAttempts: number; firstAttemptAt: number; failedAt: number },
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | null {
  const deadline = attempt.firstAttemptAt + policy.retryForMs;
  if (attempt.failedAt >= deadline) return null;
  const wait = Math.floor(random() * delayCeilingMs(attempt.failedAttempts, policy));
  return Math.min(attempt.failedAt + wait, deadline);
}
