/**
 * `npm start`'s stack, in real Chromium: embedded aedes broker, SQLite store, the simulated line with one
 * step fault, the ONNX detector and the API serving the built dashboard.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LINE } from '@linewatch/simulators';
import { REPO_ROOT, startLine, type RunningLine } from '../../scripts/line.js';
import { launchChromium } from '../support/browser.js';
import { requireServices } from '../support/services.js';

const ok = await requireServices('chromium');
const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
const FAULT_AT_S = 8;

describe.skipIf(!ok)("npm start's line in Chromium", () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lw-line-'));
  let line: RunningLine;
  let context: BrowserContext;
  let page: Page;
  const tile = (id: string) => page.locator(`[data-testid="station-tile"][data-station="${id}"]`);

  beforeAll(async () => {
    if (!existsSync(path.join(REPO_ROOT, 'dashboard', 'dist', 'index.html'))) {
      execFileSync('npx', ['vite', 'build'], { cwd: path.join(REPO_ROOT, 'dashboard'), stdio: 'ignore' });
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    line = await startLine({
      mqttPort: 0,
      store: { sqlitePath: path.join(tmp, 'linewatch.db') },
      httpHost: '127.0.0.1',
      httpPort: 0,
      detectorHttpPort: -1,
      line: DEFAULT_LINE,
      simulate: true,
      scenario: { faults: [{ station: 'etch-01', type: 'step', sensors: ['chamber_pressure'], at: FAULT_AT_S, duration: 120 }] },
      seed: 3,
      rateHz: 5,
      env: { ALERTS_DB_PATH: ':memory:', MQTT_CLIENT_ID: `lw-browser-detector-${process.pid}` },
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    context = await launchChromium(path.join(tmp, 'profile'));
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await line?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shows every station of the line in process order', async () => {
    await page.goto(line.url);
    await expect.poll(() => tile('load-01').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-testid="station-tile"]').count(), { timeout: 10_000 }).toBe(DEFAULT_LINE.stations.length);
    const order = await page.locator('[data-testid="station-tile"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-station')));
    expect(order).toEqual([...DEFAULT_LINE.stations].sort((a, b) => a.order - b.order).map((s) => s.id));
    await expect.poll(() => tile('etch-01').getAttribute('data-health'), { timeout: 10_000 }).toMatch(/OK|WARN/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'line-1-running.png') });
  });

  it('turns the faulted station to ALARM with its contributor, and no other', async () => {
    await expect.poll(() => tile('etch-01').getAttribute('data-health'), { timeout: (FAULT_AT_S + 15) * 1000, interval: 250 }).toBe('ALARM');
    await expect.poll(() => tile('etch-01').innerText(), { timeout: 5_000 }).toContain('chamber_pressure');
    const healths = await page.locator('[data-testid="station-tile"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-station'), e.getAttribute('data-health')]));
    expect(healths.filter(([id, h]) => h === 'ALARM' && id !== 'etch-01')).toEqual([]);
    await expect.poll(() => page.locator('[data-testid="anomaly-row"]').count(), { timeout: 5_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'line-2-alarm.png') });
  }, 40_000);
});
