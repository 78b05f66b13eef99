import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertDb, openAlertingDatabase } from './alert-db.js';
import { SAVE_WIDTH, episodeAlert, longLivedAlert } from './testing/alert-db-fixtures.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO_ROOT = resolve(HERE, '../../../..');
const SAVE_LOOP = join(HERE, 'testing', 'alert-db-save-loop.ts');
const ROUNDS = 3;
/** Enough that a child still saving when killed never runs out first. */
const MAX_SAVES_PER_ROUND = 100_000;

const dir = mkdtempSync(join(tmpdir(), 'lw-alert-kill-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts the save loop on `file` and SIGKILLs it at a random moment: after a random number of commits it has
 * announced, plus a random delay of up to 5 ms, which lands while a save is in flight. Resolves with the last
 * save the child announced as committed.
 */
function saveUntilKilled(file: string, atLeast: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SAVE_LOOP, file, String(MAX_SAVES_PER_ROUND)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    let announced = -1;
    let seen = 0;
    let killed = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^saved (\d+)$/.exec(line);
      if (!match) return;
      announced = Number(match[1]);
      if (++seen === atLeast && !killed) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), Math.random() * 5);
      }
    });
    child.once('error', reject);
    // 'close', not 'exit': it waits for stdout to end, so every line the child wrote has been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (signal === 'SIGKILL' && killed) resolvePromise(announced);
      else reject(new Error(`save loop ended with code ${code} signal ${signal} after ${seen} saves: ${stderr}`));
    });
  });
}

/** What the file holds after a crash, checked for consistency. Returns how many saves it holds. */
function committedSaves(file: string): number {
  const db = openAlertingDatabase(file);
  try {
    const alerts = new AlertDb(db);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const orphans = db.prepare('SELECT count(*) AS n FROM alert_transition t LEFT JOIN alert a ON a.id = t.alert_id WHERE a.id IS NULL').get();
    expect(orphans).toEqual({ n: 0 });

    const saves = (alerts.alert(longLivedAlert(0, 0).id)?.lastObservedAt ?? -1) + 1;
    // Every long-lived alert was last written by the same save: no result was applied in part.
    for (let k = 0; k < SAVE_WIDTH; k++) expect(alerts.alert(longLivedAlert(k, 0).id)?.lastObservedAt).toBe(saves - 1);
    // Every save left all its transitions, and one episode; none beyond the last.
    const perSave = db.prepare(`SELECT at, count(*) AS n FROM alert_transition GROUP BY at ORDER BY at`).all();
    expect(perSave).toEqual(Array.from({ length: saves }, (_, at) => ({ at, n: SAVE_WIDTH + 1 })));
    expect(db.prepare('SELECT count(*) AS n FROM alert').get()).toEqual({ n: saves === 0 ? 0 : SAVE_WIDTH + saves });
    if (saves > 0) expect(alerts.alert(episodeAlert(saves - 1).id)?.lastObservedAt).toBe(saves - 1);
    expect(alerts.history(longLivedAlert(0, 0).id).map((t) => t.reason)).toEqual(Array.from({ length: saves }, (_, n) => `save ${n}`));
    return saves;
  } finally {
    db.close();
  }
}

describe('the alerting database under kill -9', () => {
  it(
    'holds every committed save and no part of an uncommitted one, kill after kill',
    async () => {
      const file = join(dir, 'alerting.db');
      let previous = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const announced = await saveUntilKilled(file, 5 + Math.floor(Math.random() * 20));
        const saves = committedSaves(file);
        // Nothing announced as committed is lost; only a save committed but not yet announced may be added.
        expect(saves).toBeGreaterThanOrEqual(announced + 1);
        expect(saves).toBeLessThanOrEqual(announced + 2);
        expect(saves).toBeGreaterThan(previous);
        previous = saves;
      }
    },
    60_000,
  );
});
