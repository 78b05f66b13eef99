import { EventEmitter } from 'node:events';
import { topics } from '@linewatch/protocol';
import type { RecordingEntry } from '@linewatch/recording';
import type { Logger } from 'pino';
import { estimateEtaMs, type ReplayProgress } from './progress.js';
import type { ReplaySink } from './publisher.js';
import type { ReplaySegment, ReplaySource } from './source.js';
import { Timeline, type ReplaySpeed, type TimestampMode } from './timeline.js';

export interface ReplayerOptions {
  source: ReplaySource;
  /** Opens the broker link when the replay starts (MqttReplaySink.connect in production, a fake in tests). */
  connect: () => Promise<ReplaySink>;
  speed: ReplaySpeed;
  /** Default `shifted`: the run starts now. */
  timestamps?: TimestampMode | undefined;
  loop?: boolean | undefined;
  /** Replay into this line id instead of the recorded one. */
  line?: string | undefined;
  /** How long stop() (and the end of a run) waits for unacknowledged QoS 1 publishes; default 5 s. */
  flushDeadlineMs?: number | undefined;
  logger: Logger;
  /** Injectable wall clock for tests; default Date.now. */
  now?: (() => number) | undefined;
}

/** How a replay ended. A replay never rejects `done`: a failure is an outcome with its error. */
export interface ReplayResult {
  outcome: 'completed' | 'stopped' | 'failed';
  error?: Error | undefined;
  sent: number;
  acked: number;
  errors: number;
  /** Publishes still unacknowledged when the flush deadline passed. */
  unacked: number;
  backpressureWaits: number;
  /** Passes played to the end (a stopped loop counts the ones it finished). */
  passes: number;
  /** Wall-clock epoch ms of the first and last publish (pacing is measured between them). */
  firstPublishAt: number | null;
  lastPublishAt: number | null;
}

export interface ReplayerEvents {
  progress: [ReplayProgress];
  segment: [{ pass: number; name: string }];
  end: [ReplayResult];
}

/** Progress events at most this often; the last one is always sent. */
const PROGRESS_EVERY_MS = 250;
/** Below the in-flight bound publishes do not wait, so let socket I/O and acks through this often. */
const YIELD_EVERY = 256;

/**
 * Publishes a ReplaySource into MQTT through the normal topics: telemetry and truth QoS 1, state and meta QoS 1
 * retained, every message marked `replay: true`. Paced on the entries' data clock (see Timeline), or as fast as
 * the broker acknowledges at speed `max`. The API starts and stops one of these; the CLI is a thin shell.
 *
 * @example
 * const replayer = new Replayer({ source: new RecordingFileSource('run.jsonl.gz'), speed: 10, logger,
 *   connect: () => MqttReplaySink.connect({ url, clientId: 'lw-replay', logger }) });
 * replayer.on('progress', (p) => console.log(p.sent, p.total));
 * await replayer.start();
 * const result = await replayer.done;
 */
export class Replayer extends EventEmitter<ReplayerEvents> {
  readonly done: Promise<ReplayResult>;
  private resolveDone!: (result: ReplayResult) => void;
  private sink: ReplaySink | undefined;
  private stopping = false;
  private started = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly now: () => number;
  private state: ReplayProgress['state'] = 'starting';
  private sent = 0;
  private pass = 0;
  /** Passes played to the end. */
  private passesDone = 0;
  private total: number | null = null;
  private startedAt = 0;
  private file: string | null = null;
  private timeline: Timeline | undefined;
  private segments: ReplaySegment[] = [];
  private segmentIndex = 0;
  /** Furthest recorded `at` published in the current segment (the ETA counts the data left after it). */
  private segmentSentAt: number | undefined;
  private firstPublishAt: number | null = null;
  private lastPublishAt: number | null = null;
  private lastProgressAt = Number.NEGATIVE_INFINITY;
  private result: ReplayResult | undefined;

