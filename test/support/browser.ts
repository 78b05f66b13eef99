import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM_PATH } from './services.js';

/**
 * Debian's Chromium with a fresh profile, headless, with nothing that reaches the network on its own (the flags
 * CI requires). The profile must be a new folder: playwright-core takes it here, not as `--user-data-dir`.
 */
export function launchChromium(profileDir: string, viewport = { width: 1600, height: 900 }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
  });
}
