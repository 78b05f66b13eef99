import { portOpen } from './ports.js';

/** Real servers the integration tests use. CI starts them (.ci/run); locally, start them or the tests say why they skip. */
export const TEST_MQTT_URL = process.env.LINEWATCH_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
export const TEST_INFLUX_URL = process.env.LINEWATCH_TEST_INFLUX_URL ?? 'http://127.0.0.1:8086';
export const CHROMIUM_PATH = process.env.LINEWATCH_CHROMIUM ?? '/usr/bin/chromium';

/** The URL's host and port (1883 for mqtt:, 80 otherwise) accept connections. */
function urlOpen(url: string): Promise<boolean> {
  const u = new URL(url);
  return portOpen(Number(u.port || (u.protocol === 'mqtt:' ? 1883 : 80)), u.hostname);
}

async function fileExists(path: string): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  return access(path).then(
    () => true,
    () => false,
  );
}

export type Service = 'mosquitto' | 'influxdb' | 'chromium';

/**
 * Returns true when every service is reachable. When one is missing: in CI (CI=true) it throws, so nothing
 * is skipped silently there; elsewhere it prints why and returns false, for `describe.skipIf`.
 */
export async function requireServices(...services: Service[]): Promise<boolean> {
  const missing: string[] = [];
  for (const s of services) {
    const ok =
      s === 'mosquitto' ? await urlOpen(TEST_MQTT_URL) : s === 'influxdb' ? await urlOpen(TEST_INFLUX_URL) : await fileExists(CHROMIUM_PATH);
    if (!ok) missing.push(s === 'mosquitto' ? `Mosquitto at ${TEST_MQTT_URL}` : s === 'influxdb' ? `InfluxDB at ${TEST_INFLUX_URL}` : `Chromium at ${CHROMIUM_PATH}`);
  }
  if (missing.length === 0) return true;
  const message = `needs ${missing.join(', ')}; start them (see .ci/run) to run these tests`;
  if (process.env.CI) throw new Error(`CI must run every test, but this one ${message}`);
  console.warn(`[skipped] ${message}`);
  return false;
}
