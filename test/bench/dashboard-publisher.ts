import { topics } from '@linewatch/protocol';
import mqtt from 'mqtt';
import { stationIds, telemetryPool } from './dashboard-load.js';

/**
 * Child process of `bench:dashboard` (run with children.ts' forkWorker): the line's tools. Publishes every
 * station's telemetry at `hz`, spread evenly over time in station order, at QoS 1. The first message from the
 * parent starts it, the second stops it; `maxMs` stops it whatever happens.
 */
export interface DashboardPublishJob {
  url: string;
  clientId: string;
  line: string;
  stations: number;
  sensors: number;
  hz: number;
  maxMs: number;
  /** Most unacknowledged publishes; beyond it the publisher falls behind its schedule (and says so). */
  window: number;
}

export interface DashboardPublishResult {
  published: number;
  acked: number;
  errors: number;
  startedAt: number;
  stoppedAt: number;
  /** Snapshots published in each second from the start. */
  perSecond: number[];
  /** Snapshots the schedule wanted out by the stop that were never sent (a full window or a slow loop). */
  behind: number;
  timedOut: boolean;
}

const TICK_MS = 5;

async function run(job: DashboardPublishJob): Promise<DashboardPublishResult> {
  const pool = telemetryPool(job.sensors);
  const telemetryTopics = stationIds(job.stations).map((s) => topics.telemetry(job.line, s));
  const client = await mqtt.connectAsync(job.url, { clientId: job.clientId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 });
  const messages: unknown[] = [];
  process.on('message', (m) => messages.push(m));
  process.send?.({ type: 'ready' });
  const deadline = Date.now() + 60_000;
  while (messages.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));

  const rate = job.stations * job.hz;
  const r: DashboardPublishResult = { published: 0, acked: 0, errors: 0, startedAt: Date.now(), stoppedAt: 0, perSecond: [], behind: 0, timedOut: false };
  let inflight = 0;
  const onAck = (err?: Error): void => {
    inflight--;
    if (err) r.errors++;
    else r.acked++;
  };
  // Schedule-based: how many snapshots should be out by now; a late timer catches up, a full window does not.
  let wanted = 0;
  while (messages.length < 2) {
    const now = Date.now();
    if (now - r.startedAt > job.maxMs) {
      r.timedOut = true;
      break;
    }
    wanted = Math.floor(((now - r.startedAt) * rate) / 1000) + 1;
    while (r.published < wanted && inflight < job.window) {
      const n = r.published;
      const station = n % job.stations;
      const tick = Math.floor(n / job.stations);
      const rest = pool[(tick * 7 + station * 131) % pool.length] as string;
      inflight++;
      r.published++;
      const sec = Math.floor((Date.now() - r.startedAt) / 1000);
      r.perSecond[sec] = (r.perSecond[sec] ?? 0) + 1;
      client.publish(telemetryTopics[station] as string, `{"ts":${Date.now()},"seq":${tick}${rest}`, { qos: 1 }, onAck);
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  r.stoppedAt = Date.now();
  r.behind = Math.max(0, wanted - r.published);
  r.perSecond = Array.from(r.perSecond, (v) => v ?? 0);
  // Bounded wait for the last acks, so `acked` means what the broker took.
  const ackDeadline = Date.now() + 10_000;
  while (inflight > 0 && Date.now() < ackDeadline) await new Promise((resolve) => setTimeout(resolve, 10));
  await client.endAsync(inflight > 0);
  return r;
}

if (process.send) {
  const job = JSON.parse(process.argv[2] ?? '{}') as DashboardPublishJob;
  run(job).then(
    (result) => process.send?.({ type: 'done', result }, () => process.exit(0)),
    (err: unknown) => process.send?.({ type: 'error', message: String((err as Error)?.stack ?? err) }, () => process.exit(1)),
  );
}
