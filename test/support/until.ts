/** A probe's answer: `undefined`, `null` or `false` mean "not yet"; anything else is the awaited value. */
export type Probe<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

export interface UntilOptions {
  /** Give up after this long; keep it generous, the bound only exists so a broken test fails instead of hanging. */
  timeoutMs?: number;
  /** Pause between probes. */
  intervalMs?: number;
  /** What to show of the state waited on when time runs out (e.g. counters), so a timeout says how far it got. */
  progress?: () => unknown;
}

/**
 * Polls `probe` until it answers, and returns that answer. Tests wait on a condition rather than sleeping a
 * fixed time, so a loaded machine only makes them slower, never wrong. A probe that throws counts as "not yet"
 * (a server may still be starting); the last error becomes the `cause` of the timeout error, so a persistent
 * failure is still reported. Times out with an Error naming `what`, how long it waited and how many probes ran.
 */
export async function until<T>(what: string, probe: Probe<T>, { timeoutMs = 15_000, intervalMs = 25, progress }: UntilOptions = {}): Promise<T> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  let detail = `timed out after ${Date.now() - started} ms (${attempts} probes) waiting for ${what}`;
  if (progress) detail += `; last seen: ${JSON.stringify(progress())}`;
  throw lastError === undefined ? new Error(detail) : new Error(detail, { cause: lastError });
}
