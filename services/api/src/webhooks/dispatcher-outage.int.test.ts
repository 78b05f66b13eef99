import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription } from '../alerts/types.js';
import { nthNotification, subscription, T0, until } from './fixtures.test-support.js';
import { arrivals, harness } from './harness.test-support.js';
import { replies, TestReceiver, type Reply } from './receiver.test-support.js';
import { verify } from './signature.js';

const HOUR = 3_600_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Firing and resolved notifications of several episodes, interleaved as a line would produce them. */
function notifications(count: number): ReturnType<typeof nthNotification>[] {
  const out = [];
  for (let i = 0; out.length < count; i++) {
    out.push(nthNotification(i));
    if (i > 0) out.push(nthNotification(i - 1, 'resolved'));
  }
  return out.slice(0, count);
}

/**
 * 200 when the signature checks out by the subscription's secrets at the test clock's time, 401 otherwise. The
 * clock runs a minute per few real milliseconds here, so the tolerance is an hour of it: a slow moment on a busy
 * machine must not read as a replay. The exact timestamp is checked where the clock stands still.
 */
function verifying(subs: Subscription[], clock: { now: number }): Reply {
  return (req, res) => {
    const sub = subs.find((s) => new URL(s.url).pathname === req.path);
    const ok = sub !== undefined && verify(sub.secrets, req.headers, req.body, Math.floor(clock.now / 1000), 3_600);
    res.writeHead(ok ? 200 : 401).end();
  };
}

describe('WebhookDispatcher through a receiver outage', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('delivers every notification after the receiver recovers, in enqueue order per subscription, without holding up others', async () => {
    const down = await TestReceiver.start(replies.status(500));
    const healthy = await TestReceiver.start();
    const h = harness({ pollMs: 10, timeoutMs: 2_000 }, { manualClockFrom: T0 });
    cleanup.push(() => down.close(), () => healthy.close(), () => h.close());
    const mes = subscription({ id: 'sub-mes', url: down.url('/mes') });
    const andon = subscription({ id: 'sub-andon', url: down.url('/andon') });
    const chat = subscription({ id: 'sub-chat', url: healthy.url('/chat') });
    for (const s of [mes, andon, chat]) h.subscriptions.set(s.id, s);
    healthy.reply = verifying([chat], h.clock);

    const expected = new Map<string, string[]>([[mes.id, []], [andon.id, []], [chat.id, []]]);
    for (const n of notifications(12)) for (const s of [mes, andon, chat]) expected.get(s.id)?.push(h.enqueue(n, s));
    h.dispatcher.start();

    // Two hours of 500s, six of refused connections, then the receiver is back; the clock moves a minute a step.
    let healthyDoneDuringOutage = false;
    for (let step = 0; step < 2_000; step++) {
      h.clock.now += 60_000;
      const elapsed = h.clock.now - T0;
      if (elapsed === 2 * HOUR) await down.close();
      if (elapsed === 8 * HOUR) {
        healthyDoneDuringOutage = arrivals(healthy.requests, '/chat').ids.length === 12;
        down.reply = verifying([mes, andon], h.clock);
        await down.listen();
      }
      h.dispatcher.kick();
      await sleep(3);
      if (h.outbox.counts().pending === 0) break;
    }
    await until('all delivered', () => h.outbox.counts().pending === 0, 5_000);

    expect(healthyDoneDuringOutage).toBe(true);
    const report: Record<string, number> = {};
    for (const [s, receiver] of [[mes, down], [andon, down], [chat, healthy]] as const) {
      const got = arrivals(receiver.requests, new URL(s.url).pathname);
      expect(got.ids).toEqual(expected.get(s.id)); // complete, and in enqueue order
      report[s.id] = got.duplicates;
    }
    console.log('duplicate deliveries beyond at-least-once, per subscription:', report);
    expect(Object.values(report)).toEqual([0, 0, 0]);
    expect(down.requests.filter((r) => r.status === 401)).toHaveLength(0);

    // While the receiver failed, only each subscription's head was tried: the rest waited their turn.
    const beforeRecovery = down.requests.filter((r) => r.status === 500);
    expect(new Set(beforeRecovery.map((r) => r.headers['webhook-id']))).toEqual(new Set([expected.get(mes.id)?.[0], expected.get(andon.id)?.[0]]));
    const head = h.outbox.get(expected.get(mes.id)?.[0] ?? '');
    const errors = new Set(h.outbox.attempts(head.id).map((a) => a.error));
    expect(errors).toContain('HTTP 500');
    expect(errors).toContain('network error ECONNREFUSED');
    expect([...errors].filter((e) => e !== null && e !== 'HTTP 500' && !e.startsWith('network error '))).toEqual([]);
    expect(head.deliveredAt).toBeGreaterThanOrEqual(T0 + 8 * HOUR);
    expect(h.outbox.counts()).toEqual({ pending: 0, delivered: 36, dead: 0 });
    expect(h.metrics).toMatchObject({ delivered: 36, dead: 0 });
    expect(h.metrics.failed).toBe(h.outbox.attempts(head.id).length - 1 + h.outbox.attempts(expected.get(andon.id)?.[0] ?? '').length - 1);
  });
});

describe('WebhookDispatcher across a restart', () => {
  it('a new Outbox and dispatcher on the same file deliver the rest of the queue, none lost', async () => {
    const receiver = await TestReceiver.start(replies.slow(15));
    const h = harness({ pollMs: 10, concurrency: 2 });
    try {
      const subs = [subscription({ id: 'sub-mes', url: receiver.url('/mes') }), subscription({ id: 'sub-andon', url: receiver.url('/andon') })];
      for (const s of subs) h.subscriptions.set(s.id, s);
      const expected = new Map(subs.map((s) => [s.id, notifications(30).map((n) => h.enqueue(n, s))]));
      h.dispatcher.start();
      await until('a third delivered', () => receiver.accepted().length >= 20);

      await h.restart();
      const pendingAtRestart = h.outbox.counts().pending;
      expect(pendingAtRestart).toBeGreaterThan(0);
      await until('the rest delivered', () => h.outbox.counts().pending === 0);

      for (const s of subs) {
        const got = arrivals(receiver.requests, new URL(s.url).pathname);
        expect(got.ids).toEqual(expected.get(s.id));
        expect(got.duplicates).toBe(0); // a graceful stop lets the attempt in flight finish and record
      }
      expect(h.outbox.counts()).toEqual({ pending: 0, delivered: 60, dead: 0 });
      console.log(`restart with ${pendingAtRestart} of 60 deliveries pending: all delivered, no duplicates`);
    } finally {
      await h.close();
      await receiver.close();
    }
  });
});
