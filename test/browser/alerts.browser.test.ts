/**
 * The alert panel in real Chromium, against the real API (alerting on an in-memory SQLite database) on real
 * Mosquitto, with a webhook receiver on 127.0.0.1 subscribed over REST: alerts appear with their contributors, are
 * acknowledged from the page with a comment, resolve, and the webhook delivery status follows every step.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@linewatch/store';
import { createApi, loadApiConfig, type Api } from '../../services/api/src/app.js';
import { TestPublisher, anomaly, meta, state, status, uniqueLine } from '../../services/api/src/testing/fixtures.js';
import { launchChromium } from '../support/browser.js';
import { TEST_MQTT_URL, requireServices } from '../support/services.js';

const ok = await requireServices('mosquitto', 'chromium');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARD = path.join(ROOT, 'dashboard');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
const TOKEN = `browser-alerts-token-${Math.random().toString(36).slice(2)}`;
const SECRET = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;
const STATIONS = [
  { id: 'etch-01', name: 'Metal etch', order: 0 },
  { id: 'dep-01', name: 'CVD deposition', order: 1 },
  { id: 'cmp-01', name: 'CMP polish', order: 2 },
];

/** Builds the dashboard when dist/ is missing or older than the alert panel this test drives. */
function ensureBuilt(): void {
  const index = path.join(DASHBOARD, 'dist', 'index.html');
  if (existsSync(index) && readFileSync(index, 'utf8').includes('alert-panel')) return;
  execFileSync('npx', ['vite', 'build'], { cwd: DASHBOARD, stdio: 'ignore' });
}

