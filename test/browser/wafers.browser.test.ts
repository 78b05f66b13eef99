/**
 * The station view in real Chromium against the real API on real Mosquitto: a station's wafer-level verdicts beside
 * its sample-wise verdict, the latest wafer as a badge on its tile, the wafer alert in the alert panel, data-quality
 * issues listed plainly, SPC rules on an anomaly's alert, and “Re-baseline wafers” publishing the command the
 * detector acts on, through the page's token prompt.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrowserContext, Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandSchema, topics, type Command } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { createApi, loadApiConfig, type Api } from '../../services/api/src/app.js';
import { TestPublisher, anomaly, meta, state, status, uniqueLine, waferVerdict } from '../../services/api/src/testing/fixtures.js';
import { launchChromium } from '../support/browser.js';
import { TEST_MQTT_URL, requireServices } from '../support/services.js';

const ok = await requireServices('mosquitto', 'chromium');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARD = path.join(ROOT, 'dashboard');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
const TOKEN = `browser-wafers-token-${Math.random().toString(36).slice(2)}`;

/** Builds the dashboard when dist/ is missing or older than the station view this test drives. */
function ensureBuilt(): void {
  const index = path.join(DASHBOARD, 'dist', 'index.html');
  if (existsSync(index) && readFileSync(index, 'utf8').includes('rebaseline-open')) return;
  execFileSync('npx', ['vite', 'build'], { cwd: DASHBOARD, stdio: 'ignore' });
}

