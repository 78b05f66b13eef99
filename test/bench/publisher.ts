import mqtt from 'mqtt';
import { benchLine, snapshotTemplates } from './snapshots.js';

/** Child process: publishes simulated snapshots at QoS 1, paced or as fast as the in-flight window allows. */
export interface PublishJob {
  url: string;
  clientId: string;
  line: string;
  copies: number;
  /** Snapshots per second, or 'max'. */
  rate: number | 'max';
  count: number;
  maxMs: number;
  /** Most unacknowledged QoS 1 publishes. */
  window: number;
  /** First seq of every station; a later phase on the same line continues the counters. */
  seqStart: number;
}

export interface PublishResult {
  published: number;
  acked: number;
  errors: number;
  firstPublishAt: number;
  lastPublishAt: number;
  lastAckAt: number;
  /** Snapshots whose ts was moved 1 ms past wall clock to stay unique per station. */
  tsBumped: number;
  timedOut: boolean;
  nextSeq: number;
}

export type PublisherMessage = { type: 'ready' } | { type: 'done'; result: PublishResult } | { type: 'error'; message: string };

async function run(job: PublishJob): Promise<PublishResult> {
  const templates = snapshotTemplates(benchLine(job.line, job.copies), Math.min(job.count, 20_000));
  const seq = new Map<string, number>();
  const lastTs = new Map<string, number>();
  const client = await mqtt.connectAsync(job.url, { clientId: job.clientId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 });
  process.send?.({ type: 'ready' } satisfies PublisherMessage);
  await new Promise<void>((resolve) => process.once('message', () => resolve()));

  const r: PublishResult = { published: 0, acked: 0, errors: 0, firstPublishAt: 0, lastPublishAt: 0, lastAckAt: 0, tsBumped: 0, timedOut: false, nextSeq: 0 };
  const start = Date.now();
  r.firstPublishAt = start;
  let inflight = 0;
  await new Promise<void>((resolve) => {
    const finish = (): void => {
      if (inflight === 0 && (r.published >= job.count || r.timedOut)) resolve();
    };
    const onAck = (err?: Error): void => {
      inflight--;
      if (err) r.errors++;
      else r.acked++;
      r.lastAckAt = Date.now();
      finish();
      if (job.rate === 'max') pump();
    };
    let scheduled = false;
    const pump = (): void => {
      const now = Date.now();
      if (now - start > job.maxMs) r.timedOut = true;
      // Schedule-based token bucket: how many snapshots should be out by now; a late timer catches up.
      const allowed = job.rate === 'max' ? job.count : Math.min(job.count, Math.floor(((now - start) * job.rate) / 1000) + 1);
      while (!r.timedOut && r.published < allowed && inflight < job.window) {
        const t = templates[r.published % templates.length]!;
        const s = seq.get(t.station) ?? job.seqStart;
        seq.set(t.station, s + 1);
        const prev = lastTs.get(t.station) ?? 0;
        const wall = Date.now();
        const ts = wall > prev ? wall : prev + 1;
        if (ts !== wall) r.tsBumped++;
        lastTs.set(t.station, ts);
        inflight++;
        r.published++;
        client.publish(t.topic, `{"ts":${ts},"seq":${s}${t.rest}`, { qos: 1 }, onAck);
      }
      r.lastPublishAt = Date.now();
      finish();
      if (r.published < job.count && !r.timedOut && !scheduled && (job.rate !== 'max' || inflight < job.window)) {
        scheduled = true;
        // Paced mode sleeps between slices so the publisher does not spin on a CPU the detector needs.
        const again = (): void => {
          scheduled = false;
          pump();
        };
        if (job.rate === 'max') setImmediate(again);
        else setTimeout(again, 1);
      }
    };
    // Guard against a broker that stops acking: the run ends anyway, and the missing acks show in the result.
    setTimeout(() => {
      r.timedOut = true;
      resolve();
    }, job.maxMs + 30_000).unref();
    pump();
  });
  r.nextSeq = Math.max(job.seqStart, ...seq.values());
  await client.endAsync(inflight > 0);
  return r;
}

if (process.send) {
  const job = JSON.parse(process.argv[2] ?? '{}') as PublishJob;
  run(job).then(
    (result) => {
      process.send?.({ type: 'done', result } satisfies PublisherMessage, () => process.exit(0));
    },
    (err: unknown) => {
      process.send?.({ type: 'error', message: String((err as Error)?.stack ?? err) } satisfies PublisherMessage, () => process.exit(1));
    },
  );
}
