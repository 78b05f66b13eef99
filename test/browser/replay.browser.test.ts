/**
 * Replays from the page, in real Chromium, on `npm start`'s stack (embedded broker, SQLite, both detectors, the
 * API serving the built dashboard) with npm start's own demo recording. The simulator is off, so the live line
 * stays empty: anything on it would have leaked from a replay.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LINE, MqttReplaySink, RecordingFileSource, Replayer } from '@linewatch/simulators';
import { REPO_ROOT, ensureDemoRecording, startLine, type RunningLine } from '../../scripts/line.js';
import { launchChromium } from '../support/browser.js';
import { requireServices } from '../support/services.js';

const ok = await requireServices('chromium');
const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
const DASHBOARD = path.join(REPO_ROOT, 'dashboard');
const TOKEN = `browser-replay-token-${Math.random().toString(36).slice(2)}`;
const STATIONS = DEFAULT_LINE.stations.length;

/** Builds the dashboard when dist/ is missing or older than the replay panel this test drives. */
function ensureBuilt(): void {
  const index = path.join(DASHBOARD, 'dist', 'index.html');
  if (existsSync(index) && readFileSync(index, 'utf8').includes('replay-banner')) return;
  execFileSync('npx', ['vite', 'build'], { cwd: DASHBOARD, stdio: 'ignore' });
}