  constructor(private readonly options: ReplayerOptions) {
    super();
    if (options.speed !== 'max' && !(options.speed > 0)) throw new Error(`replay speed must be positive or 'max', got ${options.speed}`);
    this.now = options.now ?? Date.now;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Reads the source's segments and connects; resolves once playing has begun. Throws when either fails. */
  async start(): Promise<void> {
    if (this.started || this.result) throw new Error('a Replayer plays once; create another to replay again');
    this.started = true;
    try {
      this.segments = await this.options.source.segments();
      this.sink = await this.options.connect();
    } catch (err) {
      // The caller gets the error; logging it here as well would report it twice.
      this.finish('failed', err, 0, false);
      throw err;
    }
    this.total = this.options.loop ? null : this.segments.reduce((n, s) => n + s.entries, 0);
    this.startedAt = this.now();
    this.timeline = new Timeline({ timestamps: this.options.timestamps ?? 'shifted', speed: this.options.speed, startWall: this.startedAt, line: this.options.line });
    this.state = 'playing';
    this.options.logger.info({ source: this.options.source.description, segments: this.segments.length, total: this.total, speed: this.options.speed }, 'replay started');
    this.loop = this.play().then(
      () => this.end(this.stopping ? 'stopped' : 'completed'),
      (err: unknown) => this.end('failed', err),
    );
    // stop() may have come while connecting.
    if (this.stopping) this.sink.interrupt();
  }

  /** Stops publishing, waits (bounded) for unacknowledged publishes and closes the link. Safe to call twice. */
  async stop(): Promise<ReplayResult> {
    this.stopping = true;
    if (this.state === 'playing') this.state = 'stopping';
    this.wake?.();
    this.sink?.interrupt();
    if (!this.started) this.finish('stopped');
    await this.loop;
    return this.done;
  }

  progress(): ReplayProgress {
    const stats = this.sink?.stats;
    const total = this.total;
    return {
      sent: this.sent,
      total,
      acked: stats?.acked ?? 0,
      errors: stats?.errors ?? 0,
      pass: this.pass,
      startedAt: this.startedAt,
      etaMs: this.state === 'completed' ? 0 : estimateEtaMs({ sent: this.sent, total, elapsedMs: this.now() - this.startedAt, speed: this.options.speed, remainingDataMs: this.remainingDataMs() }),
      speed: this.options.speed,
      file: this.file,
      dataAt: this.timeline?.dataAt ?? null,
      state: this.state,
    };
  }

  private async play(): Promise<void> {
    const timeline = this.timeline!;
    for (this.pass = 0; ; this.pass++) {
      const before = this.sent;
      for (const [index, segment] of this.segments.entries()) {
        this.segmentIndex = index;
        this.file = segment.name;
        this.emit('segment', { pass: this.pass, name: segment.name });
        timeline.beginSegment(this.pass);
        this.segmentSentAt = undefined;
        for await (const entry of segment.read()) {
          if (this.stopping) return;
          const placed = timeline.place(entry);
          if (placed.dueWall !== undefined) await this.sleepUntil(placed.dueWall);
          if (this.stopping) return;
          if (await this.publish(placed.entry)) this.segmentSentAt = Math.max(entry.at, this.segmentSentAt ?? entry.at);
          if (this.sent % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      }
      this.passesDone++;
      // A source with nothing in it would otherwise loop forever without sending.
      if (!this.options.loop || this.sent === before) return;
    }
  }

  /** True when published; false when a stop came first. */
  private async publish(entry: RecordingEntry): Promise<boolean> {
    const topic = topics[entry.kind](entry.line, entry.station);
    const retain = entry.kind === 'state' || entry.kind === 'meta';
    if (!(await this.sink!.publish(topic, JSON.stringify(entry.msg), { qos: 1, retain }))) return false;
    const now = this.now();
    this.firstPublishAt ??= now;
    this.lastPublishAt = now;
    this.sent++;
    if (now - this.lastProgressAt >= PROGRESS_EVERY_MS) {
      this.lastProgressAt = now;
      this.emit('progress', this.progress());
    }
    return true;
  }

  /** Sleeps until a wall-clock time; stop() cuts it short. Sleeping against a due time keeps pacing from drifting. */
  private async sleepUntil(dueWall: number): Promise<void> {
    const wait = dueWall - this.now();
    if (wait < 1) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** Data time left in this segment and the ones after it; undefined when some segment's range is unknown. */
  private remainingDataMs(): number | undefined {
    if (this.options.loop) return undefined;
    let remaining = 0;
    for (let i = this.segmentIndex; i < this.segments.length; i++) {
      const { start, end } = this.segments[i]!;
      if (start === undefined || end === undefined) return undefined;
      remaining += end - start;
    }
    const current = this.segments[this.segmentIndex];
    const at = this.segmentSentAt;
    if (current?.start !== undefined && at !== undefined) remaining -= Math.max(0, at - current.start);
    return remaining;
  }

  private async end(outcome: ReplayResult['outcome'], err?: unknown): Promise<void> {
    let unacked = 0;
    if (this.sink) {
      unacked = await this.sink.flush(this.options.flushDeadlineMs ?? 5_000);
      if (unacked > 0) this.options.logger.warn({ unacked }, 'replay ends with unacknowledged publishes');
      await this.sink.close().catch((closeErr: unknown) => this.options.logger.warn({ err: closeErr }, 'closing the broker link failed'));
    }
    this.finish(outcome, err, unacked);
  }

  private finish(outcome: ReplayResult['outcome'], err?: unknown, unacked = 0, log = true): void {
    if (this.result) return;
    const stats = this.sink?.stats;
    const error = err === undefined ? undefined : err instanceof Error ? err : new Error(String(err));
    this.state = outcome;
    this.result = {
      outcome, ...(error ? { error } : {}),
      sent: this.sent, acked: stats?.acked ?? 0, errors: stats?.errors ?? 0, unacked, backpressureWaits: stats?.backpressureWaits ?? 0,
      passes: this.passesDone, firstPublishAt: this.firstPublishAt, lastPublishAt: this.lastPublishAt,
    };
    if (error) {
      if (log) this.options.logger.error({ err: error }, 'replay failed');
    } else {
      this.options.logger.info({ ...this.result }, `replay ${outcome}`);
    }
    if (this.startedAt > 0) this.emit('progress', this.progress());
    this.emit('end', this.result);
    this.resolveDone(this.result);
  }
}
