import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_MQTT_URL, requireServices } from '../../../../test/support/services.js';
import { until } from '../../../../test/support/until.js';
import { TestPublisher, anomaly, meta, state, status, uniqueLine } from '../testing/fixtures.js';
import { freePort } from '../../../../test/support/ports.js';

const ok = await requireServices('mosquitto');
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../..');
const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

interface Hit {
  id: string;
  kind: string;
}


/**
 * The API as its own process (`services/api/src/index.ts`), killed with SIGKILL while a webhook is being delivered
 * and its alert is changing, then started again on the same files: the alert that cleared meanwhile resolves, and
 * receivers hear exactly one `resolved` (and the `firing` at least once, with one webhook-id).
 */
describe.skipIf(!ok)('the API killed with SIGKILL mid-delivery', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lw-api-crash-'));
  const line = uniqueLine('crash');
  const station = 'etch-01';
  const hits: Hit[] = [];
  let hold = true;
  let child: ChildProcess | undefined;
  let receiver: http.Server | undefined;
  let pub: TestPublisher | undefined;

  const startApi = (port: number, hookUrl: string): ChildProcess => {
    writeFileSync(path.join(dir, 'webhooks.json'), JSON.stringify([{ id: 'sub_crash', url: hookUrl, secret: SECRET }]));
    const env = {
      ...process.env, PORT: String(port), HOST: '127.0.0.1', MQTT_URL: TEST_MQTT_URL, LINE: line, LOG_LEVEL: 'warn',
      ALERTS_DB_PATH: path.join(dir, 'alerts.sqlite'), SQLITE_PATH: path.join(dir, 'store.sqlite'), INFLUX_URL: '',
      WEBHOOKS_FILE: path.join(dir, 'webhooks.json'), ALERT_FOR_MS: '0', ALERT_CLEAR_HOLD_MS: '300', API_TOKEN: 'crash-test-token-0123456789',
      DASHBOARD_DIR: '/nonexistent',
    };
    return spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'services/api/src/index.ts')], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'inherit'] });
  };

  afterAll(async () => {
    child?.kill('SIGKILL');
    await pub?.close();
    await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves once after the restart, and never loses the firing', async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const kind = (JSON.parse(body) as { alerts: { kind: string }[] }).alerts[0]?.kind ?? '?';
        hits.push({ id: String(req.headers['webhook-id']), kind });
        // While `hold`, the receiver never answers: the delivery is in flight when the API is killed.
        if (!hold) res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const port = await freePort();
    child = startApi(port, hookUrl);
    await until('the API up', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok || undefined, { timeoutMs: 30_000 });

    pub = await TestPublisher.connect(TEST_MQTT_URL);
    await pub.publish(line, station, 'meta', meta(line, station, 0));
    await pub.publish(line, station, 'state', state());
    const t = Date.now();
    await pub.publish(line, station, 'anomaly', anomaly(line, station, t, { severity: 'warning' }));
    await pub.publish(line, station, 'status', status(line, station, { health: 'ALARM', since: t, ts: t }));
    await until('the firing delivery in flight', () => (hits.some((h) => h.kind === 'firing') ? true : undefined), { timeoutMs: 15_000 });

    // Killed mid-delivery; meanwhile the station recovers (its retained status says so).
    child.kill('SIGKILL');
    await until('the API gone', () => (child?.exitCode !== null || child?.signalCode !== null ? true : undefined));
    await pub.publish(line, station, 'status', status(line, station, { health: 'OK', since: Date.now(), ts: Date.now(), score: 0.1 }));
    hold = false;
    child = startApi(port, hookUrl);
    await until('the resolved delivery', () => (hits.some((h) => h.kind === 'resolved') ? true : undefined), { timeoutMs: 30_000 });
    // Give a duplicate time to show up before judging.
    await new Promise((r) => setTimeout(r, 2_000));

    const firing = new Set(hits.filter((h) => h.kind === 'firing').map((h) => h.id));
    const resolved = hits.filter((h) => h.kind === 'resolved');
    expect(firing.size).toBe(1);
    expect(resolved).toHaveLength(1);
    // The firing that was cut short is delivered again after the restart, with the same webhook-id.
    expect(hits.filter((h) => h.kind === 'firing').length).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
