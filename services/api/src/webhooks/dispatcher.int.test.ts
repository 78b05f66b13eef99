import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { USER_AGENT, WebhookDispatcher } from './dispatcher.js';
import { capturedLogger, nthNotification, subscription, T0, until } from './fixtures.test-support.js';
import { arrivals, harness, type Harness } from './harness.test-support.js';
import type { Outbox } from './outbox.js';
import { bigReply, replies, TestReceiver } from './receiver.test-support.js';
import { newSecret } from './signature.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('WebhookDispatcher', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  async function receiver(reply?: Parameters<typeof TestReceiver.start>[0]): Promise<TestReceiver> {
    const r = await TestReceiver.start(reply);
    cleanup.push(() => r.close());
    return r;
  }
  function dispatcherHarness(...args: Parameters<typeof harness>): Harness {
    const h = harness(...args);
    cleanup.push(() => h.close());
    return h;
  }

  it('signs with every secret of a rotation and sends the delivery headers; no secret, header value or URL path is logged', async () => {
    const r = await receiver(replies.status(503));
    const h = dispatcherHarness({ pollMs: 10, baseDelayMs: 10, maxDelayMs: 10 });
    const [next, previous] = [newSecret(), newSecret()];
    const s = subscription({ url: r.url('/services/T0001/B0002/pathtoken42'), secrets: [next, previous] });
    h.subscriptions.set(s.id, s);
    const id = h.enqueue(nthNotification(0), s);
    h.dispatcher.start();
    await until('a failed attempt and its retry', () => r.requests.length >= 2);
    r.reply = replies.status(204);
    await until('delivered', () => h.outbox.get(id).status === 'delivered');

    const last = r.requests.at(-1);
    expect(last?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': id,
      'x-api-key': 'receiver-api-key-not-for-logs',
    });
    expect(Number(last?.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    for (const secret of [next, previous]) expect(new Webhook(secret).verify(last?.body ?? '', last?.headers as Record<string, string>)).toBeTruthy();
    expect(new Set(r.requests.map((q) => q.body)).size).toBe(1); // every retry sends the same bytes
    const logs = h.logs.join('\n');
    expect(logs).toContain('webhook attempt failed');
    expect(logs).toContain('webhook delivered');
    for (const leak of [next, previous, 'receiver-api-key-not-for-logs', 'pathtoken42', last?.headers['webhook-signature'] ?? '?']) {
      expect(logs).not.toContain(leak);
      expect(last?.body).not.toContain(leak);
    }
  });

  it('never lets a custom header replace a delivery header', async () => {
    const r = await receiver();
    const h = dispatcherHarness({ pollMs: 10 });
    const s = subscription({ url: r.url(), header: { name: 'Webhook-Signature', value: 'v1,forged' } });
    h.subscriptions.set(s.id, s);
    h.enqueue(nthNotification(0), s);
    h.dispatcher.start();
    await until('delivered', () => r.accepted().length === 1);
    expect(r.requests[0]?.headers['webhook-signature']).not.toContain('forged');
    expect(h.logs.join('\n')).toContain('custom header would replace a delivery header');
  });

  it('does not let a slow receiver delay a healthy one; stop waits for the slow attempt to time out', async () => {
    const slow = await receiver(replies.slow(5_000));
    const fast = await receiver();
    const h = dispatcherHarness({ pollMs: 10, timeoutMs: 1_000, concurrency: 2, baseDelayMs: 60_000 });
    const sSlow = subscription({ id: 'sub-slow', url: slow.url() });
    const sFast = subscription({ id: 'sub-fast', url: fast.url() });
    h.subscriptions.set(sSlow.id, sSlow).set(sFast.id, sFast);
    const slowHead = h.enqueue(nthNotification(0), sSlow);
    for (let i = 1; i < 4; i++) h.enqueue(nthNotification(i), sSlow);
    for (let i = 0; i < 20; i++) h.enqueue(nthNotification(i), sFast);
    const started = Date.now();
    h.dispatcher.start();

    await until('the healthy receiver has all 20', () => fast.accepted().length === 20);
    expect(h.outbox.get(slowHead).attempts).toBe(0); // the slow attempt has not even timed out yet
    expect(slow.requests).toHaveLength(1); // its other deliveries wait behind it
    await h.dispatcher.stop();
    const stoppedAfter = Date.now() - started;
    expect(stoppedAfter).toBeGreaterThanOrEqual(1_000);
    expect(stoppedAfter).toBeLessThan(3_000);
    expect(h.outbox.attempts(slowHead)).toEqual([expect.objectContaining({ ok: false, status: null, error: 'timed out after 1000 ms' })]);
    expect(h.outbox.get(slowHead).status).toBe('pending');
  });

  it('does not follow a redirect: the target gets nothing and the attempt is a failure', async () => {
    const target = await receiver();
    const redirecting = await receiver(replies.redirect(target.url('/elsewhere'), 307));
    const h = dispatcherHarness({ pollMs: 10, baseDelayMs: 60_000 });
    const s = subscription({ url: redirecting.url() });
    h.subscriptions.set(s.id, s);
    const id = h.enqueue(nthNotification(0), s);
    h.dispatcher.start();
    await until('an attempt', () => h.outbox.get(id).attempts === 1);
    await sleep(100);
    expect(target.requests).toHaveLength(0);
    expect(h.outbox.get(id)).toMatchObject({ status: 'pending', lastStatus: 307, lastError: 'HTTP 307: redirect not followed' });
    expect(h.outbox.get(id).nextAttemptAt).toBeGreaterThan(h.outbox.get(id).lastAttemptAt ?? Infinity);
    expect(h.metrics).toMatchObject({ delivered: 0, failed: 1 });
  });

  it('cuts a response at maxResponseBytes; a 2xx with a huge body counts as delivered', async () => {
    const huge = bigReply(200, 256 * 1024 * 1024);
    const r = await receiver(huge.reply);
    const h = dispatcherHarness({ pollMs: 10, maxResponseBytes: 64 * 1024 });
    const s = subscription({ url: r.url() });
    h.subscriptions.set(s.id, s);
    const id = h.enqueue(nthNotification(0), s);
    const heapBefore = process.memoryUsage().heapUsed;
    h.dispatcher.start();
    await until('delivered', () => h.outbox.get(id).status === 'delivered');
    await until('the receiver sees the connection cut', () => huge.cut());
    // What left the receiver is what the client read plus socket buffers: nowhere near the 256 MiB offered.
    expect(huge.sent()).toBeLessThan(16 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(h.outbox.get(id)).toMatchObject({ lastStatus: 200, attempts: 1 });
  });

  it('gives up after retryForMs into the dead-letter list; redeliver sends the same webhook-id again', async () => {
    const r = await receiver(replies.status(500));
    const h = dispatcherHarness({ pollMs: 10, baseDelayMs: 1_000, maxDelayMs: 8_000, retryForMs: 60_000 }, { manualClockFrom: T0 });
    const s = subscription({ url: r.url() });
    h.subscriptions.set(s.id, s);
    const id = h.enqueue(nthNotification(0), s);
    h.dispatcher.start();
    for (let step = 0; step < 500 && h.outbox.get(id).status === 'pending'; step++) {
      h.clock.now += 500;
      h.dispatcher.kick();
      await sleep(2);
    }
    const dead = h.outbox.get(id);
    expect(dead.status).toBe('dead');
    expect((dead.lastAttemptAt ?? 0) - (dead.firstAttemptAt ?? 0)).toBe(60_000); // the last try is at the deadline
    expect(h.outbox.deliveries({ status: 'dead' }).map((d) => d.id)).toEqual([id]);
    expect(h.outbox.attempts(id)).toHaveLength(dead.attempts);
    expect(dead.attempts).toBeGreaterThanOrEqual(8); // 60 s of retries at most 8 s apart
    expect(h.metrics).toMatchObject({ dead: 1, failed: dead.attempts, delivered: 0 });
    expect(new Set(r.requests.map((q) => q.headers['webhook-id']))).toEqual(new Set([id]));

    r.reply = replies.status(200);
    h.outbox.redeliver(id, h.clock.now);
    h.dispatcher.kick();
    await until('redelivered', () => r.accepted().length === 1);
    expect(r.accepted()[0]?.headers['webhook-id']).toBe(id);
    await until('recorded', () => h.outbox.get(id).status === 'delivered');
    expect(h.outbox.attempts(id)).toHaveLength(dead.attempts + 1);
  });

  it('resends a delivery whose outcome could not be recorded, after a pause rather than in a loop', async () => {
    const r = await receiver();
    const h = dispatcherHarness({ pollMs: 10 });
    const s = subscription({ url: r.url() });
    h.subscriptions.set(s.id, s);
    const id = h.enqueue(nthNotification(0), s);
    let refusals = 0;
    const outbox = Object.create(h.outbox) as Outbox;
    outbox.recordAttempt = (...args) => {
      if (refusals++ === 0) throw new Error('SQLITE_IOERR: disk I/O error');
      h.outbox.recordAttempt(...args);
    };
    const { logger, lines } = capturedLogger();
    const dispatcher = new WebhookDispatcher({ outbox, subscription: (sid) => h.subscriptions.get(sid), logger, options: { pollMs: 10, baseDelayMs: 300 } });
    cleanup.push(() => dispatcher.stop());
    dispatcher.start();
    await until('the first attempt', () => refusals >= 1);
    await sleep(150);
    expect(r.requests).toHaveLength(1);
    await until('sent again and recorded', () => h.outbox.get(id).status === 'delivered');
    expect(r.accepted().map((q) => q.headers['webhook-id'])).toEqual([id, id]);
    expect(lines.join('\n')).toContain('webhook attempt not recorded; it stays pending and is retried');
  });

  it('refuses options that would never send', () => {
    const h = dispatcherHarness({});
    const make = (options: object): WebhookDispatcher => new WebhookDispatcher({ outbox: h.outbox, subscription: () => undefined, logger: capturedLogger().logger, options });
    expect(() => make({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => make({ timeoutMs: Number.NaN, pollMs: -1 })).toThrow(/timeoutMs, pollMs/);
  });

  it("sends a deleted subscription's pending deliveries to the dead-letter list, sending nothing", async () => {
    const r = await receiver();
    const h = dispatcherHarness({ pollMs: 10 });
    const s = subscription({ url: r.url() });
    for (let i = 0; i < 3; i++) h.enqueue(nthNotification(i), s); // never registered: as good as deleted
    h.dispatcher.start();
    await until('dead', () => h.outbox.counts().dead === 3);
    expect(h.outbox.deliveries({ status: 'dead' }).map((d) => d.lastError)).toEqual(Array(3).fill('subscription deleted; not sent'));
    expect(r.requests).toHaveLength(0);
    expect(h.metrics.dead).toBe(3);
    expect(arrivals(r.requests, '/hook').ids).toEqual([]);
  });
});
