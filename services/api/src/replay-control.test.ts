import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import prom from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ReplayStatus } from '@linewatch/protocol';
import type { ReplayProgress, ReplayResult } from '@linewatch/simulators';
import { loadApiConfig } from './config.js';
import { RecordingLibrary } from './recordings.js';
import { ReplayControl, type ReplayRunner, type ReplayRunnerOptions } from './replay-control.js';
import { writeTestRecording } from './testing/recording.js';

/** A replayer that plays nothing: the test moves it along by hand. */
class FakeRunner extends EventEmitter<{ progress: [ReplayProgress] }> implements ReplayRunner {
  readonly done: Promise<ReplayResult>;
  finish!: (outcome: ReplayResult['outcome'], error?: Error) => void;
  stops = 0;
  sent = 0;

  constructor(
    readonly options: ReplayRunnerOptions,
    private readonly failStart?: Error,
  ) {
    super();
    this.done = new Promise((resolve) => {
      this.finish = (outcome, error) =>
        resolve({ outcome, error, sent: this.sent, acked: this.sent, errors: 0, unacked: 0, backpressureWaits: 0, passes: outcome === 'completed' ? 1 : 0, firstPublishAt: null, lastPublishAt: null });
    });
  }

  async start(): Promise<void> {
    if (this.failStart) {
      this.finish('failed', this.failStart);
      throw this.failStart;
    }
  }

  async stop(): Promise<ReplayResult> {
    this.stops++;
    this.finish('stopped');
    return this.done;
  }

  play(sent: number, total: number): void {
    this.sent = sent;
    this.emit('progress', { sent, total, acked: sent, errors: 0, pass: 0, startedAt: 0, etaMs: 1_000, speed: 10, file: 'x', dataAt: 5, state: 'playing' });
  }
}

describe('ReplayControl', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-replay-control-'));
  const config = loadApiConfig({ ALERTS_DB_PATH: ':memory:', LINE: 'fab1', RECORDINGS_DIR: dir, MQTT_CLIENT_ID: 'api-test' });
  const runners: FakeRunner[] = [];
  let failNext: Error | undefined;
  let clears = 0;
  const control = new ReplayControl({
    config,
    library: new RecordingLibrary(dir),
    clearLine: async () => void clears++,
    logger: pino({ level: 'silent' }),
    registry: new prom.Registry(),
    createRunner: (options) => {
      const runner = new FakeRunner(options, failNext);
      failNext = undefined;
      runners.push(runner);
      return runner;
    },
  });
  const statuses: ReplayStatus[] = [];
  control.bus.on('status', (s) => statuses.push(s));
  const request = { recording: 'run.jsonl.gz', speed: 10, loop: false, timestamps: 'shifted' } as const;

  beforeAll(() => writeTestRecording(path.join(dir, 'run.jsonl.gz'), { line: 'fab1', seconds: 3, stations: ['etch-01'] }));
  afterAll(async () => {
    await control.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts idle, on the replay line', () => {
    expect(control.status()).toEqual({ state: 'idle', line: 'fab1-replay', run: null });
  });

  it('plays into the replay line, reports progress, and completes', async () => {
    const started = await control.start(request);
    expect(started).toMatchObject({ state: 'starting', line: 'fab1-replay', run: { recording: 'run.jsonl.gz', speed: 10, result: null } });
    const runner = await vi.waitFor(() => runners[0] ?? Promise.reject(new Error('no runner yet')));
    expect(runner.options).toMatchObject({ file: path.join(dir, 'run.jsonl.gz'), line: 'fab1-replay', clientId: 'api-test-replay-1' });
    expect(clears).toBe(1);
    runner.play(5, 20);
    expect(control.status()).toMatchObject({ state: 'playing', run: { progress: { sent: 5, total: 20, fraction: 0.25 } } });
    runner.sent = 20;
    runner.finish('completed');
    await vi.waitFor(() => expect(control.status().state).toBe('completed'));
    expect(control.status().run).toMatchObject({ result: { outcome: 'completed', sent: 20, error: null }, progress: { etaMs: 0 } });
    expect(control.status().run?.endedAt).not.toBeNull();
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'playing', 'completed']);
  });

  it('runs one replay at a time, even when two starts race', async () => {
    const results = await Promise.allSettled([control.start(request), control.start(request)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected');
    expect(refused?.reason).toMatchObject({ status: 409, code: 'conflict' });
    await vi.waitFor(() => expect(runners).toHaveLength(2));
    const stopped = await control.stop();
    expect(stopped).toMatchObject({ state: 'stopped', run: { result: { outcome: 'stopped' } } });
    expect(runners[1]?.stops).toBe(1);
    // Stopping again, with nothing running, is harmless and says how the last one ended.
    expect((await control.stop()).state).toBe('stopped');
  });

  it('frees the slot when the recording is refused', async () => {
    await expect(control.start({ ...request, recording: 'missing.jsonl.gz' })).rejects.toMatchObject({ status: 404 });
    await expect(control.start({ ...request, recording: '../x.jsonl.gz' })).rejects.toMatchObject({ status: 400 });
    const next = await control.start(request);
    expect(next.state).toBe('starting');
    await control.stop();
  });

  it('reports a failed start as a failed replay, with a message free of server paths', async () => {
    failNext = new Error(`cannot read ${dir}${path.sep}run.jsonl.gz: broker away`);
    await control.start(request);
    await vi.waitFor(() => expect(control.status().state).toBe('failed'));
    expect(control.status().run?.result?.error).toBe('cannot read run.jsonl.gz: broker away');
  });

  it('refuses new replays once closed', async () => {
    await control.close();
    await expect(control.start(request)).rejects.toMatchObject({ status: 503 });
  });
});
