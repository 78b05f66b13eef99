import type { Logger } from 'pino';
import type { Subscription } from '../alerts/types.js';
import { nextAttemptAt } from './backoff.js';
import type { Delivery, Outbox } from './outbox.js';
import { postWebhook, type PostOutcome } from './post.js';
import { signatureHeader } from './signature.js';

export interface DispatcherOptions {
  /** Per attempt: connect, send, response and the bounded read of its body. */
  timeoutMs: number;
  /** Response bodies are read up to this and discarded. */
  maxResponseBytes: number;
  /** Retries stop this long after the first attempt; the delivery then goes dead. */
  retryForMs: number;
  /** Ceiling of the first retry's wait; it doubles with each failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Attempts in flight at once, over all subscriptions; one subscription never has more than one. */
  concurrency: number;
  /** How often the outbox is looked at when nobody kicks. */
  pollMs: number;
}

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  timeoutMs: 10_000,
  maxResponseBytes: 64 * 1024,
  retryForMs: 3 * 86_400_000,
  baseDelayMs: 5_000,
  maxDelayMs: 3_600_000,
  concurrency: 8,
  pollMs: 1_000,
};

export interface DispatcherMetrics {
  delivered(): void;
  /** One failed attempt (it may still be retried). */
  failed(): void;
  /** One delivery given up on. */
  dead(): void;
}

export interface DispatcherDeps {
  outbox: Outbox;
  /** The subscription as it is now: retries pick up a new URL, header or rotated secrets. */
  subscription: (id: string) => Subscription | undefined;
  logger: Logger;
  options?: Partial<DispatcherOptions>;
  now?: () => number;
  metrics?: DispatcherMetrics;
  /** For backoff jitter; tests pin it. */
  random?: () => number;
}

export const USER_AGENT = 'linewatch-webhooks/1';
/** Headers a subscription's custom header may not set: the signed-delivery headers and what fetch owns. */
const RESERVED_HEADER = /^(content-type|content-length|user-agent|host|transfer-encoding|connection|webhook-.*)$/i;

/** Origin only: a webhook URL's path or query is often its secret (chat and ticketing hooks). */
function receiverOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

/**
 * Sends the outbox's deliveries. Each subscription is a queue of its own, sent in order, with at most one
 * attempt in flight, so a slow or dead receiver holds back only its own deliveries; the others proceed in
 * parallel up to `concurrency`. An attempt's outcome is written before the next one of that subscription starts,
 * so a crash at any point leaves the delivery pending and it is sent again: at least once, never lost.
 */
export class WebhookDispatcher {
  private readonly options: DispatcherOptions;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Subscription id → its attempt in flight. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Subscription id → not before this time: its last outcome could not be written, so do not resend at once. */
  private readonly holdUntil = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private kicked = false;
  private running = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.options = { ...DEFAULT_DISPATCHER_OPTIONS, ...deps.options };
    const invalid = Object.entries(this.options).filter(([, v]) => !(Number.isFinite(v) && v > 0));
    if (invalid.length > 0) throw new Error(`webhook dispatcher options must be positive numbers: ${invalid.map(([k]) => k).join(', ')}`);
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ module: 'webhooks' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops taking new deliveries and waits for those in flight (each bounded by timeoutMs). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Something was enqueued: look now instead of at the next poll. */
  kick(): void {
    if (!this.running || this.kicked) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.tick();
    });
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    if (!this.running) return;
    try {
      const free = this.options.concurrency - this.inFlight.size;
      if (free > 0) {
        const now = this.now();
        for (const [id, until] of this.holdUntil) if (until <= now) this.holdUntil.delete(id);
        // Heads of busy or held subscriptions come back too; asking for that many more still leaves `free` to start.
        const due = this.deps.outbox.due(now, free + this.inFlight.size + this.holdUntil.size);
        const ready = due.filter((d) => !this.inFlight.has(d.subscriptionId) && !this.holdUntil.has(d.subscriptionId));
        for (const delivery of ready.slice(0, free)) this.launch(delivery);
      }
    } catch (err) {
      this.log.error({ err }, 'webhook outbox poll failed; trying again at the next poll');
    }
    this.schedule(this.options.pollMs);
  }

  private launch(delivery: Delivery): void {
    const attempt = this.attempt(delivery)
      .catch((err: unknown) => {
        // The subscription lookup or the write of the outcome failed. The delivery stays pending and goes again
        // (at least once), but after a pause: a database refusing writes must not become a resend loop.
        this.holdUntil.set(delivery.subscriptionId, this.now() + this.options.baseDelayMs);
        this.log.error({ err, deliveryId: delivery.id }, 'webhook attempt not recorded; it stays pending and is retried');
      })
      .finally(() => {
        this.inFlight.delete(delivery.subscriptionId);
        // The subscription's next delivery may be due already, and a slot is free.
        this.kick();
      });
    this.inFlight.set(delivery.subscriptionId, attempt);
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { outbox, metrics } = this.deps;
    const subscription = this.deps.subscription(delivery.subscriptionId);
    if (!subscription) {
      const gone = outbox.abandon(delivery.subscriptionId, 'subscription deleted; not sent', this.now());
      for (let i = 0; i < gone; i++) metrics?.dead();
      this.log.warn({ subscriptionId: delivery.subscriptionId, deliveries: gone }, 'subscription deleted: its pending webhook deliveries are dead');
      return;
    }
    const at = this.now();
    const outcome = await this.post(delivery, subscription, at);
    const attemptNumber = delivery.attempts + 1;
    const next = outcome.ok
      ? null
      : nextAttemptAt({ failedAttempts: attemptNumber, firstAttemptAt: delivery.firstAttemptAt ?? at, failedAt: at }, this.options, this.deps.random);
    outbox.recordAttempt(delivery.id, { ok: outcome.ok, status: outcome.status, error: outcome.error, at, nextAttemptAt: next });

    const context = { deliveryId: delivery.id, subscriptionId: subscription.id, receiver: receiverOf(subscription.url), kind: delivery.kind };
    if (outcome.ok) {
      metrics?.delivered();
      if (this.log.isLevelEnabled('debug')) this.log.debug({ ...context, status: outcome.status, attempts: attemptNumber }, 'webhook delivered');
      return;
    }
    metrics?.failed();
    if (next === null) {
      metrics?.dead();
      this.log.error({ ...context, status: outcome.status, error: outcome.error, attempts: attemptNumber }, 'webhook delivery dead: retries exhausted');
    } else {
      this.log.warn({ ...context, status: outcome.status, error: outcome.error, attempts: attemptNumber, retryInMs: next - at }, 'webhook attempt failed; will retry');
    }
  }

  private async post(delivery: Delivery, subscription: Subscription, at: number): Promise<PostOutcome> {
    const timestamp = Math.floor(at / 1000);
    let signature: string;
    try {
      signature = signatureHeader(subscription.secrets, delivery.id, timestamp, delivery.body);
    } catch {
      return { ok: false, status: null, error: 'no valid signing secret on the subscription', responseBytes: 0, truncated: false };
    }
    const custom = subscription.header;
    if (custom && RESERVED_HEADER.test(custom.name)) {
      // Its name only: the value may be a credential.
      this.log.warn({ subscriptionId: subscription.id, header: custom.name }, 'custom header would replace a delivery header; not sent');
    }
    const headers: Record<string, string> = {
      ...(custom && !RESERVED_HEADER.test(custom.name) ? { [custom.name]: custom.value } : {}),
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': delivery.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    return postWebhook(subscription.url, headers, delivery.body, this.options);
  }
}
