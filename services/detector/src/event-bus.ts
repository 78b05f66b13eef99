import type { Anomaly, Command, DataQualityEvent, StateMessage, StationMeta, StationStatus, Telemetry, WaferVerdict } from '@linewatch/protocol';
import type { ReadingPoint, ScorePoint } from '@linewatch/store';
import type { Logger } from 'pino';
import type { DetectorMetrics } from './metrics.js';

/** What flows between the detector's components. */
export interface DetectorEvents {
  /** A valid telemetry snapshot for a station of this partition. */
  telemetry: { line: string; station: string; telemetry: Telemetry; receivedAt: number };
  meta: { meta: StationMeta };
  state: { line: string; station: string; state: StateMessage };
  /** A snapshot to store; every valid telemetry message yields exactly one. */
  reading: { point: ReadingPoint };
  score: { point: ScorePoint };
  /** A station's status changed or was refreshed; the publisher throttles it. */
  status: { status: StationStatus; healthChanged: boolean };
  anomaly: { anomaly: Anomaly };
  /** A data-quality issue raised or cleared; never an anomaly, whatever the scores did meanwhile. */
  quality: { event: DataQualityEvent };
  /** A wafer-level verdict at the end of a wafer's step (ok, fault or baselining). */
  wafer: { verdict: WaferVerdict };
  /** A request from the API for a station of this partition (a re-baseline). */
  command: { line: string; station: string; command: Command };
}

type Handler<T> = (payload: T) => void | Promise<void>;

/**
 * Typed in-process event bus. Every handler runs inside a wrapper that logs, counts and drops its
 * failure (sync throw or rejected promise), so one bad event can never stop the detector.
 */
export class EventBus {
  private readonly handlers = new Map<keyof DetectorEvents, Handler<never>[]>();
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: DetectorMetrics,
  ) {}

  on<K extends keyof DetectorEvents>(event: K, handler: Handler<DetectorEvents[K]>): void {
    const list = this.handlers.get(event) ?? [];
    list.push(handler as Handler<never>);
    this.handlers.set(event, list);
  }

  emit<K extends keyof DetectorEvents>(event: K, payload: DetectorEvents[K]): void {
    for (const handler of this.handlers.get(event) ?? []) {
      try {
        const result = (handler as Handler<DetectorEvents[K]>)(payload);
        if (result instanceof Promise) result.catch((err: unknown) => this.fail(event, err));
      } catch (err) {
        this.fail(event, err);
      }
    }
  }

  private fail(event: string, err: unknown): void {
    this.metrics.handlerErrors.inc({ event });
    this.metrics.stats.handlerErrors++;
    // Rate-limited per event: a systematic bug would otherwise flood the log at message rate.
    const now = Date.now();
    if (now - (this.warnedAt.get(event) ?? 0) < 5000) return;
    this.warnedAt.set(event, now);
    this.logger.error({ err, event }, 'event handler failed; event dropped');
  }
}
