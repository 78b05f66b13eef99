import { topics, type DeadLetter } from '@linewatch/protocol';
import type { Logger } from 'pino';
import type { DetectorMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';

export const DEAD_LETTER_MAX_PAYLOAD_CHARS = 2048;

/** Reason classes are the metric label: bounded, unlike the free-text reasons. */
export type DeadLetterClass =
  | 'bad_topic' | 'too_large' | 'not_utf8' | 'invalid_json' | 'schema' | 'topic_mismatch' | 'handler_error' | 'rate_limited' | 'bad_timestamp'
  | 'too_many_stations';

/** Reason prefixes the detector itself writes (beyond decodePayload's), so classifyReason can tell them apart. */
export const RATE_LIMITED_REASON = 'rate limited';
export const FUTURE_TS_REASON = 'timestamp too far in the future';
export const TOO_MANY_STATIONS_REASON = 'too many stations';

/** Maps a decodePayload() reason to its class. */
export function classifyReason(reason: string): DeadLetterClass {
  if (reason.startsWith('payload too large')) return 'too_large';
  if (reason.startsWith('payload is not valid UTF-8')) return 'not_utf8';
  if (reason.startsWith('invalid JSON')) return 'invalid_json';
  if (reason.startsWith('topic')) return 'bad_topic';
  if (reason.startsWith('meta ids')) return 'topic_mismatch';
  if (reason.startsWith('handler error')) return 'handler_error';
  if (reason.startsWith(RATE_LIMITED_REASON)) return 'rate_limited';
  if (reason.startsWith(FUTURE_TS_REASON)) return 'bad_timestamp';
  if (reason.startsWith(TOO_MANY_STATIONS_REASON)) return 'too_many_stations';
  return 'schema';
}

/** Builds the dead-letter message: the payload as UTF-8 when it decodes strictly, else base64, cut to `maxChars`. */
export function buildDeadLetter(
  topic: string,
  payload: Uint8Array,
  reason: string,
  receivedAt: number,
  service: string,
  maxChars = DEAD_LETTER_MAX_PAYLOAD_CHARS,
): DeadLetter {
  // Only decode what we might keep: a 1 MB payload must not cost a 1 MB string per dead letter.
  const head = payload.subarray(0, maxChars * 4);
  let text = decodeUtf8(head);
  let usedBytes = head.length;
  if (text === undefined && head.length < payload.length) {
    // A multi-byte character cut at `head`'s end is not an encoding error of the payload itself.
    usedBytes = trimPartialUtf8(head);
    text = decodeUtf8(head.subarray(0, usedBytes));
  }
  if (text === undefined) usedBytes = Math.min(payload.length, Math.floor((maxChars * 3) / 4));
  const encoding = text === undefined ? 'base64' : 'utf8';
  const full = text ?? Buffer.from(payload.subarray(0, usedBytes)).toString('base64');
  const cut = full.length > maxChars ? full.slice(0, maxChars) : full;
  return {
    topic,
    reason: reason.slice(0, 1000),
    payload: cut,
    encoding,
    bytes: payload.byteLength,
    truncated: cut.length < full.length || usedBytes < payload.length,
    receivedAt,
    service,
  };
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Length of `bytes` without a trailing incomplete UTF-8 sequence. */
function trimPartialUtf8(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  let back = 0;
  while (i >= 0 && back < 4 && ((bytes[i] ?? 0) & 0xc0) === 0x80) {
    i--;
    back++;
  }
  return i >= 0 && (bytes[i] ?? 0) >= 0xc0 ? i : bytes.length;
}

export type PublishFn = (topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }) => void;

export interface DeadLetterDeps {
  logger: Logger;
  metrics: DetectorMetrics;
  publish: PublishFn;
  service: string;
  now?: () => number;
  /** Most dead letters republished a second (with `publishBurst` banked); the rest are only counted. Default: no cap. */
  publishPerS?: number;
  publishBurst?: number;
}

/**
 * Counts, logs (rate-limited per class) and republishes messages that fail validation. The republish is capped:
 * a hostile publisher must not turn the dead-letter topic into a flood of its own. Every dead letter is counted
 * either way (linewatch_dead_letters_total), and those not republished in linewatch_dead_letters_unpublished_total.
 */
export class DeadLetterer {
  private readonly lastWarn = new Map<DeadLetterClass, { at: number; suppressed: number }>();
  private readonly publishLimit: RateLimiter | undefined;

  constructor(private readonly deps: DeadLetterDeps) {
    this.publishLimit =
      deps.publishPerS === undefined
        ? undefined
        : new RateLimiter({ ratePerS: deps.publishPerS, burst: deps.publishBurst ?? deps.publishPerS, ...(deps.now ? { now: deps.now } : {}) });
  }

  deadLetter(topic: string, payload: Uint8Array, reason: string): void {
    const now = (this.deps.now ?? Date.now)();
    const reasonClass = classifyReason(reason);
    this.deps.metrics.deadLetters.inc({ reason: reasonClass });
    this.deps.metrics.stats.deadLettered++;
    this.warn(reasonClass, topic, reason, now);
    if (this.publishLimit && !this.publishLimit.take('all')) {
      this.deps.metrics.deadLettersUnpublished.inc({ reason: reasonClass });
      this.deps.metrics.stats.deadLettersUnpublished++;
      return;
    }
    try {
      const message = buildDeadLetter(topic, payload, reason, now, this.deps.service);
      this.deps.publish(topics.deadLetter, JSON.stringify(message), { qos: 1, retain: false });
    } catch (err) {
      // The count above already records the dead letter; a failed republish must not turn into a crash.
      this.deps.logger.error({ err, topic }, 'could not publish dead letter');
    }
  }

  private warn(reasonClass: DeadLetterClass, topic: string, reason: string, now: number): void {
    const last = this.lastWarn.get(reasonClass);
    if (last && now - last.at < 5000) {
      last.suppressed++;
      return;
    }
    this.deps.logger.warn({ topic, reason, reasonClass, suppressedSinceLast: last?.suppressed ?? 0 }, 'message dead-lettered');
    this.lastWarn.set(reasonClass, { at: now, suppressed: 0 });
  }
}
