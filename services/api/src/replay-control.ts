import type { Logger } from 'pino';
import prom from 'prom-client';
import { isReplayRunning, type ReplayOutcome, type ReplayRequest, type ReplayRun, type ReplayStatus } from '@linewatch/protocol';
import { MqttReplaySink, RecordingFileSource, Replayer, type ReplayProgress, type ReplayResult } from '@linewatch/simulators';
import type { ApiConfig } from './config.js';
import { HttpError } from './http-error.js';
import { TypedBus } from './line-events.js';
import { withoutDir, type RecordingLibrary } from './recordings.js';

/** What the control needs of a replayer; the real one is `Replayer` from @linewatch/simulators. */
export interface ReplayRunner {
  on(event: 'progress', listener: (progress: ReplayProgress) => void): unknown;
  start(): Promise<void>;
  stop(): Promise<ReplayResult>;
  readonly done: Promise<ReplayResult>;
}

export interface ReplayRunnerOptions {
  file: string;
  request: Required<ReplayRequest>;
  /** The replay line: the only line a replay from the API may play into. */
  line: string;
  clientId: string;
  logger: Logger;
}

export interface ReplayControlEvents {
  /** The status changed: state, progress or result. */
  status: (status: ReplayStatus) => void;
  /** A new replay cleared the replay line. */
  reset: (line: string) => void;
}

export interface ReplayControlDeps {
  config: ApiConfig;
  library: RecordingLibrary;
  /** Empties the replay line (retained topics too) before each replay. */
  clearLine: () => Promise<void>;
  logger: Logger;
  registry: prom.Registry;
  /** Builds the replayer; tests may pass a fake. */
  createRunner?: (options: ReplayRunnerOptions) => ReplayRunner;
}

/** The real thing: a recording file played into MQTT over the API's broker, with its credentials. */
function mqttRunner(config: ApiConfig) {
  return ({ file, request, line, clientId, logger }: ReplayRunnerOptions): ReplayRunner =>
    new Replayer({
      source: new RecordingFileSource(file),
      speed: request.speed,
      timestamps: request.timestamps,
      loop: request.loop,
      line,
      logger,
      connect: () => MqttReplaySink.connect({ url: config.MQTT_URL, clientId, username: config.MQTT_USERNAME || undefined, password: config.MQTT_PASSWORD || undefined, tls: config.MQTT_TLS, logger }),
    });
}

const NO_PROGRESS = { sent: 0, total: null, acked: 0, errors: 0, pass: 0, etaMs: null, dataAt: null, fraction: null } as const;

/**
 * Starts and stops replays of stored recordings into the replay line, one at a time, and keeps the status of the
 * current (or last) one. Starting answers as soon as the request is checked; the replay then runs in the
 * background and its progress and end come as `status` events.
 */
export class ReplayControl {
  readonly bus: TypedBus<ReplayControlEvents>;
  private current: ReplayStatus;
  private runner: ReplayRunner | undefined;
  /** Set from the moment a start is accepted until its replay has ended: one replay at a time. */
  private finished: Promise<void> | undefined;
  private stopRequested = false;
  private closed = false;
  private count = 0;
  private readonly log: Logger;
  private readonly createRunner: (options: ReplayRunnerOptions) => ReplayRunner;
  private readonly replays: prom.Counter<'outcome'>;
  private readonly running: prom.Gauge;

  constructor(private readonly deps: ReplayControlDeps) {
    this.log = deps.logger.child({ module: 'replay' });
    this.bus = new TypedBus<ReplayControlEvents>((event, err) => this.log.error({ err, event }, 'replay event listener failed'));
    this.current = { state: 'idle', line: deps.config.REPLAY_LINE, run: null };
    this.createRunner = deps.createRunner ?? mqttRunner(deps.config);
    this.replays = new prom.Counter({ name: 'linewatch_api_replays_total', help: 'Replays started from the API, by how they ended', labelNames: ['outcome'] as const, registers: [deps.registry] });
    this.running = new prom.Gauge({ name: 'linewatch_api_replay_running', help: '1 while a replay from the API runs', registers: [deps.registry] });
  }

  status(): ReplayStatus {
    return this.current;
  }