describe.skipIf(!ok)('replays from the page in Chromium', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lw-replay-browser-'));
  const recordings = path.join(tmp, 'recordings');
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let line: RunningLine;
  let demo = '';
  let context: BrowserContext;
  let page: Page;
  const banner = () => page.getByTestId('replay-banner');
  const tiles = () => page.getByTestId('station-tile');

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    // What `npm start` does on a first run: a demo recording, so there is something to replay.
    const written = await ensureDemoRecording(recordings, DEFAULT_LINE, logger);
    demo = path.basename(written ?? '');
    expect(await ensureDemoRecording(recordings, DEFAULT_LINE, logger)).toBeUndefined();
    line = await startLine({
      mqttPort: 0,
      store: { sqlitePath: path.join(tmp, 'linewatch.db') },
      httpHost: '127.0.0.1',
      httpPort: 0,
      detectorHttpPort: -1,
      line: DEFAULT_LINE,
      simulate: false,
      scenario: { faults: [] },
      seed: 1,
      rateHz: 1,
      env: { ALERTS_DB_PATH: ':memory:', API_TOKEN: TOKEN, RECORDINGS_DIR: recordings, MQTT_CLIENT_ID: `lw-replay-browser-${process.pid}` },
      logger,
    });
    context = await launchChromium(path.join(tmp, 'profile'));
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await line?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('asks for the token when there is none, and says plainly when it is wrong', async () => {
    const other = await context.newPage();
    try {
      await other.goto(line.url);
      await expect.poll(() => other.getByTestId('replay-recording').inputValue(), { timeout: 10_000 }).toBe(demo);
      await other.getByTestId('replay-start').click();
      await expect.poll(() => other.getByTestId('replay-token-form').isVisible()).toBe(true);
      expect(await other.getByTestId('replay-message').textContent()).toContain('API token');
      await other.getByTestId('replay-token-input').fill('not-the-token-at-all');
      await other.getByTestId('replay-token-save').click();
      await expect.poll(() => other.getByTestId('replay-message').textContent(), { timeout: 5_000 }).toContain('Not allowed (403)');
      expect(await other.getByTestId('replay-token-form').isVisible()).toBe(true);
      expect(await other.getByTestId('replay-banner').isVisible()).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('takes the token from the URL and out of the address bar', async () => {
    await page.goto(`${line.url}/#token=${TOKEN}`);
    // The page runs in the browser; this file is type-checked without the DOM library.
    type PageGlobals = { location: { href: string }; sessionStorage: { getItem(key: string): string | null } };
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).location.href)).toBe(`${line.url}/`);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('linewatch.apiToken'))).toBe(TOKEN);
    expect(await page.getByTestId('replay-token-set').isVisible()).toBe(true);
  });

  it('starts a replay at 10×, shows the banner with the recording and its progress, and the replay line in its own view', async () => {
    await expect.poll(() => page.getByTestId('replay-recording').inputValue(), { timeout: 10_000 }).toBe(demo);
    await page.getByTestId('replay-speed').selectOption('10');
    expect(await banner().isVisible()).toBe(false);
    await page.getByTestId('replay-start').click();
    await expect.poll(() => banner().isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => banner().textContent(), { timeout: 15_000 }).toMatch(/REPLAY — demo-fab1\.jsonl\.gz at 10× · [1-9]\d* % · ETA \d+:\d\d — into line fab1-replay, not live data/);
    expect(await page.getByTestId('replay-start').isDisabled()).toBe(true);
    expect(await page.getByTestId('replay-stop').isEnabled()).toBe(true);

    // The live view stays the live line's: nothing replayed shows there.
    expect(await tiles().count()).toBe(0);

    await page.getByTestId('view-replay').click();
    await expect.poll(() => page.locator('#header').getAttribute('data-view')).toBe('replay');
    expect(await page.getByTestId('view-label').isVisible()).toBe(true);
    expect(await page.getByTestId('line-name').textContent()).toBe('fab1-replay');
    await expect.poll(() => page.locator('[data-testid="station-tile"][data-line="fab1-replay"]').count(), { timeout: 10_000 }).toBe(STATIONS);
    // Scored by the detector on the replay line: every tile gets a health.
    await expect.poll(() => page.locator('[data-testid="station-tile"][data-health="NO_STATUS"]').count(), { timeout: 15_000 }).toBe(0);
    expect(await page.locator('[data-testid="station-tile"] [data-testid="replay-tag"]:visible').count()).toBe(STATIONS);
    await page.screenshot({ path: path.join(ARTIFACTS, 'replay-banner.png') });

    await page.getByTestId('view-live').click();
    await expect.poll(() => page.locator('#header').getAttribute('data-view')).toBe('live');
    await expect.poll(() => tiles().count()).toBe(0);
    expect(await banner().isVisible()).toBe(true);
  }, 60_000);

  it('stops the replay from the page; the banner goes away and the panel says how it ended', async () => {
    await page.getByTestId('replay-stop').click();
    await expect.poll(() => banner().isVisible(), { timeout: 10_000 }).toBe(false);
    await expect.poll(() => page.getByTestId('replay-message').textContent()).toMatch(/Last replay \(demo-fab1\.jsonl\.gz at 10×\) stopped: \d+ messages sent/);
    expect(await page.getByTestId('replay-start').isEnabled()).toBe(true);
    const status = (await (await fetch(`${line.url}/api/replay`)).json()) as { state: string };
    expect(status.state).toBe('stopped');
    // The replay line keeps its last picture for a look afterwards, plainly marked as replay.
    await page.getByTestId('view-replay').click();
    await expect.poll(() => page.getByTestId('view-label').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="station-tile"][data-line="fab1-replay"]').count()).toBe(STATIONS);
    await page.getByTestId('view-live').click();
    await expect.poll(() => page.getByTestId('view-label').isVisible()).toBe(false);
  });

  it('marks replayed data on the live line (a CLI replay into it) on the tiles and in the banner', async () => {
    // What `npm run replay -- FILE --line fab1` does: replay straight into the live line.
    const replayer = new Replayer({
      source: new RecordingFileSource(path.join(recordings, demo)),
      speed: 10,
      line: DEFAULT_LINE.line,
      logger,
      connect: () => MqttReplaySink.connect({ url: line.mqttUrl, clientId: `lw-replay-browser-cli-${process.pid}`, logger }),
    });
    await replayer.start();
    try {
      // Marked by the live detector's statuses (scored replayed telemetry), not only by the replayed meta.
      const replayedAndScored = '[data-testid="station-tile"][data-line="fab1"][data-replay="true"]:not([data-health="NO_STATUS"])';
      await expect.poll(() => page.locator(replayedAndScored).count(), { timeout: 15_000 }).toBe(STATIONS);
      expect(await page.locator('[data-testid="station-tile"] [data-testid="replay-tag"]:visible').count()).toBe(STATIONS);
      expect(await page.locator('#header').getAttribute('data-view')).toBe('live');
      expect(await page.getByTestId('replay-banner-live').textContent()).toMatch(/^REPLAYED DATA ON THE LIVE LINE fab1 — .* and \d+ more show replayed readings, not live data$/);
      expect(await page.getByTestId('replay-banner-run').isVisible()).toBe(false);
      // Replayed data is no reason to say the fab runs unmanned.
      expect(await page.getByTestId('line-status').textContent()).toBe('ATTENTION');
      // Let the tiles finish fading in from "no status yet" before the picture.
      await new Promise((r) => setTimeout(r, 400));
      await page.screenshot({ path: path.join(ARTIFACTS, 'replay-on-live-line.png') });
    } finally {
      await replayer.stop();
    }
  }, 40_000);
});
