/**
 * A child process for the kill -9 test: saves the workload of `saveLoopResult` in a loop, each save in one
 * transaction as the integrator will, and prints `saved <n>` after each commit, until it is killed or has saved
 * `max` more. It continues from what the file holds, so a test can kill and restart it on one file.
 *
 * Usage: node --import tsx alert-db-save-loop.ts <db file> <max>
 */
import { AlertDb, openAlertingDatabase } from '../alert-db.js';
import type { LifecycleResult } from '../types.js';
import { longLivedAlert, saveLoopResult } from './alert-db-fixtures.js';

const [file, max] = process.argv.slice(2);
if (!file || !max) throw new Error('usage: alert-db-save-loop.ts <db file> <max>');
const db = openAlertingDatabase(file);
const alerts = new AlertDb(db);
const save = db.transaction((result: LifecycleResult) => alerts.save(result));
const first = (alerts.alert(longLivedAlert(0, 0).id)?.lastObservedAt ?? -1) + 1;
for (let n = first; n < first + Number(max); n++) {
  save(saveLoopResult(n));
  // A pipe's stdout is written synchronously on Linux: the parent never sees `saved n` before n is committed.
  process.stdout.write(`saved ${n}\n`);
}
db.close();
