import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WebhookDispatcher } from './dispatcher.js';
import { nthNotification, subscription, T0, tempDatabase, until } from './fixtures.test-support.js';
import { arrivals, stationUrl } from './harness.test-support.js';
import { deliveryId, Outbox } from './outbox.js';
import { buildPayload } from './payload.js';
import { TestReceiver } from './receiver.test-support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../..');
const KILL_AFTER = 10;

describe('WebhookDispatcher killed with SIGKILL mid-queue', () => {
  it('a new process on the same database file delivers the rest: none lost, duplicates only from the attempt cut short', async () => {
    const temp = tempDatabase('lw-webhooks-crash-');
    const receiver = await TestReceiver.start();
    const s = subscription({ url: receiver.url('/mes') });
    let db = temp.open();
    let outbox = new Outbox(db);
    const expected = Array.from({ length: 30 }, (_, i) => {
      const n = nthNotification(i);
      outbox.enqueue(n, s, buildPayload(n, { receiver: s.id, stationUrl }), T0);
      return deliveryId(n.id, s.id);
    });
    db.close();

    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'dispatcher-process.test-support.ts'), temp.file], {
      cwd: repoRoot,
      env: { ...process.env, SUBSCRIPTION: JSON.stringify(s) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Killed right after the receiver answered its 10th: the child may or may not have recorded that one.
    receiver.reply = (_req, res) => {
      res.writeHead(200).end(() => {
        if (receiver.requests.length === KILL_AFTER) child.kill('SIGKILL');
      });
    };
    let dispatcher: WebhookDispatcher | undefined;
    try {
      await until('the child killed', () => child.signalCode !== null || child.exitCode !== null, 15_000);
      expect(child.signalCode).toBe('SIGKILL');

      db = temp.open();
      outbox = new Outbox(db);
      const pendingAfterKill = outbox.counts().pending;
      expect(pendingAfterKill).toBeGreaterThan(0);
      dispatcher = new WebhookDispatcher({ outbox, subscription: (id) => (id === s.id ? s : undefined), logger: pino({ level: 'silent' }), options: { pollMs: 10 } });
      dispatcher.start();
      await until('the rest delivered', () => outbox.counts().pending === 0);

      const got = arrivals(receiver.requests, '/mes');
      expect(got.ids).toEqual(expected);
      expect(got.duplicates).toBeLessThanOrEqual(1);
      expect(outbox.counts()).toEqual({ pending: 0, delivered: 30, dead: 0 });
      console.log(`kill -9 after ${KILL_AFTER} answered, ${pendingAfterKill} pending: 30/30 delivered, ${got.duplicates} duplicate(s) (at-least-once)`);
    } finally {
      child.kill('SIGKILL');
      await dispatcher?.stop();
      db.close();
      await receiver.close();
      temp.remove();
    }
  });
});
