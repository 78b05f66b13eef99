import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nthNotification, subscription, until } from './fixtures.test-support.js';
import { harness, type Harness } from './harness.test-support.js';
import { newSecret, sign } from './signature.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DOC = path.resolve(here, '../../../../docs/webhooks.md');

/** The js block after the `example-receiver` marker in docs/webhooks.md: the test runs what the docs show. */
function exampleReceiver(): string {
  const doc = readFileSync(DOC, 'utf8');
  const match = /<!-- example-receiver[^>]*-->\s*```js\n([\s\S]*?)\n```/.exec(doc);
  if (!match?.[1]) throw new Error(`no example receiver block in ${DOC}`);
  return match[1];
}

describe('the example receiver in docs/webhooks.md', () => {
  const oldSecret = newSecret();
  const newerSecret = newSecret();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-example-receiver-'));
  const stdout: string[] = [];
  let child: ChildProcess;
  let url = '';
  let h: Harness;

  beforeAll(async () => {
    const code = exampleReceiver();
    expect(code.split('\n').length).toBeLessThanOrEqual(35);
    expect([...code.matchAll(/from '([^']+)'/g)].map((m) => m[1])).toEqual(['node:crypto', 'node:http']);
    writeFileSync(path.join(dir, 'receiver.mjs'), code);
    // It holds only the old secret: the subscription is mid-rotation.
    child = spawn(process.execPath, ['receiver.mjs'], { cwd: dir, env: { ...process.env, WEBHOOK_SECRETS: oldSecret, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    await until('the receiver listening', () => stdout.some((l) => l.startsWith('listening on ')));
    url = `http://127.0.0.1:${stdout[0]?.replace('listening on ', '')}/alerts`;
    h = harness({ pollMs: 10 });
  });
  afterAll(async () => {
    child.kill();
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts real deliveries signed during a rotation and prints each once', async () => {
    const s = subscription({ url, secrets: [newerSecret, oldSecret] });
    h.subscriptions.set(s.id, s);
    const firing = h.enqueue(nthNotification(0), s);
    const resolved = h.enqueue(nthNotification(0, 'resolved'), s);
    h.dispatcher.start();
    await until('both delivered', () => h.outbox.counts().delivered === 2);
    await until('both printed', () => stdout.length === 3);
    expect(stdout.slice(1)).toEqual([
      `${firing} firing etch-01 ${nthNotification(0).alert.id}`,
      `${resolved} resolved etch-01 ${nthNotification(0).alert.id}`,
    ]);
    expect(h.outbox.get(firing).lastStatus).toBe(204);
  });

  it('refuses a changed body, a wrong secret and a stale timestamp; a repeated id is acknowledged but not handled again', async () => {
    const body = h.outbox.deliveries({ limit: 1 })[0]?.body ?? '';
    const id = h.outbox.deliveries({ limit: 1 })[0]?.id ?? '';
    const post = async (secret: string, timestamp: number, sent = body): Promise<number> => {
      const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': sign(secret, id, timestamp, body) };
      return (await fetch(url, { method: 'POST', headers, body: sent })).status;
    };
    const now = Math.floor(Date.now() / 1000);
    expect(await post(oldSecret, now, body.replace('"resolved"', '"firing"'))).toBe(401);
    expect(await post(newerSecret, now)).toBe(401); // the receiver does not hold it yet
    expect(await post(oldSecret, now - 600)).toBe(401);
    expect(await post(oldSecret, now)).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stdout).toHaveLength(3);
  });
});
