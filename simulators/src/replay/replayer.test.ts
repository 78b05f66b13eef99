import type { RecordingEntry } from '@linewatch/recording';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReplayProgress } from './progress.js';
import type { PublishOptions, ReplaySink, SinkStats } from './publisher.js';
import { Replayer, type ReplayerOptions } from './replayer.js';
import type { ReplaySource } from './source.js';

const logger = pino({ level: 'silent' });
const T0 = 1_764_400_000_000;
const WALL = 1_800_000_000_000;

interface Sent {
  topic: string;
  msg: Record<string, unknown>;
  retain: boolean;
  at: number;
}

class FakeSink implements ReplaySink {
  readonly stats: SinkStats = { published: 0, acked: 0, errors: 0, backpressureWaits: 0, peakInflight: 0 };
  readonly sent: Sent[] = [];
  closed = false;
  private interrupted = false;
  constructor(private readonly failEvery = 0) {}

  async publish(topic: string, payload: string, options: PublishOptions): Promise<boolean> {
    if (this.interrupted) return false;
    this.sent.push({ topic, msg: JSON.parse(payload) as Record<string, unknown>, retain: options.retain, at: Date.now() });
    this.stats.published++;
    if (this.failEvery > 0 && this.stats.published % this.failEvery === 0) this.stats.errors++;
    else this.stats.acked++;
    return true;
  }
  interrupt(): void {
    this.interrupted = true;
  }
  async flush(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function reading(i: number, station = 'etch-01'): RecordingEntry {
  return { at: T0 + i * 100, line: 'fab1', station, kind: 'telemetry', msg: { ts: T0 + i * 100, seq: i, values: { a: i } } };
}

const meta: RecordingEntry = { at: T0, line: 'fab1', station: 'etch-01', kind: 'meta', msg: { line: 'fab1', station: 'etch-01', type: 'etch', name: 'Etch', order: 3, sensors: [{ name: 'a', unit: 'W', min: 0, max: 9 }] } };
const state: RecordingEntry = { at: T0, line: 'fab1', station: 'etch-01', kind: 'state', msg: { state: 'PRODUCTIVE', since: T0 } };

function source(entries: RecordingEntry[], failAt?: number): ReplaySource {
  return {
    description: 'memory',
    segments: async () => [{
      name: 'memory', entries: entries.length, start: entries[0]?.at, end: entries.at(-1)?.at,
      read: async function* () {
        for (const [i, e] of entries.entries()) {
          if (i === failAt) throw new Error('run.jsonl.gz:7: invalid entry');
          yield e;
        }
      },
    }],
  };
}

function replayer(options: Partial<ReplayerOptions> & { sink?: FakeSink } = {}) {
  const sink = options.sink ?? new FakeSink();
  const r = new Replayer({ source: source([meta, state, ...Array.from({ length: 20 }, (_, i) => reading(i))]), connect: async () => sink, speed: 'max', timestamps: 'original', logger, ...options });
  return { r, sink };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: WALL });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Replayer', () => {
  it('publishes through the normal topics: state and meta retained, everything marked replayed', async () => {
    const { r, sink } = replayer();
    await r.start();
    const result = await r.done;
    expect(result).toMatchObject({ outcome: 'completed', sent: 22, acked: 22, errors: 0, passes: 1 });
    expect(sink.sent.slice(0, 3).map((s) => [s.topic, s.retain])).toEqual([
      ['linewatch/v1/fab1/etch-01/meta', true], ['linewatch/v1/fab1/etch-01/state', true], ['linewatch/v1/fab1/etch-01/telemetry', false],
    ]);
    expect(sink.sent.every((s) => s.msg.replay === true)).toBe(true);
    expect(sink.closed).toBe(true);
  });

  it('paces 10x on the data clock: every publish at start + (at - firstAt) / 10', async () => {
    const { r, sink } = replayer({ speed: 10 });
    await r.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await r.done).outcome).toBe('completed');
    expect(sink.sent.map((s) => s.at - WALL)).toEqual([0, 0, ...Array.from({ length: 20 }, (_, i) => i * 10)]);
    expect(r.progress()).toMatchObject({ sent: 22, total: 22, etaMs: 0, state: 'completed' });
  });

  it('reports progress with a paced ETA while it plays', async () => {
    const { r } = replayer({ speed: 2 });
    const events: ReplayProgress[] = [];
    r.on('progress', (p) => events.push(p));
    await r.start();
    await vi.advanceTimersByTimeAsync(500);
    const mid = r.progress();
    // 500 ms at 2x is 1 000 ms of data: 11 readings sent of 20, 900 ms of the 1 900 left.
    expect(mid).toMatchObject({ sent: 13, total: 22, speed: 2, file: 'memory', state: 'playing', etaMs: 450 });
    await vi.advanceTimersByTimeAsync(1_000);
    await r.done;
    expect(events.at(-1)).toMatchObject({ sent: 22, state: 'completed' });
  });

  it('loops with seq and ts carrying on, until stopped', async () => {
    const { r, sink } = replayer({ loop: true });
    await r.start();
    while (sink.sent.length < 70) await vi.advanceTimersByTimeAsync(1);
    const result = await r.stop();
    expect(result.outcome).toBe('stopped');
    expect(result.passes).toBeGreaterThanOrEqual(3);
    const telemetry = sink.sent.filter((s) => s.topic.endsWith('/telemetry')).map((s) => s.msg as { ts: number; seq: number });
    expect(telemetry.slice(0, 60).map((t) => t.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(telemetry.slice(0, 60).map((t) => t.ts - T0)).toEqual(Array.from({ length: 60 }, (_, i) => i * 100));
    expect(r.progress().total).toBeNull();
  });

  it('stop() cuts a long wait short', async () => {
    const late = { ...reading(0), at: T0 + 3_600_000 };
    const sink = new FakeSink();
    const r = new Replayer({ source: source([reading(0), late as RecordingEntry]), connect: async () => sink, speed: 1, logger });
    await r.start();
    await vi.advanceTimersByTimeAsync(10);
    const result = await r.stop();
    expect(result).toMatchObject({ outcome: 'stopped', sent: 1 });
  });

  it('a bad entry fails the replay with its reason; done resolves, never rejects', async () => {
    const sink = new FakeSink();
    const r = new Replayer({ source: source([reading(0), reading(1), reading(2)], 2), connect: async () => sink, speed: 'max', logger });
    await r.start();
    const result = await r.done;
    expect(result).toMatchObject({ outcome: 'failed', sent: 2 });
    expect(result.error?.message).toMatch(/:7: invalid entry/);
  });

  it('counts publishes the broker refused', async () => {
    const { r } = replayer({ sink: new FakeSink(5) });
    await r.start();
    expect(await r.done).toMatchObject({ outcome: 'completed', sent: 22, acked: 18, errors: 4 });
  });

  it('start() throws when the broker is unreachable, and done says failed', async () => {
    const r = new Replayer({ source: source([reading(0)]), connect: async () => Promise.reject(new Error('ECONNREFUSED')), speed: 'max', logger });
    await expect(r.start()).rejects.toThrow(/ECONNREFUSED/);
    expect((await r.done).outcome).toBe('failed');
  });
});
