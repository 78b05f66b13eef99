import { ServiceHealthSchema, topics, type ServiceHealth } from '@linewatch/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeStorage, HealthReporter } from './service-health.js';
import type { StorageHealth } from './store-writer.js';

const OK: StorageHealth = { state: 'ok', failing: false, buffered: 3, journalBytes: 0, journalPoints: 0, droppedJournalFull: 0, dropping: false };
const DOWN: StorageHealth = { state: 'degraded', failing: true, buffered: 7, journalBytes: 9_400, journalPoints: 412, droppedJournalFull: 0, dropping: false };

describe('HealthReporter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function make(instance = 'det/0+#') {
    let storage = OK;
    const sent: { topic: string; message: ServiceHealth; retain: boolean; qos: number }[] = [];
    const reporter = new HealthReporter({
      instance, line: 'fab1', storage: () => storage, logger: pino({ level: 'silent' }), checkMs: 1000, degradedRepeatMs: 5000,
      publish: (topic, payload, opts) => sent.push({ topic, message: ServiceHealthSchema.parse(JSON.parse(payload)), ...opts }),
    });
    return { reporter, sent, set: (s: StorageHealth) => (storage = s) };
  }

  it('publishes ok, retained, on connect, on a topic safe for any client id', () => {
    const { reporter, sent } = make();
    reporter.connected();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ topic: topics.health('detector', 'det/0+#'), retain: true, qos: 1, message: { service: 'detector', line: 'fab1', state: 'ok' } });
    expect(sent[0]!.topic).toBe('linewatch/v1/_health/detector/det_0__');
  });

  it('says degraded at the next check, with the journal figures and why, and repeats it while it lasts', () => {
    const { reporter, sent, set } = make();
    reporter.start();
    reporter.connected();
    set(DOWN);
    vi.advanceTimersByTime(1000);
    expect(sent.at(-1)!.message).toMatchObject({
      state: 'degraded', storage: { failing: true, journalPoints: 412, journalBytes: 9_400 },
      reason: 'store writes failing; 412 points in the journal waiting for the store',
    });
    const n = sent.length;
    vi.advanceTimersByTime(4000);
    expect(sent.length, 'no repeat before degradedRepeatMs').toBe(n);
    vi.advanceTimersByTime(1000);
    expect(sent.length).toBe(n + 1);
    set(OK);
    vi.advanceTimersByTime(1000);
    expect(sent.at(-1)!.message.state).toBe('ok');
    const m = sent.length;
    vi.advanceTimersByTime(60_000);
    expect(sent.length, 'ok is not repeated: it is retained').toBe(m);
    reporter.stop();
  });

  it('leaves a last will that says offline, and says offline itself on a clean stop', () => {
    const { reporter, sent } = make('d1');
    const will = reporter.will();
    expect(will).toMatchObject({ topic: topics.health('detector', 'd1'), qos: 1, retain: true });
    expect(ServiceHealthSchema.parse(JSON.parse(will.payload))).toMatchObject({ state: 'offline', reason: 'connection to the broker lost without a clean stop' });
    reporter.start();
    reporter.stop();
    expect(sent.at(-1)!.message).toMatchObject({ state: 'offline', reason: 'stopped' });
  });

  it('explains each degraded case in words', () => {
    expect(describeStorage({ ...OK, state: 'degraded', buffered: 250_000 })).toBe('250000 points waiting in memory');
    expect(describeStorage({ ...DOWN, failing: false })).toBe('412 points in the journal waiting for the store');
    expect(describeStorage({ ...DOWN, droppedJournalFull: 9, dropping: true })).toContain('dropping points: journal disk budget spent (9 so far)');
    // Drops long past make no claim now.
    expect(describeStorage({ ...DOWN, droppedJournalFull: 9, dropping: false })).not.toContain('dropping');
  });
});
