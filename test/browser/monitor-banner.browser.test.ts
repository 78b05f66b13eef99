/**
 * Detector health (issue #7) on the real page in Debian's Chromium, against the real API on real Mosquitto: a
 * detector whose storage is degraded, then offline, turns the line word to ATTENTION and says why in the banner
 * although every station reports OK; back to ok, the banner goes and the line runs unmanned again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrowserContext, Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics, type ServiceHealth } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { createApi, loadApiConfig, type Api } from '../../services/api/src/app.js';
import { TestPublisher, meta, serviceHealth, state, status, uniqueLine } from '../../services/api/src/testing/fixtures.js';
import { launchChromium } from '../support/browser.js';
import { TEST_MQTT_URL, requireServices } from '../support/services.js';

const ok = await requireServices('mosquitto', 'chromium');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARD = path.join(ROOT, 'dashboard');
const SCREENS = path.join(ROOT, 'test', 'artifacts', 'screens');
const STATIONS = [
  { id: 'litho-01', name: 'Lithography', order: 0 },
  { id: 'etch-01', name: 'Metal etch', order: 1 },
  { id: 'cmp-01', name: 'CMP polish', order: 2 },
];
const JOURNAL_POINTS = 512;

/** Builds the dashboard when dist/ is missing or older than the detector banner this test drives. */
function ensureBuilt(): void {
  const assets = path.join(DASHBOARD, 'dist', 'assets');
  const built = existsSync(assets) && readdirSync(assets).some((f) => f.endsWith('.js') && readFileSync(path.join(assets, f), 'utf8').includes('banner.detectorOffline'));
  if (!built) execFileSync('npx', ['vite', 'build'], { cwd: DASHBOARD, stdio: 'ignore' });
}

describe.skipIf(!ok)('detector health banner in real Chromium against the real API and Mosquitto', () => {
  const line = uniqueLine('monitor');
  const instance = `${line}-detector`;
  const healthTopic = topics.health('detector', instance);
  const logger = pino({ level: 'silent' });
  const store = new SqliteStore({ path: ':memory:' }, logger);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'lw-chromium-'));
  let pub: TestPublisher;
  let detector: MqttClient;
  let api: Api;
  let context: BrowserContext;
  let page: Page;

  const banner = () => page.getByTestId('connection-banner');
  const lineStatus = () => page.getByTestId('line-status').textContent();
  const tileHealths = () => page.getByTestId('station-tile').evaluateAll((els) => els.map((e) => e.getAttribute('data-health')));

  function publishHealth(patch: Partial<ServiceHealth>): Promise<unknown> {
    return detector.publishAsync(healthTopic, JSON.stringify(serviceHealth(line, instance, patch)), { qos: 1, retain: true });
  }

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(SCREENS, { recursive: true });
    await store.init();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    detector = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-monitor-banner-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
    for (const s of STATIONS) {
      await pub.publish(line, s.id, 'meta', meta(line, s.id, s.order, s.name));
      await pub.publish(line, s.id, 'state', state());
      await pub.publish(line, s.id, 'status', status(line, s.id));
    }
    await publishHealth({ state: 'ok' });
    // Stations must not turn stale while the test runs: ATTENTION here may come from the detector only.
    const config = loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, STALE_AFTER_MS: '600000', DASHBOARD_DIR: path.join(DASHBOARD, 'dist') });
    api = createApi(config, { store, logger });
    const { port } = await api.start();
    context = await launchChromium(profile, { width: 1280, height: 800 });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${port}/`);
  });

  afterAll(async () => {
    await context?.close();
    await api?.stop();
    await detector?.publishAsync(healthTopic, '', { qos: 1, retain: true });
    await detector?.endAsync();
    await pub?.close();
    await store.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('runs unmanned with every station OK and the detector ok, with no banner', async () => {
    await expect.poll(() => tileHealths(), { timeout: 10_000 }).toEqual(['OK', 'OK', 'OK']);
    await expect.poll(() => lineStatus(), { timeout: 5_000 }).toBe('RUNNING UNMANNED');
    expect(await banner().isVisible()).toBe(false);
  });

  it('shows storage degraded in the banner and ATTENTION, though every station is OK', async () => {
    await publishHealth({
      state: 'degraded',
      reason: `store writes failing; ${JOURNAL_POINTS} points in the journal waiting for the store`,
      storage: { state: 'degraded', failing: true, buffered: 40, journalBytes: 65_536, journalPoints: JOURNAL_POINTS, droppedJournalFull: 0 },
    });
    await expect.poll(() => banner().isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await banner().getAttribute('data-kind')).toBe('monitor');
    const text = await banner().textContent();
    expect(text).toContain('Storage degraded');
    expect(text).toContain(instance);
    expect(text).toContain('cannot write to the database');
    await expect.poll(() => lineStatus(), { timeout: 5_000 }).toBe('ATTENTION');
    expect(await page.getByTestId('line-status').getAttribute('data-status')).toBe('ATTENTION');
    expect(await tileHealths()).toEqual(['OK', 'OK', 'OK']);
    await page.screenshot({ path: path.join(SCREENS, 'monitor-banner.png') });
  });

  it('writes the journal’s points as a whole count', async () => {
    // Still the degraded message of the case before.
    await expect.poll(() => banner().textContent(), { timeout: 5_000 }).toContain('Storage degraded');
    expect(await banner().textContent()).toContain(`${JOURNAL_POINTS} points kept on disk`);
  });

  it('says the detector is offline when it reports so, and keeps ATTENTION', async () => {
    await publishHealth({ state: 'offline', reason: 'stopped' });
    await expect.poll(() => banner().textContent(), { timeout: 5_000 }).toContain(`Detector ${instance} is offline`);
    expect(await banner().isVisible()).toBe(true);
    expect(await banner().getAttribute('data-kind')).toBe('monitor');
    expect(await banner().textContent()).toContain('not being scored');
    expect(await lineStatus()).toBe('ATTENTION');
    expect(await tileHealths()).toEqual(['OK', 'OK', 'OK']);
  });

  it('hides the banner and runs unmanned again when the detector is ok', async () => {
    await publishHealth({ state: 'ok' });
    await expect.poll(() => banner().isVisible(), { timeout: 5_000 }).toBe(false);
    await expect.poll(() => lineStatus(), { timeout: 5_000 }).toBe('RUNNING UNMANNED');
  });
});
