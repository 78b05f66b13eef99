import type { LineDef } from '@linewatch/simulators';
import type { MqttClient } from 'mqtt';
import { snapshotTemplates, type SnapshotTemplate } from '../bench/snapshots.js';

/**
 * The soak's load: the real simulator's snapshots (bench/snapshots.ts), paced by the same schedule-based token
 * bucket as bench/publisher.ts, at QoS 1. It runs in the soak's own process rather than as publisher.ts, because
 * publisher.ts reports once at its end and a soak needs its counts every interval and per station at the end.
 */
export class LoadGenerator {
  published = 0;
  acked = 0;
  errors = 0;
  /** Snapshots whose ts was moved 1 ms past wall clock to stay unique per station (the store keys on it). */
  tsBumped = 0;
  /** Snapshots sent per station: what InfluxDB must hold at the end. */
  readonly sentByStation = new Map<string, number>();
  private readonly templates: SnapshotTemplate[];
  private readonly lastTs = new Map<string, number>();
  private inflight = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private stopped = false;

  constructor(
    private readonly client: MqttClient,
    line: LineDef,
    private readonly rate: number,
    /** Most unacknowledged publishes; beyond it the generator waits (and falls behind, which the table shows). */
    private readonly window = 1000,
  ) {
    // 1000 ticks of every station: 20 s of distinct data at 50 Hz, then it repeats.
    this.templates = snapshotTemplates(line, line.stations.length * 1000);
  }

  start(): void {
    this.startedAt = Date.now();
    this.pump();
  }

  /** Stops publishing and waits (at most `timeoutMs`) for the broker to ack what is in flight. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private readonly onAck = (err?: Error): void => {
    this.inflight--;
    if (err) this.errors++;
    else this.acked++;
  };

  private pump(): void {
    if (this.stopped) return;
    const allowed = Math.floor(((Date.now() - this.startedAt) * this.rate) / 1000) + 1;
    while (this.published < allowed && this.inflight < this.window) {
      const t = this.templates[this.published % this.templates.length]!;
      const seq = this.sentByStation.get(t.station) ?? 0;
      this.sentByStation.set(t.station, seq + 1);
      const prev = this.lastTs.get(t.station) ?? 0;
      const wall = Date.now();
      const ts = wall > prev ? wall : prev + 1;
      if (ts !== wall) this.tsBumped++;
      this.lastTs.set(t.station, ts);
      this.inflight++;
      this.published++;
      this.client.publish(t.topic, `{"ts":${ts},"seq":${seq}${t.rest}`, { qos: 1 }, this.onAck);
    }
    // Sleep between slices so the generator does not spin on a core the detector needs; a late timer catches up.
    this.timer = setTimeout(() => this.pump(), 1);
  }
}
