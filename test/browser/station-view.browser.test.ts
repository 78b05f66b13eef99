import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfluxDB } from 'influx';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxStore, type ReadingPoint, type ScorePoint } from '@linewatch/store';
import { createApi, loadApiConfig, type Api } from '../../services/api/src/app.js';
import { TestPublisher, anomaly, meta, state, status, uniqueLine } from '../../services/api/src/testing/fixtures.js';
import { launchChromium } from '../support/browser.js';
import { TEST_INFLUX_URL, TEST_MQTT_URL, requireServices } from '../support/services.js';

const ok = await requireServices('mosquitto', 'influxdb', 'chromium');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARD = path.join(ROOT, 'dashboard');
const SCREENS = path.join(ROOT, 'test', 'artifacts', 'screens');
const STATIONS = [
  { id: 'load-01', order: 0, name: 'Load port' },
  { id: 'etch-01', order: 1, name: 'Metal etch' },
  { id: 'cmp-01', order: 2, name: 'CMP polish' },
  { id: 'unload-01', order: 3, name: 'Unload port' },
];
/** The API's STALE_AFTER_MS for this test: short, so staleness shows within the test's time. */
const STALE_MS = 3_000;
const HOUR = 3_600_000;

describe.skipIf(!ok)('station view, themes, languages and kiosk in real Chromium, with history from real InfluxDB', () => {
  const line = uniqueLine('station-view');
  const logger = pino({ level: 'silent' });
  const database = `lwtest_sv_${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
  const store = new InfluxStore({ url: TEST_INFLUX_URL, database }, logger);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'lw-chromium-'));
  const t0 = Date.now();
  let pub: TestPublisher;
  let api: Api;
  let base = '';
  let context: BrowserContext;
  let page: Page;
  let beating = true;
  let heartbeat: Promise<void> = Promise.resolve();

  const charts = (p: Page) => p.getByTestId('station-charts');
  const data = async (name: string) => Number((await charts(page).getAttribute(`data-${name}`)) ?? '0');

  /** Fresh statuses for every station but `silent`, twice a second, so tiles stay live (bounded: stops in afterAll). */
  function beat(silent: Set<string>): Promise<void> {
    return (async () => {
      for (let i = 0; beating && i < 2_000; i++) {
        for (const s of STATIONS) if (!silent.has(s.id)) await pub.publish(line, s.id, 'status', status(line, s.id, { score: 0.3 + 0.1 * Math.sin(i / 3) }));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
  }

  beforeAll(async () => {
    if (!existsSync(path.join(DASHBOARD, 'dist', 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: DASHBOARD, stdio: 'ignore' });
    mkdirSync(SCREENS, { recursive: true });
    await store.init();
    // An hour of etch-01 history, one reading every 5 s, a wafer-cycle shape, a PM in the middle and an excursion.
    const readings: ReadingPoint[] = [];
    const scores: ScorePoint[] = [];
    for (let ts = t0 - HOUR; ts < t0 - 30_000; ts += 5_000) {
      const phase = (ts / 60_000) % 1;
      const excursion = Math.abs(ts - (t0 - 20 * 60_000)) < 60_000;
      readings.push({ line, station: 'etch-01', ts, seq: ts / 5_000, values: { rf_power: 1500 + 200 * Math.sin(phase * 2 * Math.PI) + (excursion ? 300 : 0), chamber_pressure: 35 + 3 * Math.cos(phase * 2 * Math.PI) } });
      scores.push({ line, station: 'etch-01', ts, seq: ts / 5_000, score: excursion ? 3.1 : 0.3 + 0.2 * Math.abs(Math.sin(phase * 6)), threshold: 1, t2: null, spe: null, anomalous: excursion, health: excursion ? 'ALARM' : 'OK', modelVersion: 'test@1' });
    }
    const pastAnomaly = anomaly(line, 'etch-01', t0 - 20 * 60_000, { contributors: [{ sensor: 'rf_power', value: 1800, expected: 1500, contribution: 0.8 }] });
    await store.write({
      readings,
      scores,
      anomalies: [pastAnomaly],
      states: [
        { line, station: 'etch-01', ts: t0 - 2 * HOUR, state: 'PRODUCTIVE' },
        { line, station: 'etch-01', ts: t0 - 45 * 60_000, state: 'SCHEDULED_DOWN', reason: 'PM: chamber clean' },
        { line, station: 'etch-01', ts: t0 - 35 * 60_000, state: 'PRODUCTIVE' },
      ],
    });
    await store.writeAlertEvents([
      { alertId: 'a-past', line, station: 'etch-01', source: 'model', class: 'process', from: 'pending', to: 'firing', severity: 'critical', at: t0 - 19 * 60_000, reason: 'score over limit', replay: false },
      { alertId: 'a-past', line, station: 'etch-01', source: 'model', class: 'process', from: 'firing', to: 'resolved', severity: 'critical', at: t0 - 15 * 60_000, reason: 'back to normal', replay: false },
    ]);
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    for (const s of STATIONS) {
      await pub.publish(line, s.id, 'meta', meta(line, s.id, s.order, s.name));
      await pub.publish(line, s.id, 'state', state({ since: t0 - 35 * 60_000 }));
      await pub.publish(line, s.id, 'status', status(line, s.id));
    }
    await pub.publish(line, 'etch-01', 'anomaly', pastAnomaly);
    const config = loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, STALE_AFTER_MS: String(STALE_MS), DASHBOARD_DIR: path.join(DASHBOARD, 'dist') });
    api = createApi(config, { store, logger });
    base = `http://127.0.0.1:${(await api.start()).port}/`;
    heartbeat = beat(new Set());
    context = await launchChromium(profile, { width: 1920, height: 1080 });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    beating = false;
    await heartbeat;
    await context?.close();
    await api?.stop();
    await pub?.close();
    await store.close();
    await new InfluxDB({ host: '127.0.0.1', port: Number(new URL(TEST_INFLUX_URL).port) }).dropDatabase(database).catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  });

  it('charts the station’s readings and score live, as they arrive', async () => {
    await page.goto(`${base}#station=${encodeURIComponent(`${line}/etch-01`)}`);
    await expect.poll(() => page.getByTestId('station-chart').count(), { timeout: 10_000 }).toBe(3);
    expect(await page.getByTestId('range-live').getAttribute('aria-pressed')).toBe('true');
    const before = await data('reading-points');
    // 3 s of telemetry at 20 Hz: the API forwards every reading of the watched station in batches.
    for (let i = 0; i < 60; i++) {
      await pub.publish(line, 'etch-01', 'telemetry', { ts: Date.now(), seq: 100_000 + i, values: { rf_power: 1500 + i, chamber_pressure: 35 } });
      await new Promise((r) => setTimeout(r, 50));
    }
    await expect.poll(() => data('reading-points'), { timeout: 5_000 }).toBeGreaterThanOrEqual(before + 55);
    await expect.poll(() => data('score-points'), { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId('station-view-name').textContent()).toBe('Metal etch');
  });

  it('after losing the API, reconnects by itself and draws what it missed from the history, without a reload', async () => {
    await page.evaluate(() => Object.assign(globalThis, { lwNoReload: true }));
    const port = Number(new URL(base).port);
    const before = await data('reading-points');
    await api.stop();
    await expect.poll(() => page.getByTestId('connection-banner').isVisible(), { timeout: 5_000 }).toBe(true);
    // While the page is away the detector goes on storing: 100 readings it never saw live.
    const start = Date.now() - 40_000;
    const missed: ReadingPoint[] = Array.from({ length: 100 }, (_, i) => ({ line, station: 'etch-01', ts: start + i * 300, seq: 200_000 + i, values: { rf_power: 1600, chamber_pressure: 36 } }));
    await store.write({ readings: missed, scores: [], anomalies: [] });
    const config = loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: String(port), MQTT_URL: TEST_MQTT_URL, LINE: line, STALE_AFTER_MS: String(STALE_MS), DASHBOARD_DIR: path.join(DASHBOARD, 'dist') });
    api = createApi(config, { store, logger });
    await api.start();
    await expect.poll(() => page.getByTestId('connection-banner').isVisible(), { timeout: 10_000 }).toBe(false);
    // The 100 missed readings are drawn beside what the page had (give or take the gap markers and the window's
    // left edge moving on), and the live readings it had are still there after them.
    await expect.poll(() => data('reading-points'), { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 90);
    expect(Number(await charts(page).getAttribute('data-last-reading'))).toBeGreaterThanOrEqual(start + 99 * 300);
    expect(await page.evaluate(() => (globalThis as { lwNoReload?: boolean }).lwNoReload)).toBe(true);
  });

  it('loads the last hour from InfluxDB through the API, downsampled, with the state band and the anomaly and alert marks', async () => {
    await page.getByTestId('range-1h').click();
    await expect.poll(() => page.getByTestId('range-status').getAttribute('data-load'), { timeout: 10_000 }).toBe('loaded');
    expect(await page.getByTestId('range-status').textContent()).toContain('averaged over');
    expect(page.url()).toContain('range=1h');
    // 5 s readings in 2 s buckets: every reading of the hour, one per bucket.
    expect(await data('reading-points')).toBeGreaterThanOrEqual(700);
    expect(await data('score-points')).toBeGreaterThanOrEqual(700);
    expect(await data('anomaly-marks')).toBe(1);
    expect(await data('alert-marks')).toBe(2);
    expect(await charts(page).getAttribute('data-state-spans')).toBe('PRODUCTIVE SCHEDULED_DOWN PRODUCTIVE');
  });

  it('opens an anomaly from the list at its time, with its contributors observed against expected', async () => {
    await page.getByTestId('station-view-close').click();
    await page.getByTestId('anomaly-open').first().click();
    await expect.poll(() => page.getByTestId('sample-chosen').isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await page.getByTestId('sample-chosen').textContent()).toContain('score 3.2 / 1');
    expect(await page.getByTestId('sample-contributors').textContent()).toContain('rf_power 1800 vs 1500');
    expect(await page.getByTestId('range-custom').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => page.getByTestId('range-status').getAttribute('data-load'), { timeout: 10_000 }).toBe('loaded');
    expect(await data('anomaly-marks')).toBe(1);
    await page.getByTestId('sample-chosen-clear').click();
    await expect.poll(() => page.getByTestId('sample-chosen').isVisible()).toBe(false);
  });

  it('greys a station whose data stops, with its age, within the configured time', async () => {
    await page.goto(base);
    beating = false;
    await heartbeat;
    beating = true;
    heartbeat = beat(new Set(['cmp-01']));
    const cmp = page.locator('[data-testid="station-tile"][data-station="cmp-01"]');
    await expect.poll(() => cmp.evaluate((el) => el.classList.contains('stale')), { timeout: STALE_MS + 4_000 }).toBe(true);
    expect(await cmp.textContent()).toMatch(/STALE · \d+ s old/);
    expect(await page.locator('[data-testid="station-tile"].stale').count()).toBe(1);
    expect(await page.getByTestId('line-status').textContent()).toBe('ATTENTION');
  });

  it('moves between tiles with the arrow keys, opens with Enter and closes with Escape', async () => {
    await page.locator('[data-testid="station-tile"][data-station="load-01"]').focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate('document.activeElement?.dataset.station')).toBe('etch-01');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('station-view').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('station-view').isVisible()).toBe(false);
  });

  it('switches to Korean and to the light theme in the page, and keeps both after a reload', async () => {
    await page.getByTestId('language').selectOption('ko');
    await expect.poll(() => page.getByTestId('view-live').textContent()).toBe('실시간');
    expect(await page.evaluate('document.documentElement.lang')).toBe('ko');
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await page.reload();
    await expect.poll(() => page.getByTestId('view-live').textContent()).toBe('실시간');
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await page.getByTestId('language').selectOption('en');
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
  });

  it('in kiosk mode shows no controls and cycles the station view while the line is healthy', async () => {
    beating = false;
    await heartbeat;
    beating = true;
    heartbeat = beat(new Set());
    await page.goto(`${base}?kiosk&cycle=5`);
    await expect.poll(() => page.getByTestId('station-view').isVisible(), { timeout: 10_000 }).toBe(true);
    for (const id of ['replay-panel', 'theme-toggle', 'language', 'view-live', 'range-picker']) expect(await page.getByTestId(id).isVisible(), id).toBe(false);
    const first = await page.getByTestId('station-view').getAttribute('data-station');
    await expect.poll(() => page.getByTestId('station-view').getAttribute('data-station'), { timeout: 12_000 }).not.toBe(first);
    expect(await page.getByTestId('kiosk-note').textContent()).toContain('kiosk');
  });

  it('fits 1024×768 to 4K, text growing with the screen, and saves the line and station views in both themes', async () => {
    const station = `#station=${encodeURIComponent(`${line}/etch-01`)}&range=1h`;
    /** Nothing wider than the screen, and the status word and every tile inside it, readable at that size. */
    const layout = () =>
      page.evaluate(`(() => {
        const root = document.documentElement;
        const status = document.querySelector('[data-testid="line-status"]').getBoundingClientRect();
        const tiles = [...document.querySelectorAll('[data-testid="station-tile"]')].map((t) => t.getBoundingClientRect());
        return {
          overflow: root.scrollWidth - innerWidth,
          statusInside: status.left >= 0 && status.right <= innerWidth && status.top >= 0,
          tilesInside: tiles.every((t) => t.left >= 0 && t.right <= innerWidth),
          rootPx: parseFloat(getComputedStyle(root).fontSize),
          statusPx: parseFloat(getComputedStyle(document.querySelector('[data-testid="line-status"]')).fontSize),
        };
      })()`) as Promise<{ overflow: number; statusInside: boolean; tilesInside: boolean; rootPx: number; statusPx: number }>;
    const sizes: Record<string, number> = {};
    for (const [width, height] of [[1024, 768], [1920, 1080], [3840, 2160]] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(base);
      await expect.poll(() => page.getByTestId('station-tile').count(), { timeout: 10_000 }).toBe(STATIONS.length);
      const fit = await layout();
      expect(fit, `${width}×${height}`).toMatchObject({ overflow: 0, statusInside: true, tilesInside: true });
      // From 5 m a status word needs about 2 cm on a 55" 1080p screen: 25 px or more.
      if (width >= 1920) expect(fit.statusPx).toBeGreaterThanOrEqual(25);
      sizes[width] = fit.rootPx;
    }
    expect(sizes[3840]).toBeGreaterThan(sizes[1920] ?? Infinity);
    expect(sizes[1920]).toBeGreaterThan(sizes[1024] ?? Infinity);
    await page.screenshot({ path: path.join(SCREENS, 'line-3840x2160-dark.png') });
    for (const theme of ['dark', 'light'] as const) {
      for (const [width, height] of [[1920, 1080], [1024, 768]] as const) {
        await page.setViewportSize({ width, height });
        await page.goto(`${base}?theme=${theme}`);
        await expect.poll(() => page.getByTestId('station-tile').count(), { timeout: 10_000 }).toBe(STATIONS.length);
        expect(await page.evaluate('document.documentElement.dataset.theme')).toBe(theme);
        await page.screenshot({ path: path.join(SCREENS, `line-${width}x${height}-${theme}.png`) });
        await page.goto(`${base}?theme=${theme}${station}`);
        await expect.poll(() => page.getByTestId('range-status').getAttribute('data-load'), { timeout: 10_000 }).toBe('loaded');
        await page.getByTestId('station-view').scrollIntoViewIfNeeded();
        // Every chart drawn at a usable size, inside the screen.
        const charts = await page.locator('.chart-body canvas').evaluateAll((els) => els.map((c) => (c as unknown as { clientWidth: number }).clientWidth));
        expect(charts.length).toBeGreaterThanOrEqual(3);
        expect(Math.min(...charts)).toBeGreaterThan(200);
        expect(Math.max(...charts)).toBeLessThanOrEqual(width);
        await page.screenshot({ path: path.join(SCREENS, `station-${width}x${height}-${theme}.png`), fullPage: true });
      }
    }
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.goto(`${base}?lang=ko${station}`);
    await expect.poll(() => page.getByTestId('range-status').getAttribute('data-load'), { timeout: 10_000 }).toBe('loaded');
    await page.screenshot({ path: path.join(SCREENS, 'station-1920x1080-dark-ko.png'), fullPage: true });
    for (const name of ['line-1920x1080-dark', 'line-1024x768-light', 'station-1920x1080-light', 'station-1024x768-dark', 'station-1920x1080-dark-ko']) expect(existsSync(path.join(SCREENS, `${name}.png`)), name).toBe(true);
  });
});