  /** Checks the request and starts the replay; 409 while one runs, 404/400/422 for a recording it cannot play. */
  async start(request: Required<ReplayRequest>): Promise<ReplayStatus> {
    if (this.closed) throw new HttpError(503, 'unavailable', 'the API is stopping');
    if (this.finished) {
      throw new HttpError(409, 'conflict', `a replay of "${this.current.run?.recording ?? '?'}" is running; stop it first (DELETE /api/replay)`);
    }
    // Claimed before the first await, so two requests at once cannot both start.
    let release!: () => void;
    this.finished = new Promise((resolve) => (release = resolve));
    try {
      const file = await this.deps.library.resolve(request.recording);
      await this.deps.library.header(request.recording, file);
      const run: ReplayRun = {
        id: `r${++this.count}-${Date.now().toString(36)}`,
        ...request,
        startedAt: Date.now(),
        endedAt: null,
        progress: { ...NO_PROGRESS },
        result: null,
      };
      this.stopRequested = false;
      this.update({ state: 'starting', run });
      this.running.set(1);
      this.log.info({ id: run.id, recording: run.recording, speed: run.speed, loop: run.loop, timestamps: run.timestamps, line: this.current.line }, 'replay requested');
      void this.play(run, file).finally(() => {
        this.running.set(0);
        this.finished = undefined;
        release();
      });
      return this.current;
    } catch (err) {
      this.finished = undefined;
      release();
      throw err;
    }
  }

  /** Stops the running replay and resolves once it has ended (unacknowledged publishes flushed, bounded). */
  async stop(): Promise<ReplayStatus> {
    const finished = this.finished;
    if (!finished) return this.current;
    this.stopRequested = true;
    if (this.current.run && this.current.state !== 'stopping') this.update({ state: 'stopping', run: this.current.run });
    await this.runner?.stop();
    await finished;
    return this.current;
  }

  /** For the API's stop(): no new replays, and the running one ends. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    this.bus.clear();
  }

  private async play(run: ReplayRun, file: string): Promise<void> {
    let result: ReplayResult | undefined;
    try {
      await this.deps.clearLine();
      this.bus.emit('reset', this.current.line);
      if (this.stopRequested) return this.end(run, { outcome: 'stopped', error: null, sent: 0, acked: 0, errors: 0, unacked: 0, passes: 0 });
      const runner = this.createRunner({
        file,
        request: { recording: run.recording, speed: run.speed, loop: run.loop, timestamps: run.timestamps },
        line: this.current.line,
        clientId: `${this.deps.config.MQTT_CLIENT_ID}-replay-${this.count}`,
        logger: this.log.child({ replay: run.id }),
      });
      this.runner = runner;
      runner.on('progress', (progress) => this.onProgress(progress));
      // start() throws when the file or the broker fails; `done` then holds the failure as an outcome.
      await runner.start().catch(() => undefined);
      // A stop that came while connecting found no runner yet.
      if (this.stopRequested) await runner.stop();
      result = await runner.done;
    } catch (err) {
      result = { outcome: 'failed', error: err instanceof Error ? err : new Error(String(err)), sent: 0, acked: 0, errors: 0, unacked: 0, backpressureWaits: 0, passes: 0, firstPublishAt: null, lastPublishAt: null };
    } finally {
      this.runner = undefined;
    }
    const { outcome, error, sent, acked, errors, unacked, passes } = result;
    this.end(run, { outcome, error: error ? withoutDir(error.message, this.deps.library.dir) : null, sent, acked, errors, unacked, passes });
  }

  private onProgress(p: ReplayProgress): void {
    const run = this.current.run;
    if (!run || !isReplayRunning(this.current.state)) return;
    const fraction = p.total === null ? null : p.total === 0 ? 1 : Math.min(1, p.sent / p.total);
    const progress = { sent: p.sent, total: p.total, acked: p.acked, errors: p.errors, pass: p.pass, etaMs: p.etaMs, dataAt: p.dataAt, fraction };
    // The replayer's final progress says completed/stopped; the state changes with the result, in end().
    const state = this.stopRequested || p.state === 'stopping' ? 'stopping' : 'playing';
    this.update({ state, run: { ...run, progress } });
  }

  private end(run: ReplayRun, result: ReplayOutcome): void {
    const last = this.current.run ?? run;
    const progress = { ...last.progress, sent: result.sent, acked: result.acked, errors: result.errors, etaMs: result.outcome === 'completed' ? 0 : null };
    this.update({ state: result.outcome, run: { ...last, endedAt: Date.now(), progress, result } });
    this.replays.inc({ outcome: result.outcome });
    this.log.info({ id: run.id, recording: run.recording, ...result }, `replay ${result.outcome}`);
  }

  private update(patch: Pick<ReplayStatus, 'state' | 'run'>): void {
    this.current = { ...this.current, ...patch };
    this.bus.emit('status', this.current);
  }
}
