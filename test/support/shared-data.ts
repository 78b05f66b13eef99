import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The real LAM 9600 etch data (`shared/data/lam9600`), which sits beside the repository, not in it. Looked for in
 * `LINEWATCH_SHARED_DATA` (the `data` folder), then `../shared/data` from the repository root, then
 * `/work/shared/data` (where it lives on this project's machines, for a clone made elsewhere). Returns undefined
 * when it is nowhere, for `describe.skipIf`; in CI (CI=true) that throws instead, so nothing is skipped there.
 */
export function lam9600Dir(): string | undefined {
  const candidates = [process.env.LINEWATCH_SHARED_DATA, path.resolve(REPO_ROOT, '../shared/data'), '/work/shared/data']
    .filter((dir): dir is string => typeof dir === 'string' && dir.length > 0)
    .map((dir) => path.join(dir, 'lam9600'));
  const found = candidates.find((dir) => existsSync(path.join(dir, 'normal.csv')));
  if (found) return found;
  const message = `needs the LAM 9600 data; looked in ${candidates.join(', ')}; set LINEWATCH_SHARED_DATA to its data folder`;
  if (process.env.CI) throw new Error(`CI must run every test, but this one ${message}`);
  console.warn(`[skipped] ${message}`);
  return undefined;
}
