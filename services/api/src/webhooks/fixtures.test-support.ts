import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino, { type Logger } from 'pino';
import type { Alert, Notification, NotificationKind, Subscription } from '../alerts/types.js';
import { newSecret } from './signature.js';

export const T0 = Date.UTC(2025, 10, 29, 6, 0, 0);

export function alert(patch: Partial<Alert> = {}): Alert {
  const line = patch.line ?? 'fab1';
  const station = patch.station ?? 'etch-01';
  const source = patch.source ?? 'model';
  const startedAt = patch.startedAt ?? T0;
  return {
    id: `${line}/${station}/${source}/${startedAt}`,
    line,
    station,
    source,
    class: 'process',
    state: 'firing',
    severity: 'warning',
    startedAt,
    firingAt: startedAt + 30_000,
    resolvedAt: null,
    lastObservedAt: startedAt + 30_000,
    clearSince: null,
    flapping: false,
    muted: false,
    ack: null,
    score: 3.2,
    threshold: 1,
    modelVersion: 'etch@3',
    contributors: [
      { sensor: 'chamber_pressure', value: 41.2, expected: 38, contribution: 0.18 },
      { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 },
    ],
    equipmentState: 'PRODUCTIVE',
    replay: false,
    ...patch,
  };
}

export function notification(kind: NotificationKind, a: Alert = alert()): Notification {
  const at = kind === 'resolved' ? (a.resolvedAt ?? a.lastObservedAt) : (a.firingAt ?? a.startedAt);
  return { id: `${a.id}/${kind}/${a.severity}`, kind, alert: a, at };
}

/** The i-th of a run of distinct alerts on one station, each with its own episode. */
export function nthNotification(i: number, kind: NotificationKind = 'firing'): Notification {
  return notification(kind, alert({ startedAt: T0 + i * 60_000, ...(kind === 'resolved' ? { state: 'resolved', resolvedAt: T0 + i * 60_000 + 50_000 } : {}) }));
}

export function subscription(patch: Partial<Subscription> = {}): Subscription {
  return {
    id: 'sub-mes',
    url: 'http://127.0.0.1:9/hook',
    filter: { lines: [], stations: [], severities: [], classes: [] },
    includeReplay: false,
    header: { name: 'x-api-key', value: 'receiver-api-key-not-for-logs' },
    secrets: [newSecret()],
    createdAt: T0,
    ...patch,
  };
}

/** A SQLite file in a fresh temp dir, in WAL mode as the API opens it; `reopen` is the next process. */
export function tempDatabase(prefix: string): { file: string; open: () => Database.Database; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(dir, 'linewatch.db');
  const open = (): Database.Database => {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return db;
  };
  return { file, open, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A debug-level logger whose lines are kept, so tests can search them for secrets. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** Polls `done` every 10 ms until it holds or `timeoutMs` passes; throws then, so a stuck test says what it waited for. */
export async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
