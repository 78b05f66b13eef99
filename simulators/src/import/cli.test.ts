import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from './testing.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** Runs the CLI as `npm run import` does (through tsx); never throws, returns the exit code and output. */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { timeout: 15_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let ws: Workspace;
beforeEach(async () => {
  ws = await workspace();
});
afterEach(async () => {
  await ws.remove();
});

describe('npm run import', () => {
  it('prints a summary per recording and exits 0', async () => {
    const path = await ws.csv('w.csv', 'wafer,time,v,label\na,1,1,0\na,2,2,1\nb,1,3,false\n');
    const { code, stdout } = await runCli([path, '--run-column', 'wafer', '--time-origin', '2026-01-05T00:00:00Z', '--label-column', 'label', '--out', ws.out]);
    expect(code).toBe(0);
    expect(stdout).toContain("w.csv: 3 rows, 0 bad rows, 0 blank lines, delimiter ','");
    expect(stdout).toMatch(/w-a\.jsonl\.gz: 2 rows, 1 station, 1 sensor, 2026-01-05T00:00:01\.000Z … 2026-01-05T00:00:02\.000Z, labelled 2 \(faulty 1\), skipped 0/);
    expect(stdout).toMatch(/w-b\.jsonl\.gz: 1 row, .* 2026-01-05T00:01:03\.000Z/);
    expect(stdout).toMatch(/total: 2 recordings, 3 rows written, 0 skipped/);
    expect(await ws.outputs()).toEqual(['w-a.jsonl.gz', 'w-b.jsonl.gz']);
  }, 30_000);

  it('exits 1 and lists the bad rows of a failed file; prints each one with --skip-bad-rows', async () => {
    const path = await ws.csv('bad.csv', 'ts,v\n0,1\n1,x\n2\n');
    const failed = await runCli([path, '--out', ws.out]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('FAILED: 2 bad rows; nothing written');
    expect(failed.stdout).toContain("bad.csv row 3: sensor 'v': 'x' is not a number");
    expect(failed.stdout).toContain('bad.csv row 4: 1 field, the header has 2');
    expect(failed.stderr).toContain('import: 1 of 1 file failed');
    expect(await ws.outputs()).toEqual([]);
    const skipped = await runCli([path, '--out', ws.out, '--skip-bad-rows']);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain("bad.csv row 3: sensor 'v': 'x' is not a number");
    expect(skipped.stdout).toMatch(/1 row written, 2 skipped/);
  }, 30_000);

  it('exits 1 on a bad flag', async () => {
    const { code, stderr } = await runCli(['x.csv', '--label', 'maybe']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/--label/);
  }, 30_000);
});