describe.skipIf(!ok)('the station view in Chromium: wafer verdicts, data quality and re-baselining', () => {
  const line = uniqueLine('waferpage');
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const store = new SqliteStore({ path: ':memory:' }, logger);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'lw-wafers-chromium-'));
  const commands: Command[] = [];
  let pub: TestPublisher;
  let listener: MqttClient;
  let api: Api;
  let url = '';
  let context: BrowserContext;
  let page: Page;

  const tile = (station: string, p: Page = page) => p.locator(`[data-testid="station-tile"][data-station="${station}"]`);
  const view = (p: Page = page) => p.getByTestId('station-view');

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    await store.init();
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    await pub.publish(line, 'etch-01', 'meta', meta(line, 'etch-01', 0, 'Metal etch'));
    await pub.publish(line, 'dep-01', 'meta', meta(line, 'dep-01', 1, 'CVD deposition'));
    for (const station of ['etch-01', 'dep-01']) {
      await pub.publish(line, station, 'state', state());
      await pub.publish(line, station, 'status', status(line, station));
    }
    listener = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-wafers-browser-cmd-${process.pid}`, reconnectPeriod: 0 });
    listener.on('message', (_topic, payload) => commands.push(CommandSchema.parse(JSON.parse(payload.toString('utf8')))));
    await listener.subscribeAsync(topics.command(line, 'etch-01'), { qos: 1 });
    const config = loadApiConfig({
      PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, DASHBOARD_DIR: path.join(DASHBOARD, 'dist'), API_TOKEN: TOKEN,
      ALERTS_DB_PATH: ':memory:', ALERT_FOR_MS: '0', ALERT_CLEAR_HOLD_MS: '300', MQTT_CLIENT_ID: `lw-wafers-browser-${process.pid}`,
    });
    api = createApi(config, { store, logger });
    ({ url } = await api.start());
    context = await launchChromium(profile, { width: 1600, height: 1200 });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await api?.stop();
    await listener?.endAsync();
    await pub?.close();
    await store.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('shows a faulty wafer on its tile and, in the station view, beside the sample-wise verdict; the alert says wafer', async () => {
    await page.goto(`${url}/#token=${TOKEN}`);
    await expect.poll(() => tile('etch-01').getAttribute('data-health'), { timeout: 10_000 }).toBe('OK');
    expect(await tile('etch-01').getByTestId('tile-wafer').isVisible()).toBe(false);

    const t = Date.now();
    await pub.publish(line, 'etch-01', 'wafer', waferVerdict(line, 'etch-01', 'W01', t - 120_000, { verdict: 'ok', score: 0.4, contributors: [] }));
    await pub.publish(line, 'etch-01', 'wafer', waferVerdict(line, 'etch-01', 'W02', t, { score: 1.8 }));
    const badge = tile('etch-01').getByTestId('tile-wafer');
    await expect.poll(() => badge.getAttribute('data-verdict'), { timeout: 10_000 }).toBe('fault');
    expect(await badge.innerText()).toBe('✖ FAULT · wafer W02 · main etch');

    await tile('etch-01').click();
    await expect.poll(() => view().isVisible()).toBe(true);
    expect(await page.getByTestId('station-view-name').innerText()).toBe('Metal etch');
    expect(page.url()).toContain(`#station=${encodeURIComponent(`${line}/etch-01`)}`);
    const rows = page.getByTestId('wafer-row');
    await expect.poll(() => rows.count(), { timeout: 5_000 }).toBe(2);
    expect(await rows.nth(0).getAttribute('data-verdict')).toBe('fault');
    const fault = await rows.nth(0).innerText();
    for (const text of ['W02', 'lot L0001', 'main etch', '✖ FAULT', '1.8 / 1', 'rf_power.mean 1620 (1500)']) expect(fault).toContain(text);
    expect(await rows.nth(1).innerText()).toContain('● OK');
    // The sample-wise verdict of the same station, beside it.
    expect(await page.getByTestId('sample-score').innerText()).toBe('score 0.31 / 1');
    expect(await page.getByTestId('sample-panel').innerText()).toContain('model test@1');
    expect(await page.getByTestId('quality-issues').isVisible()).toBe(false);

    const alertRow = page.locator(`[data-testid="alert-row"][data-alert-id^="${line}/etch-01/wafer/ETCH-AL-01/main_etch/"]`);
    await expect.poll(() => alertRow.getAttribute('data-state'), { timeout: 10_000 }).toBe('firing');
    expect(await alertRow.getAttribute('data-level')).toBe('wafer');
    expect(await alertRow.locator('[data-tag="level-wafer"]').innerText()).toBe('WAFER');
    expect(await alertRow.getByTestId('alert-level-text').innerText()).toBe('wafer W02 · lot L0001 · main etch · sample-wise OK 0.31 / 1');
    expect(await alertRow.innerText()).toContain('rf_power.mean 1620 vs 1500');
    await page.screenshot({ path: path.join(ARTIFACTS, 'station-view-wafer.png'), fullPage: true });
  }, 30_000);

  it('re-baselines from the station view after a confirmation, asking for the token when the tab has none', async () => {
    const other = await context.newPage();
    try {
      await other.goto(`${url}/#station=${encodeURIComponent(`${line}/etch-01`)}`);
      await expect.poll(() => other.getByTestId('station-view-name').innerText(), { timeout: 10_000 }).toBe('Metal etch');
      await other.getByTestId('rebaseline-open').click();
      // Nothing is sent before the confirmation.
      await expect.poll(() => other.getByTestId('rebaseline-form').isVisible(), { timeout: 5_000 }).toBe(true);
      expect(await other.getByTestId('rebaseline-form').innerText()).toContain('Take the next wafers of Metal etch as its new wafer-level baseline?');
      await other.getByTestId('rebaseline-wafers').fill('7');
      await other.getByTestId('rebaseline-reason').fill('after PM: chamber clean');
      await other.getByTestId('rebaseline-confirm').click();
      await expect.poll(() => other.getByTestId('rebaseline-message').innerText(), { timeout: 5_000 }).toContain('needs the API token');
      expect(commands).toEqual([]);
      await other.getByTestId('replay-token-input').fill(TOKEN);
      await other.getByTestId('replay-token-save').click();
      // The request goes out once the token is given, without a second click.
      await expect.poll(() => other.getByTestId('rebaseline-message').innerText(), { timeout: 5_000 }).toMatch(
        /^Re-baseline sent at \d\d:\d\d:\d\d: the next 7 wafers of Metal etch become its wafer-level baseline \(command rebaseline\//,
      );
      await expect.poll(() => other.getByTestId('rebaseline-form').isVisible(), { timeout: 5_000 }).toBe(false);
      await expect.poll(() => commands.length, { timeout: 5_000 }).toBe(1);
      expect(commands[0]).toMatchObject({ type: 'rebaseline', wafers: 7, reason: 'after PM: chamber clean' });
      expect(commands[0]?.id).toBe(`rebaseline/${line}/etch-01/${commands[0]?.requestedAt}`);
      await other.screenshot({ path: path.join(ARTIFACTS, 'station-view-rebaseline.png'), fullPage: true });
    } finally {
      await other.close();
    }
  }, 30_000);

  it('lists data-quality issues plainly, and shows the SPC rules and broken correlations an anomaly’s alert carries', async () => {
    const t = Date.now();
    const issue = { kind: 'stuck' as const, sensor: 'rf_power', since: t - 60_000, detail: 'unchanged for 60 s' };
    await pub.publish(line, 'dep-01', 'status', status(line, 'dep-01', { health: 'DATA_QUALITY', since: t, ts: t, quality: [issue] }));
    await page.evaluate((fragment) => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = fragment;
    }, `station=${encodeURIComponent(`${line}/dep-01`)}`);
    await expect.poll(() => page.getByTestId('station-view-name').innerText(), { timeout: 5_000 }).toBe('CVD deposition');
    const issues = page.getByTestId('quality-issue');
    await expect.poll(() => issues.count(), { timeout: 10_000 }).toBe(1);
    expect(await issues.first().innerText()).toMatch(/^STUCK · rf_power · unchanged for 60 s · since \d\d:\d\d:\d\d \(\d+ s\)$/);
    expect(await page.getByTestId('wafer-row').count()).toBe(0);
    expect(await tile('dep-01').getAttribute('aria-pressed')).toBe('true');
    expect(await tile('etch-01').getAttribute('aria-pressed')).toBe('false');

    const rules = [{ rule: 'WE1' as const, sensor: 'rf_power', side: 'high' as const, value: 1620, center: 1500, sigma: 30 }];
    const brokenCorrelations = [{ sensors: ['rf_power', 'chamber_pressure'] as [string, string], correlation: 0.93, z: [3.2, -0.1] as [number, number] }];
    await pub.publish(line, 'dep-01', 'anomaly', anomaly(line, 'dep-01', t + 1, { severity: 'critical', rules, brokenCorrelations }));
    await pub.publish(line, 'dep-01', 'status', status(line, 'dep-01', { health: 'ALARM', since: t + 1, ts: t + 1, score: 3.2 }));
    const alertRow = page.locator(`[data-testid="alert-row"][data-alert-id^="${line}/dep-01/model/"]`);
    await expect.poll(() => alertRow.getAttribute('data-state'), { timeout: 10_000 }).toBe('firing');
    expect(await alertRow.getAttribute('data-level')).toBe('sample');
    expect(await alertRow.getByTestId('alert-rules').innerText()).toBe('rules WE1 rf_power ▲ · broken rf_power ⇄ chamber_pressure');
    await expect.poll(() => page.getByTestId('sample-rules').innerText(), { timeout: 5_000 }).toBe('SPC rules: WE1 rf_power ▲ · broken correlations: rf_power ⇄ chamber_pressure');

    await page.getByTestId('station-view-close').click();
    await expect.poll(() => view().isVisible()).toBe(false);
    expect(page.url()).not.toContain('station=');
  }, 30_000);
});
