import mqtt from 'mqtt';

/** Child process: the bare-broker baseline, a QoS 1 subscriber that only counts what arrives. */
export interface SubscribeJob {
  url: string;
  clientId: string;
  filter: string;
  expect: number;
  /** Stop this long after the go signal whatever arrived. */
  maxMs: number;
  /** Also parse each payload and measure receipt − ts (the publish time): the broker's own latency. */
  latency?: boolean;
}

export interface SubscribeResult {
  received: number;
  firstAt: number;
  lastAt: number;
  latencyMs?: { p50: number; p99: number; max: number };
}

export type SubscriberMessage = { type: 'ready' } | { type: 'done'; result: SubscribeResult } | { type: 'error'; message: string };

async function run(job: SubscribeJob): Promise<SubscribeResult> {
  const client = await mqtt.connectAsync(job.url, { clientId: job.clientId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 });
  const r: SubscribeResult = { received: 0, firstAt: 0, lastAt: 0 };
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const latencies: number[] = [];
  client.on('message', (_topic, payload) => {
    const now = Date.now();
    if (job.latency) latencies.push(now - (JSON.parse(payload.toString()) as { ts: number }).ts);
    if (r.received === 0) r.firstAt = now;
    r.received++;
    r.lastAt = now;
    if (r.received >= job.expect) done();
  });
  await client.subscribeAsync(job.filter, { qos: 1 });
  process.send?.({ type: 'ready' } satisfies SubscriberMessage);
  setTimeout(done, job.maxMs).unref();
  await finished;
  await client.endAsync(true);
  if (job.latency && latencies.length > 0) {
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
    r.latencyMs = { p50: at(50), p99: at(99), max: latencies.at(-1) ?? Number.NaN };
  }
  return r;
}

if (process.send) {
  const job = JSON.parse(process.argv[2] ?? '{}') as SubscribeJob;
  run(job).then(
    (result) => process.send?.({ type: 'done', result } satisfies SubscriberMessage, () => process.exit(0)),
    (err: unknown) => process.send?.({ type: 'error', message: String((err as Error)?.stack ?? err) } satisfies SubscriberMessage, () => process.exit(1)),
  );
}
