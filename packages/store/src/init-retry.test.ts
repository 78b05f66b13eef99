import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStore } from './init-retry.js';

/** A store whose setup fails its first `failures` tries: InfluxDB down at start, which the real one cannot be on cue here. */
function flaky(failures: number) {
  const store = {
    tries: 0,
    async init() {
      store.tries++;
      if (store.tries <= failures) throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
    },
  };
  return store;
}

describe('initStore', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is ready at once when the store answers', async () => {
    const store = flaky(0);
    const setup = await initStore(store, pino({ level: 'silent' }));
    expect(setup.ready).toBe(true);
    expect(store.tries).toBe(1);
  });

  it('does not fail when the store is down, and retries with capped backoff until it answers', async () => {
    const store = flaky(4);
    const setup = await initStore(store, pino({ level: 'silent' }), { firstDelayMs: 1000, maxDelayMs: 4000 });
    expect(setup.ready).toBe(false);
    expect(store.tries).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.tries).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.tries).toBe(3);
    await vi.advanceTimersByTimeAsync(4000);
    expect(store.tries).toBe(4);
    // Capped: 4 s again, not 8 s.
    await vi.advanceTimersByTimeAsync(4000);
    expect(store.tries).toBe(5);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.tries, 'no retry after it succeeded').toBe(5);
  });

  it('stops retrying when stopped', async () => {
    const store = flaky(100);
    const setup = await initStore(store, pino({ level: 'silent' }), { firstDelayMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    setup.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(store.tries).toBe(2);
  });
});
