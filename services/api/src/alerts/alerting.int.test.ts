import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@linewatch/store';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MQTT_URL, requireServices } from '../../../../test/support/services.js';
import { until } from '../../../../test/support/until.js';
import { createApi, loadApiConfig, type Api } from '../app.js';
import { TestPublisher, anomaly, meta, state, status, uniqueLine } from '../testing/fixtures.js';

const ok = await requireServices('mosquitto');
const TOKEN = 'alerting-test-token-0123456789';
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that keeps every request it gets. */
async function receiver(): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, got, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe.skipIf(!ok)('alerting through the API: detector verdicts to signed webhooks, durable across a restart', () => {
  const line = uniqueLine('alerts');
  const station = 'etch-01';
  const dir = mkdtempSync(join(tmpdir(), 'lw-alerting-'));
  const dbPath = join(dir, 'alerts.sqlite');
  let pub: TestPublisher;
  let store: SqliteStore;
  let api: Api;
  let url: string;
  let hook: Awaited<ReturnType<typeof receiver>>;
  const logs: string[] = [];

  const start = async (): Promise<void> => {
    const config = loadApiConfig({
      PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, DASHBOARD_DIR: '/nonexistent', API_TOKEN: TOKEN, ALERTS_DB_PATH: dbPath,
      ALERT_FOR_MS: '300', ALERT_CLEAR_HOLD_MS: '500',
    });
    api = createApi(config, { store, logger: pino({ level: 'debug' }, { write: (l: string) => void logs.push(l) }) });
    ({ url } = await api.start());
  };
  const call = async (path: string, init: RequestInit & { token?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    if (init.body) headers.set('content-type', 'application/json');
    const res = await fetch(`${url}${path}`, { ...init, headers });
    const text = await res.text();
    return { status: res.status, text, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const kinds = () => hook.got.map((r) => (JSON.parse(r.body) as { linewatch?: { notification?: string }; alerts: { kind?: string }[] }).alerts[0]?.kind);

  beforeAll(async () => {
    hook = await receiver();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    store = new SqliteStore({ path: ':memory:', retentionMs: 86_400_000 }, pino({ level: 'silent' }));
    await store.init();
    await start();
    await pub.publish(line, station, 'meta', meta(line, station, 0));
    await pub.publish(line, station, 'state', state());
  }, 30_000);

  afterAll(async () => {
    await api?.stop();
    await pub?.close();
    await store?.close();
    await hook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses subscription changes without the token and never shows a secret', async () => {
    const body = JSON.stringify({ url: hook.url, secret: SECRET });
    expect((await call('/api/webhooks', { method: 'POST', body })).status).toBe(401);
    expect((await call('/api/webhooks', { method: 'POST', body, token: 'wrong-token-0123456789' })).status).toBe(403);
    const bad = await call('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: 'ftp://x', secret: SECRET }), token: TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain(SECRET.slice(6));
    // A secret that is almost right, and a custom header: neither value may come back, not even in an error.
    const almost = `${SECRET.slice(0, 20)}!!`;
    const refused = await call('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: hook.url, secret: almost }), token: TOKEN });
    expect(refused.status).toBe(400);
    expect(refused.text).not.toContain(almost.slice(6));
    const created = await call('/api/webhooks', { method: 'POST', body: JSON.stringify({ url: hook.url, secret: SECRET, header: { name: 'x-api-key', value: 'header-s3cret-value' } }), token: TOKEN });
    expect(created.status).toBe(201);
    const listed = await call('/api/webhooks');
    const { id } = created.json as { id: string };
    const patched = await call(`/api/webhooks/${id}`, { method: 'PATCH', body: JSON.stringify({ header: { name: 'x-api-key', value: 'other-s3cret-value' } }), token: TOKEN });
    expect(patched.status).toBe(200);
    for (const text of [created.text, listed.text, patched.text]) {
      expect(text).not.toContain(SECRET.slice(6));
      expect(text).not.toMatch(/s3cret-value/);
    }
  });

  it('fires once, signed, after the for-duration; an acknowledged alert re-fires when it escalates; resolves once', async () => {
    const t0 = Date.now();
    await pub.publish(line, station, 'anomaly', anomaly(line, station, t0, { severity: 'warning', score: 1.4 }));
    await pub.publish(line, station, 'status', status(line, station, { health: 'ALARM', since: t0, ts: t0, score: 1.4 }));
    await until('firing webhook', () => (hook.got.length >= 1 ? hook.got : undefined), { timeoutMs: 10_000 });
    const first = hook.got[0] as Received;
    // Verified by an independent implementation of Standard Webhooks.
    const verified = new Webhook(SECRET).verify(first.body, {
      'webhook-id': String(first.headers['webhook-id']), 'webhook-timestamp': String(first.headers['webhook-timestamp']),
      'webhook-signature': String(first.headers['webhook-signature']),
    }) as { status: string; alerts: { labels: Record<string, string>; fingerprint: string; contributors: unknown[] }[] };
    expect(verified.status).toBe('firing');
    expect(verified.alerts[0]?.labels).toMatchObject({ line, station, severity: 'warning' });
    expect(verified.alerts[0]?.contributors).toHaveLength(2);

    const firing = (await call('/api/alerts?state=firing')).json as { id: string }[];
    expect(firing).toHaveLength(1);
    const id = (firing[0] as { id: string }).id;
    expect((await call(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', body: JSON.stringify({ by: 'ana' }) })).status).toBe(401);
    const acked = await call(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', body: JSON.stringify({ by: 'ana', comment: 'looking' }), token: TOKEN });
    expect(acked.json).toMatchObject({ state: 'acknowledged', ack: { by: 'ana', comment: 'looking' } });

    await pub.publish(line, station, 'anomaly', anomaly(line, station, t0 + 1, { severity: 'critical', score: 3.1 }));
    await until('escalated webhook', () => (hook.got.length >= 2 ? true : undefined), { timeoutMs: 10_000 });
    await pub.publish(line, station, 'status', status(line, station, { health: 'OK', since: Date.now(), ts: Date.now(), score: 0.2 }));
    await until('resolved webhook', () => (hook.got.length >= 3 ? true : undefined), { timeoutMs: 10_000 });
    expect(kinds()).toEqual(['firing', 'escalated', 'resolved']);
    const { alert, history } = (await call(`/api/alerts/${encodeURIComponent(id)}`)).json as { alert: { state: string }; history: { to: string }[] };
    expect(alert.state).toBe('resolved');
    expect(history.map((h) => h.to)).toEqual(expect.arrayContaining(['pending', 'firing', 'acknowledged', 'resolved']));
    expect(new Set(hook.got.map((r) => r.headers['webhook-id'])).size).toBe(3);
    // The history reaches the system of record as events, and the outbox shows on /metrics.
    const events = await until('alert events in the store', async () => {
      const got = await store.alertEvents({ line, from: 0, to: Date.now() + 1 });
      return got.some((e) => e.to === 'resolved') ? got : undefined;
    }, { timeoutMs: 10_000 });
    expect(events.map((e) => e.to)).toEqual(expect.arrayContaining(['pending', 'firing', 'acknowledged', 'resolved']));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/linewatch_webhook_outbox\{status="delivered"\} 3/);
    expect(metrics).toMatch(/linewatch_webhook_attempts_total\{outcome="delivered"\} 3/);
  });

  it('after a restart, an alert that cleared while the API was down resolves with exactly one notification', async () => {
    const t1 = Date.now();
    await pub.publish(line, station, 'anomaly', anomaly(line, station, t1, { severity: 'warning' }));
    await pub.publish(line, station, 'status', status(line, station, { health: 'ALARM', since: t1, ts: t1 }));
    await until('second firing', () => (hook.got.length >= 4 ? true : undefined), { timeoutMs: 10_000 });
    await api.stop();
    // The station recovers while the API is down; the retained status says so when it comes back.
    await pub.publish(line, station, 'status', status(line, station, { health: 'OK', since: Date.now(), ts: Date.now() }));
    await start();
    await until('resolved after the restart', () => (hook.got.length >= 5 ? true : undefined), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(kinds()).toEqual(['firing', 'escalated', 'resolved', 'firing', 'resolved']);
    expect((await call('/api/alerts?state=firing,acknowledged,pending')).json).toEqual([]);
    expect(logs.join('\n')).not.toContain(SECRET.slice(6));
    expect(logs.join('\n')).not.toContain(TOKEN);
    expect(logs.join('\n')).not.toMatch(/s3cret-value/);
  });
});
