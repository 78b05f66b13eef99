import { z } from 'zod';

export const DEFAULT_SPAN_MS = 15 * 60_000;
/** Longest history one request may ask for. */
export const MAX_SPAN_MS = 7 * 24 * 3_600_000;
/** Above this many raw points the API buckets by itself, so a chart never gets a million rows. */
export const MAX_POINTS = 2_000;

/**
 * Latest time a query may name: InfluxDB keeps int64 nanoseconds, so a time past 2262 overflows inside the store and
 * fails as if the store were down (a 503 for a client's typo). Same bound as the store's open upper end (year 2255).
 */
export const MAX_TIME_MS = 9_000_000_000_000;

/** A time as epoch ms digits or an ISO 8601 string, from 1970 to MAX_TIME_MS. */
export const TimeParamSchema = z.string().transform((text, ctx) => {
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `"${text.slice(0, 40)}" is neither epoch ms nor an ISO time` });
    return z.NEVER;
  }
  if (ms > MAX_TIME_MS) {
    ctx.addIssue({ code: 'custom', message: `"${text.slice(0, 40)}" is after ${new Date(MAX_TIME_MS).toISOString()}, the latest time the store holds` });
    return z.NEVER;
  }
  return ms;
});

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A bucket as ms digits or a duration like `10s`, `5m`, `1h`, from 1s to the longest range: a longer one says nothing
 * more, and a huge one overflows InfluxDB's nanosecond GROUP BY, which would look like a store failure.
 */
export const BucketParamSchema = z.string().transform((text, ctx) => {
  const m = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(text);
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1) : NaN;
  if (!Number.isFinite(ms) || ms < 1_000 || ms > MAX_SPAN_MS) {
    ctx.addIssue({ code: 'custom', message: `bucket must be a duration from 1s to ${MAX_SPAN_MS / 86_400_000}d, e.g. 10s, 5m or 60000` });
    return z.NEVER;
  }
  return ms;
});

export interface TimeRange {
  from: number;
  to: number;
  bucketMs: number | undefined;
}

/**
 * Resolves from/to/bucket with defaults (the last 15 minutes), rejects reversed or too long ranges,
 * and picks a bucket for long ranges. Returns a problem string instead of throwing.
 */
export function resolveTimeRange(
  input: { from?: number | undefined; to?: number | undefined; bucketMs?: number | undefined },
  now: number,
  expectedIntervalMs = 1_000,
): TimeRange | string {
  const to = input.to ?? (input.from !== undefined ? Math.min(now, input.from + DEFAULT_SPAN_MS) : now);
  const from = input.from ?? to - DEFAULT_SPAN_MS;
  if (to <= from) return 'to must be after from';
  const span = to - from;
  if (span > MAX_SPAN_MS) return `range too long: at most ${MAX_SPAN_MS / 86_400_000} days`;
  if (input.bucketMs !== undefined) {
    if (span / input.bucketMs > MAX_POINTS * 5) return `bucket too small for this range: at most ${MAX_POINTS * 5} buckets`;
    return { from, to, bucketMs: input.bucketMs };
  }
  if (span / expectedIntervalMs <= MAX_POINTS) return { from, to, bucketMs: undefined };
  // Round up to whole seconds so bucket edges are stable between refreshes.
  const bucketMs = Math.ceil(span / MAX_POINTS / 1_000) * 1_000;
  return { from, to, bucketMs };
}
