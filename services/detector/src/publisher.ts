import { topics, type Anomaly, type StationStatus } from '@linewatch/protocol';
import type { Logger } from 'pino';
import type { PublishFn } from './dead-letter.js';
import type { EventBus } from './event-bus.js';
import type { DetectorMetrics } from './metrics.js';

interface Throttle {
  lastAt: number;
  pending: StationStatus | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Publishes retained station status (at most one per `minIntervalMs` per station, but at once on a health
 * change, and always the latest after a burst) and anomalies at QoS 1.
 */
export class Publisher {
  private readonly throttles = new Map<string, Throttle>();
  private readonly logger: Logger;

  constructor(
    private readonly deps: { bus: EventBus; publish: PublishFn; metrics: DetectorMetrics; logger: Logger; minIntervalMs: number; now?: () => number },
  ) {
    this.logger = deps.logger.child({ module: 'publisher' });
  }

  start(): void {
    this.deps.bus.on('status', ({ status, healthChanged }) => this.onStatus(status, healthChanged));
    this.deps.bus.on('anomaly', ({ anomaly }) => this.onAnomaly(anomaly));
  }

  /** Publishes every held-back status, so the retained one is the latest. */
  stop(): void {
    for (const t of this.throttles.values()) {
      if (t.timer) clearTimeout(t.timer);
      t.timer = undefined;
      if (t.pending) this.send(t.pending, t);
    }
  }

  private onStatus(status: StationStatus, healthChanged: boolean): void {
    const key = `${status.line}/${status.station}`;
    let t = this.throttles.get(key);
    if (!t) {
      t = { lastAt: Number.NEGATIVE_INFINITY, pending: undefined, timer: undefined };
      this.throttles.set(key, t);
    }
    const now = (this.deps.now ?? Date.now)();
    const wait = t.lastAt + this.deps.minIntervalMs - now;
    if (healthChanged || wait <= 0) {
      if (t.timer) clearTimeout(t.timer);
      t.timer = undefined;
      this.send(status, t);
      return;
    }
    t.pending = status;
    if (!t.timer) {
      const throttle = t;
      throttle.timer = setTimeout(() => {
        throttle.timer = undefined;
        if (throttle.pending) this.send(throttle.pending, throttle);
      }, wait);
      throttle.timer.unref();
    }
  }

  private send(status: StationStatus, t: Throttle): void {
    t.pending = undefined;
    t.lastAt = (this.deps.now ?? Date.now)();
    this.deps.metrics.statusPublished.inc();
    this.deps.publish(topics.status(status.line, status.station), JSON.stringify(status), { qos: 1, retain: true });
  }

  private onAnomaly(anomaly: Anomaly): void {
    this.deps.metrics.anomalies.inc({ severity: anomaly.severity });
    this.deps.metrics.stats.anomalies++;
    this.logger.info({ id: anomaly.id, score: anomaly.score, severity: anomaly.severity, top: anomaly.contributors[0]?.sensor }, 'anomaly');
    this.deps.publish(topics.anomaly(anomaly.line, anomaly.station), JSON.stringify(anomaly), { qos: 1, retain: false });
  }
}
