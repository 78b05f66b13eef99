import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { SqliteStore } from '@linewatch/store';
import { createApi, loadApiConfig, type Api } from '../../services/api/src/app.js';
import { TestPublisher, anomaly, meta, state, status, uniqueLine } from '../../services/api/src/testing/fixtures.js';
import { TEST_MQTT_URL, requireServices } from '../support/services.js';
import { launchChromium } from '../support/browser.js';

const ok = await requireServices('mosquitto', 'chromium');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARD = path.join(ROOT, 'dashboard');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

/** Stations announced out of order on purpose: the page must sort by meta.order. */
const STATIONS = [
  { id: 'etch-01', order: 3, name: 'Metal etch' },
  { id: 'load-01', order: 0, name: 'Load port' },
  { id: 'cmp-01', order: 5, name: 'CMP polish' },
  { id: 'clean-01', order: 1, name: 'Wet clean' },
  { id: 'dep-01', order: 4, name: 'CVD deposition' },
  { id: 'litho-01', order: 2, name: 'Lithography' },
];
const IN_ORDER = [...STATIONS].sort((a, b) => a.order - b.order).map((s) => s.id);

describe.skipIf(!ok)('dashboard in real Chromium against the real API and Mosquitto', () => {
  const line = uniqueLine('browser');
  const logger = pino({ level: 'silent' });
  const store = new SqliteStore({ path: ':memory:' }, logger);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'lw-chromium-'));
  let pub: TestPublisher;
  let api: Api | undefined;
  let port = 0;
  let context: BrowserContext;
  let page: Page;

  const config = (p: number) => loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: String(p), MQTT_URL: TEST_MQTT_URL, LINE: line, DASHBOARD_DIR: path.join(DASHBOARD, 'dist') });
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
  const tileHealth = (id: string) => page.locator(`[data-testid="station-tile"][data-station="${id}"]`).getAttribute('data-health');

  beforeAll(async () => {
    // The root `npm test` builds first; a direct vitest run builds here so the test never runs on nothing.
    if (!existsSync(path.join(DASHBOARD, 'dist', 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: DASHBOARD, stdio: 'ignore' });
    mkdirSync(ARTIFACTS, { recursive: true });
    await store.init();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    for (const s of STATIONS) {
      await pub.publish(line, s.id, 'meta', meta(line, s.id, s.order, s.name));
      await pub.publish(line, s.id, 'state', state());
      await pub.publish(line, s.id, 'status', status(line, s.id, { score: 0.2 + s.order * 0.1 }));
    }
    api = createApi(config(0), { store, logger });
    port = (await api.start()).port;
    context = await launchChromium(profile, { width: 1280, height: 800 });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await api?.stop();
    await pub?.close();
    await store.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('shows every station as a tile in process order, all OK', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    const tiles = page.getByTestId('station-tile');
    await expect.poll(() => tiles.count(), { timeout: 5_000 }).toBe(6);
    expect(await tiles.evaluateAll((els) => els.map((e) => e.getAttribute('data-station')))).toEqual(IN_ORDER);
    expect(await tiles.evaluateAll((els) => els.map((e) => e.getAttribute('data-health')))).toEqual(Array(6).fill('OK'));
    await expect.poll(() => page.getByTestId('line-status').textContent()).toBe('RUNNING UNMANNED');
    expect(await page.getByTestId('connection-banner').isVisible()).toBe(false);
    await shot('1-all-ok');
  });

  it('turns exactly one tile to ALARM with its contributor within 5 s', async () => {
    await pub.publish(
      line,
      'etch-01',
      'status',
      status(line, 'etch-01', {
        health: 'ALARM',
        score: 3.4,
        contributors: [
          { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 },
          { sensor: 'chamber_pressure', value: 38.2, expected: 35.1, contribution: 0.2 },
        ],
      }),
    );
    const decision = anomaly(line, 'etch-01', Date.now());
    // The detector stores each decision and publishes it; a restarted API reloads recent ones from the store.
    await store.write({ readings: [], scores: [], anomalies: [decision] });
    await pub.publish(line, 'etch-01', 'anomaly', decision);
    await expect.poll(() => tileHealth('etch-01'), { timeout: 5_000 }).toBe('ALARM');
    const tile = page.locator('[data-testid="station-tile"][data-station="etch-01"]');
    expect(await tile.textContent()).toContain('ALARM');
    expect(await tile.textContent()).toContain('rf_power');
    const healths = await page.getByTestId('station-tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-health')));
    expect(healths.filter((h) => h === 'ALARM')).toHaveLength(1);
    expect(await page.getByTestId('line-status').textContent()).toBe('ALARM');
    await expect.poll(() => page.getByTestId('anomaly-row').count(), { timeout: 5_000 }).toBe(1);
    expect(await page.getByTestId('anomaly-row').first().textContent()).toContain('rf_power 1620 vs 1500');
    await shot('2-alarm');
  });

  it('shows a lost connection plainly and recovers without a reload', async () => {
    // A marker on window survives only if the page is never reloaded.
    await page.evaluate(() => Object.assign(globalThis, { lwNoReload: true }));
    await api?.stop();
    api = undefined;
    const banner = page.getByTestId('connection-banner');
    await expect.poll(() => banner.isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await banner.textContent()).toContain('Connection lost');
    expect(await page.locator('[data-testid="station-tile"].stale').count()).toBe(6);
    await shot('3-connection-lost');

    api = createApi(config(port), { store, logger });
    await api.start();
    await expect.poll(() => banner.isVisible(), { timeout: 10_000 }).toBe(false);
    await expect.poll(() => page.getByTestId('station-tile').count()).toBe(6);
    expect(await tileHealth('etch-01')).toBe('ALARM');
    await expect.poll(() => page.getByTestId('anomaly-row').count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as { lwNoReload?: boolean }).lwNoReload)).toBe(true);
    await page.setViewportSize({ width: 1024, height: 768 });
    await shot('4-reconnected-1024');
  });
});