/** A receiver that checks every signature with an independent Standard Webhooks implementation. */
async function receiver(): Promise<{ url: string; got: { id: string; kind: string; station: string }[]; close: () => Promise<void> }> {
  const got: { id: string; kind: string; station: string }[] = [];
  const verifier = new Webhook(SECRET);
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const h = (name: string) => String(req.headers[name]);
      const payload = verifier.verify(body, { 'webhook-id': h('webhook-id'), 'webhook-timestamp': h('webhook-timestamp'), 'webhook-signature': h('webhook-signature') }) as {
        alerts: { kind: string; labels: { station: string } }[];
      };
      got.push({ id: h('webhook-id'), kind: payload.alerts[0]?.kind ?? '', station: payload.alerts[0]?.labels.station ?? '' });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/linewatch?key=not-for-the-page`, got, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe.skipIf(!ok)('the alert panel in Chromium against the real API, Mosquitto and a webhook receiver', () => {
  const line = uniqueLine('alertpage');
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const store = new SqliteStore({ path: ':memory:' }, logger);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'lw-alerts-chromium-'));
  let pub: TestPublisher;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let api: Api;
  let url = '';
  let context: BrowserContext;
  let page: Page;

  const row = (station: string, p: Page = page) => p.locator(`[data-testid="alert-row"][data-alert-id^="${line}/${station}/"]`);
  const deliveryText = () => page.getByTestId('delivery-summary').textContent();
  const alertOf = async (station: string) => {
    const res = await fetch(`${url}/api/alerts?station=${station}&limit=1`);
    return ((await res.json()) as { id: string; state: string; ack: { by: string; comment: string } | null }[])[0];
  };

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    await store.init();
    hook = await receiver();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    for (const s of STATIONS) {
      await pub.publish(line, s.id, 'meta', meta(line, s.id, s.order, s.name));
      await pub.publish(line, s.id, 'state', state());
      await pub.publish(line, s.id, 'status', status(line, s.id));
    }
    const config = loadApiConfig({
      PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, DASHBOARD_DIR: path.join(DASHBOARD, 'dist'), API_TOKEN: TOKEN,
      ALERTS_DB_PATH: ':memory:', ALERT_FOR_MS: '0', ALERT_CLEAR_HOLD_MS: '300', MQTT_CLIENT_ID: `lw-alerts-browser-${process.pid}`,
    });
    api = createApi(config, { store, logger });
    ({ url } = await api.start());
    const created = await fetch(`${url}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook.url, secret: SECRET }),
    });
    expect(created.status).toBe(201);
    context = await launchChromium(profile, { width: 1600, height: 1000 });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await api?.stop();
    await pub?.close();
    await store.close();
    await hook?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('shows each alert as it fires: station, severity, contributors, model; data quality and replay marked', async () => {
    await page.goto(`${url}/#token=${TOKEN}`);
    await expect.poll(() => page.getByTestId('delivery-summary').textContent(), { timeout: 10_000 }).toBe('webhooks: 0 delivered · 0 pending · 0 dead');
    expect(await page.getByTestId('alert-row').count()).toBe(0);

    const t0 = Date.now();
    await pub.publish(line, 'etch-01', 'anomaly', anomaly(line, 'etch-01', t0, { severity: 'critical' }));
    await pub.publish(line, 'etch-01', 'status', status(line, 'etch-01', { health: 'ALARM', since: t0, ts: t0, score: 3.2 }));
    await pub.publish(line, 'dep-01', 'status', status(line, 'dep-01', { health: 'DATA_QUALITY', since: t0, ts: t0, score: null }));
    // Replayed data into the live line (a CLI replay): its alert shows, marked, and reaches no production receiver.
    await pub.publish(line, 'cmp-01', 'status', status(line, 'cmp-01', { health: 'ALARM', since: t0, ts: t0, replay: true }));

    await expect.poll(() => row('etch-01').getAttribute('data-state'), { timeout: 10_000 }).toBe('firing');
    const etch = await row('etch-01').innerText();
    expect(etch).toContain('Metal etch');
    expect(etch).toContain('CRITICAL');
    expect(etch).toContain('rf_power 1620 vs 1500');
    expect(etch).toContain('chamber_pressure 38.2 vs 35.1');
    expect(etch).toContain('model test@1');
    expect(etch).toMatch(/since \d+ s/);
    expect(await row('etch-01').getAttribute('data-class')).toBe('process');

    await expect.poll(() => row('dep-01').getAttribute('data-state'), { timeout: 10_000 }).toBe('firing');
    expect(await row('dep-01').getAttribute('data-class')).toBe('data_quality');
    expect(await row('dep-01').locator('[data-tag="dq"]').isVisible()).toBe(true);
    // A data-quality alert looks different from a process alert, not just in words.
    // The page runs in the browser; this file is type-checked without the DOM library.
    type StyleGlobals = { getComputedStyle(e: unknown): { borderLeftStyle: string } };
    const borders = await page.locator('[data-testid="alert-row"]').evaluateAll((els) =>
      Object.fromEntries(els.map((e) => [e.getAttribute('data-class') ?? '', (globalThis as unknown as StyleGlobals).getComputedStyle(e).borderLeftStyle])),
    );
    expect(borders).toMatchObject({ process: 'solid', data_quality: 'dashed' });

    await expect.poll(() => row('cmp-01').getAttribute('data-replay'), { timeout: 10_000 }).toBe('true');
    expect(await row('cmp-01').locator('[data-tag="replay"]').innerText()).toBe('REPLAY');

    // Two firing notifications; the replayed alert stays away from this receiver.
    await expect.poll(deliveryText, { timeout: 10_000 }).toBe('webhooks: 2 delivered · 0 pending · 0 dead');
    expect(hook.got.map((g) => `${g.kind}:${g.station}`).sort()).toEqual(['firing:dep-01', 'firing:etch-01']);
    expect(await page.getByTestId('alert-tab-active').textContent()).toBe('Active 3');
    const details = await page.getByTestId('delivery-details').textContent();
    expect(details).toMatch(/http:\/\/127\.0\.0\.1:\d+ — 0 pending · 0 dead · last delivered \(204\)/);
    // Only the receiver's origin: its path and query may hold a key.
    expect(details).not.toContain('not-for-the-page');

    // The header counts what needs a person, and the line is not unmanned while anything fires.
    expect(await page.getByTestId('open-alerts').textContent()).toBe('2 · 2 unacked');
    expect(await page.getByTestId('unattended').textContent()).toBe('needed now');

    // An alert opens its station at the alert's time: a range around its start, in the URL for a link.
    await row('etch-01').getByTestId('alert-open-station').click();
    await expect.poll(() => page.getByTestId('station-view').getAttribute('data-station')).toBe('etch-01');
    expect(await page.getByTestId('range-custom').getAttribute('aria-pressed')).toBe('true');
    const fragment = new URLSearchParams(new URL(page.url()).hash.slice(1));
    expect(Number(fragment.get('from'))).toBeLessThan(t0);
    expect(Number(fragment.get('to'))).toBeGreaterThan(t0);
    await page.getByTestId('station-view-close').click();
  }, 30_000);

  it('says plainly when the token is wrong, and asks for the right one', async () => {
    const other = await context.newPage();
    try {
      await other.goto(`${url}/#token=not-the-token-at-all`);
      await expect.poll(() => row('etch-01', other).getAttribute('data-state'), { timeout: 10_000 }).toBe('firing');
      await row('etch-01', other).getByTestId('alert-ack').click();
      await other.getByTestId('alert-ack-by').fill('mallory');
      await other.getByTestId('alert-ack-submit').click();
      await expect.poll(() => other.getByTestId('alert-message').textContent(), { timeout: 5_000 }).toContain('Not allowed (403)');
      expect(await other.getByTestId('replay-token-form').isVisible()).toBe(true);
      expect((await alertOf('etch-01'))?.state).toBe('firing');
    } finally {
      await other.close();
    }
  });

  it('acknowledges from the page with a comment; the alert moves to Acknowledged, also after a reload', async () => {
    await row('etch-01').getByTestId('alert-ack').click();
    await expect.poll(() => page.getByTestId('alert-ack-form').isVisible()).toBe(true);
    await page.getByTestId('alert-ack-by').fill('ana');
    await page.getByTestId('alert-ack-comment').fill('swapping the RF match, back in 20 min');
    await page.getByTestId('delivery-status').locator('summary').click();
    await page.getByTestId('alert-panel').screenshot({ path: path.join(ARTIFACTS, 'alert-panel.png') });
    await page.getByTestId('alert-ack-submit').click();

    await expect.poll(() => row('etch-01').count(), { timeout: 5_000 }).toBe(0);
    expect(await page.getByTestId('alert-message').textContent()).toBe('Acknowledged by ana.');
    expect(await page.getByTestId('alert-tab-acknowledged').textContent()).toBe('Acknowledged 1');
    await page.getByTestId('alert-tab-acknowledged').click();
    await expect.poll(() => row('etch-01').getAttribute('data-state')).toBe('acknowledged');
    expect(await row('etch-01').innerText()).toMatch(/ack by ana \d+ s ago: “swapping the RF match, back in 20 min”/);
    expect(await row('etch-01').getByTestId('alert-ack').isVisible()).toBe(false);
    expect(await alertOf('etch-01')).toMatchObject({ state: 'acknowledged', ack: { by: 'ana', comment: 'swapping the RF match, back in 20 min' } });
    type PageGlobals = { localStorage: { getItem(key: string): string | null } };
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem('linewatch.ackBy'))).toBe('ana');
    await page.screenshot({ path: path.join(ARTIFACTS, 'alert-panel-acknowledged.png'), fullPage: true });

    // A page that (re)connects starts from the snapshot's alerts, not from nothing.
    await page.reload();
    await page.getByTestId('alert-tab-acknowledged').click();
    await expect.poll(() => row('etch-01').getAttribute('data-state'), { timeout: 10_000 }).toBe('acknowledged');
    expect(await page.getByTestId('alert-tab-active').textContent()).toBe('Active 2');
    // The reload's snapshot brings the delivery status too; acknowledging notifies nobody.
    await expect.poll(deliveryText, { timeout: 5_000 }).toBe('webhooks: 2 delivered · 0 pending · 0 dead');
  }, 30_000);

  it('resolves when the stations recover, with one delivered notification each', async () => {
    const now = Date.now();
    await pub.publish(line, 'etch-01', 'status', status(line, 'etch-01', { since: now, ts: now, score: 0.2 }));
    await pub.publish(line, 'dep-01', 'status', status(line, 'dep-01', { since: now, ts: now, score: 0.2 }));
    await page.getByTestId('alert-tab-resolved').click();
    await expect.poll(() => row('etch-01').getAttribute('data-state'), { timeout: 10_000 }).toBe('resolved');
    await expect.poll(() => row('dep-01').getAttribute('data-state'), { timeout: 10_000 }).toBe('resolved');
    expect(await row('etch-01').innerText()).toMatch(/resolved \d+ s ago · lasted \d+ s/);
    // The acknowledgement stays on the record of the episode.
    expect(await row('etch-01').innerText()).toContain('ack by ana');
    await expect.poll(deliveryText, { timeout: 10_000 }).toBe('webhooks: 4 delivered · 0 pending · 0 dead');
    expect(await page.getByTestId('delivery-status').getAttribute('data-kind')).toBe('ok');
    expect(hook.got.map((g) => `${g.kind}:${g.station}`).sort()).toEqual(['firing:dep-01', 'firing:etch-01', 'resolved:dep-01', 'resolved:etch-01']);
    expect(new Set(hook.got.map((g) => g.id)).size).toBe(4);
    expect(await page.getByTestId('alert-tab-active').textContent()).toBe('Active 1');
    await page.screenshot({ path: path.join(ARTIFACTS, 'alert-panel-resolved.png'), fullPage: true });
  }, 30_000);
});
