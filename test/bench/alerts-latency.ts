import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { topics } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import mqtt from 'mqtt';
import pino from 'pino';
import { createApi, loadApiConfig } from '../../services/api/src/app.js';
import { BenchChild } from './alerts-ipc.js';
import { alarmStatus, anomalyEvent, benchStation, okStatus } from './alerts-messages.js';
import type { ReceiversIn, ReceiversJob, ReceiversOut } from './alerts-receivers.js';
import { sleep } from './children.js';
import { percentile, round } from './stats.js';

/**
 * Decision → webhook: the real API (createApi: broker link, alerting, SQLite file, dispatcher) with one subscription
 * made over REST, fed by MQTT the way the detector feeds it: per episode an anomaly event and an ALARM status on a
 * station of its own (so no key flaps), and the OK status that resolves it a few episodes later.
 */
export interface LatencyParams {
  mqttUrl: string;
  line: string;
  /** Episodes measured, after `warmUp` episodes that are not (first connection, cold code paths). */
  episodes: number;
  warmUp: number;
  /** Episodes per second. */
  rate: number;
  /** The OK of an episode goes out with the ALARM of the episode this many later. */
  resolveLag: number;
  /** After the last publish, wait at most this long for the webhooks. */
  settleMs: number;
  /** Ctrl-C: stop publishing, clean up, and fail the phase. */
  signal: AbortSignal;
}

export interface Quantiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  episodes: number;
  /** ALARM status published → firing webhook received (the measure). */
  decisionToWebhookMs: Quantiles;
  /** The two halves: status published → the API decided (firingAt, broker hop included), then → received. */
  publishToFiringMs: Quantiles;
  firingToWebhookMs: Quantiles;
  firingReceived: number;
  resolvedReceived: number;
  duplicates: number;
  /** Firing webhooks of measured episodes that never arrived. */
  missing: number;
  sentRatePerS: number;
}

const TOKEN = 'bench-alerts-token-0123456789';
const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;

export function quantiles(values: number[]): Quantiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

export async function runLatency(p: LatencyParams): Promise<LatencyResult> {
  const total = p.warmUp + p.episodes;
  const dir = mkdtempSync(path.join(tmpdir(), 'lw-bench-alerts-'));
  const receivers = new BenchChild<ReceiversIn, ReceiversOut>('alerts-receivers.ts', { receivers: 1 } satisfies ReceiversJob);
  const store = new SqliteStore({ path: ':memory:', retentionMs: 86_400_000 }, pino({ level: 'silent' }));
  const client = await mqtt.connectAsync(p.mqttUrl, { clientId: `${p.line}-pub`, clean: true, reconnectPeriod: 0, connectTimeout: 5000 });
  const api = createApi(
    loadApiConfig({
      PORT: '0', HOST: '127.0.0.1', MQTT_URL: p.mqttUrl, LINE: p.line, DASHBOARD_DIR: '/nonexistent', API_TOKEN: TOKEN,
      ALERTS_DB_PATH: path.join(dir, 'alerts.sqlite'), ALERT_FOR_MS: '0', ALERT_CLEAR_HOLD_MS: '0',
    }),
    { store, logger: pino({ level: 'warn' }, pino.destination(2)) },
  );
  const published = new Set<string>();
  try {
    const { urls } = await receivers.next('ready', 30_000);
    await store.init();
    const { url } = await api.start();
    const created = await fetch(`${url}/api/webhooks`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: urls[0], secret: SECRET }),
    });
    if (created.status !== 201) throw new Error(`subscription not created: HTTP ${created.status} ${await created.text()}`);
    receivers.send({ type: 'expect', unique: 2 * total });

    const statusAt = new Map<string, number>();
    const acks: Promise<unknown>[] = [];
    const publish = (kind: 'anomaly' | 'status', station: string, payload: unknown): void => {
      const topic = topics[kind](p.line, station);
      // The detector retains statuses, not anomaly events.
      if (kind === 'status') published.add(topic);
      acks.push(client.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain: kind === 'status' }));
    };
    const start = Date.now();
    for (let i = 0; i < total + p.resolveLag; i++) {
      p.signal.throwIfAborted();
      const wait = start + (i * 1000) / p.rate - Date.now();
      if (wait > 0) await sleep(wait);
      if (i < total) {
        const station = benchStation(i);
        const now = Date.now();
        publish('anomaly', station, anomalyEvent(p.line, station, now));
        statusAt.set(station, now);
        publish('status', station, alarmStatus(p.line, station, now));
      }
      if (i >= p.resolveLag) {
        const station = benchStation(i - p.resolveLag);
        publish('status', station, okStatus(p.line, station, Date.now()));
      }
    }
    const sentRatePerS = total / ((Date.now() - start) / 1000);
    await Promise.all(acks);
    await receivers.next('complete', p.settleMs).catch((err: unknown) => console.error(`  not every webhook arrived: ${(err as Error).message}`));
    receivers.send({ type: 'collect' });
    const { arrivals } = await receivers.next('arrivals', 30_000);

    const seen = new Set<string>();
    const decision: number[] = [];
    const toFiring: number[] = [];
    const fromFiring: number[] = [];
    let firingReceived = 0;
    let resolvedReceived = 0;
    let duplicates = 0;
    const measured = new Set(Array.from({ length: p.episodes }, (_, k) => benchStation(p.warmUp + k)));
    for (let k = 0; k < arrivals.id.length; k++) {
      const id = arrivals.id[k] as string;
      if (seen.has(id)) {
        duplicates++;
        continue;
      }
      seen.add(id);
      const kind = arrivals.kind[k];
      if (kind === 'resolved') resolvedReceived++;
      if (kind !== 'firing') continue;
      firingReceived++;
      const station = arrivals.station[k] as string;
      const sent = statusAt.get(station);
      if (sent === undefined || !measured.has(station)) continue;
      measured.delete(station);
      const at = arrivals.at[k] as number;
      const firingAt = arrivals.firingAt[k] as number;
      decision.push(at - sent);
      toFiring.push(firingAt - sent);
      fromFiring.push(at - firingAt);
    }
    return {
      episodes: p.episodes,
      decisionToWebhookMs: quantiles(decision),
      publishToFiringMs: quantiles(toFiring),
      firingToWebhookMs: quantiles(fromFiring),
      firingReceived, resolvedReceived, duplicates, missing: measured.size,
      sentRatePerS: round(sentRatePerS, 1),
    };
  } finally {
    // An empty retained payload deletes the retained status, so the broker does not keep the bench's stations.
    for (const topic of published) await client.publishAsync(topic, '', { qos: 1, retain: true }).catch(() => undefined);
    await client.endAsync().catch(() => undefined);
    await api.stop().catch((err: unknown) => console.error('api stop failed', err));
    await store.close().catch(() => undefined);
    await receivers.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
