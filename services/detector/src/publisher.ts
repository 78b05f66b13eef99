import { topics, type Anomaly, type DataQualityEvent, type WaferVerdict, type StationStatus } from '@linewatch/protocol';
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
 * change, and always the latest after a burst), and anomalies and data-quality events at QoS 1, not retained
 * (the retained status carries the issues still active).
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
    this.deps.bus.on('quality', ({ event }) => this.onQuality(event));
    this.deps.bus.on('wafer', ({ verdict }) => this.onWafer(verdict));
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

  private onQuality(event: DataQualityEvent): void {
    this.deps.metrics.qualityPublished.inc({ state: event.state });
    this.logger.info({ line: event.line, station: event.station, kind: event.kind, sensor: event.sensor, state: event.state, detail: event.detail }, 'data quality');
    this.deps.publish(topics.quality(event.line, event.station), JSON.stringify(event), { qos: 1, retain: false });
  }

  /** Every wafer verdict, ok ones too: the page shows each wafer's step beside the sample-wise health. */
  private onWafer(verdict: WaferVerdict): void {
    if (verdict.verdict !== 'ok') this.logger.info({ id: verdict.id, verdict: verdict.verdict, score: verdict.score, top: verdict.contributors[0]?.sensor }, 'wafer verdict');
    this.deps.publish(topics.wafer(verdict.line, verdict.station), JSON.stringify(verdict), { qos: 1, retain: false });
  }
}
