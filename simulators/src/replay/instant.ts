/**
 * An instant from the command line: ISO-8601 (`2026-11-20T08:00:00Z`) or epoch milliseconds (`1764400000000`).
 * Returns undefined when it is neither, so a config schema can report it with the flag's name.
 *
 * @example
 * parseInstant('2026-11-20T08:00:00Z') // 1795161600000
 */
export function parseInstant(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  // Date.parse accepts almost anything; ask for an ISO date at least, so `5` or `now` is not silently a date.
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
