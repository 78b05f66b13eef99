import { ID_PATTERN } from '@linewatch/protocol';

/** Checks shared by both stores, so a query that one store rejects the other rejects too. */

export const DEFAULT_LIMIT = 10_000;
export const DEFAULT_ANOMALY_LIMIT = 100;
export const DEFAULT_WAFER_LIMIT = 100;
const MAX_LIMIT = 1_000_000;

/** Line and station ids reach InfluxQL; ID_PATTERN admits no quote, backslash, space or regex delimiter. */
export function assertId(kind: 'line' | 'station', value: string): void {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) throw new Error(`invalid ${kind} id ${JSON.stringify(value)?.slice(0, 80)}`);
}

export function assertEpochMs(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be epoch milliseconds, got ${value}`);
}

export function checkedLimit(limit: number | undefined, fallback: number): number {
  const value = limit ?? fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_LIMIT) throw new Error(`limit must be 1..${MAX_LIMIT}, got ${value}`);
  return value;
}

export function checkedBucket(bucketMs: number | undefined): number {
  if (bucketMs === undefined || !Number.isSafeInteger(bucketMs) || bucketMs < 1) throw new Error(`bucketMs must be a positive integer, got ${bucketMs}`);
  return bucketMs;
}
