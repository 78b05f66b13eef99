import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBack, workspace, type Workspace } from './testing.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await workspace();
});
afterEach(async () => {
  await ws.remove();
});

const ORIGIN = Date.UTC(2026, 0, 5);
/** Two wafers with relative times, as the LAM 9600 data has them. */
const WAFERS = ['wafer,time,step,v', 'n001,9.5,4,1', 'n001,10.5,4,3', 'n001,11.5,5,2', 'n002,10,4,7', 'n002,11,5,8'].join('\n');

describe('importCsv: runs', () => {
  it('splits a file into one recording per run, each with its own meta, seq and header run', async () => {
    const path = await ws.csv('lam.csv', WAFERS);
    const { file } = await ws.run(path, { runColumn: 'wafer', waferColumn: 'wafer', stepColumn: 'step', timeOrigin: ORIGIN, runGapS: 60 });
    expect(file.ok, file.problem).toBe(true);
    expect(await ws.outputs()).toEqual(['lam-n001.jsonl.gz', 'lam-n002.jsonl.gz']);
    const first = await readBack(join(ws.out, 'lam-n001.jsonl.gz'));
    const second = await readBack(join(ws.out, 'lam-n002.jsonl.gz'));
    expect(first.header.run).toBe('n001');
    expect(second.header.run).toBe('n002');
    expect(first.entries[0]?.kind === 'meta' && first.entries[0].msg.sensors).toEqual([{ name: 'v', unit: '', min: 1, max: 3 }]);
    expect(second.entries[0]?.kind === 'meta' && second.entries[0].msg.sensors).toEqual([{ name: 'v', unit: '', min: 7, max: 8 }]);
    expect(first.telemetry.map((e) => [e.msg.seq, e.msg.context])).toEqual([
      [0, { step: '4', wafer: 'n001' }], [1, { step: '4', wafer: 'n001' }], [2, { step: '5', wafer: 'n001' }],
    ]);
    expect(second.telemetry.map((e) => e.msg.seq)).toEqual([0, 1]);
    // Run 1 lands on the origin; run 2's time 0 is 60 s after run 1's last sample (11.5 s), so they never overlap.
    expect(first.telemetry.map((e) => e.msg.ts)).toEqual([ORIGIN + 9_500, ORIGIN + 10_500, ORIGIN + 11_500]);
    expect(second.telemetry.map((e) => e.msg.ts)).toEqual([ORIGIN + 71_500 + 10_000, ORIGIN + 71_500 + 11_000]);
    expect(second.entries[0]?.at).toBe(ORIGIN + 81_500);
  });

  it('fails a file where a run comes back after another, naming the row, and writes nothing', async () => {
    const path = await ws.csv('split.csv', `${WAFERS}\nn001,12,5,4\n`);
    const { file } = await ws.run(path, { runColumn: 'wafer', timeOrigin: ORIGIN });
    expect(file.ok).toBe(false);
    expect(file.problem).toBe("row 7: run 'n001' appears again after run 'n002'; the rows of a run must be contiguous (sort the file by the run column)");
    expect(await ws.outputs()).toEqual([]);
  });

  it('makes run ids safe in file names and refuses two runs with the same file name', async () => {
    const ok = await ws.csv('a.csv', `ts,lot,v\n0,L 1/A,1\n`);
    await ws.run(ok, { runColumn: 'lot' });
    expect(await ws.outputs()).toEqual(['a-L_1_A.jsonl.gz']);
    const clash = await ws.csv('b.csv', `ts,lot,v\n0,L 1,1\n1,L/1,2\n`);
    const { file } = await ws.run(clash, { runColumn: 'lot' });
    expect(file.problem).toMatch(/runs 'L 1' and 'L\/1' both write b-L_1.jsonl.gz/);
  });

  it('keeps rows that go back in time in file order, and counts them and repeated times', async () => {
    const path = await ws.csv('o.csv', 'ts,v\n10,1\n12,2\n11,3\n11,4\n13,5\n');
    const { file } = await ws.run(path);
    const run = file.recordings[0]?.run;
    expect([run?.outOfOrder, run?.repeatedTimes]).toEqual([1, 1]);
    expect((await readBack(join(ws.out, 'o.jsonl.gz'))).telemetry.map((e) => e.msg.values.v)).toEqual([1, 2, 3, 4, 5]);
  });

  it('writes byte-identical recordings when the same CSV is imported twice', async () => {
    const path = await ws.csv('same.csv', WAFERS);
    const options = { runColumn: 'wafer', timeOrigin: ORIGIN };
    await ws.run(path, options);
    const before = await readFile(join(ws.out, 'same-n002.jsonl.gz'));
    await ws.run(path, options);
    expect((await readFile(join(ws.out, 'same-n002.jsonl.gz'))).equals(before)).toBe(true);
    expect((await readBack(join(ws.out, 'same-n002.jsonl.gz'))).header.createdAt).toBe(0);
  });
});

describe('importCsv: a folder', () => {
  it('imports every CSV of a folder into one recording each, laid out one after another', async () => {
    const folder = join(ws.dir, 'runs');
    await mkdir(folder);
    await writeFile(join(folder, 'w2.csv'), 'time,v\n1,5\n2,6\n');
    await writeFile(join(folder, 'w1.csv'), 'time,v\n1,1\n3,2\n');
    await writeFile(join(folder, 'readme.md'), 'not data');
    const { result } = await ws.run(folder, { timeOrigin: ORIGIN, runGapS: 10 });
    expect(result.ok).toBe(true);
    expect(result.files.map((f) => f.path)).toEqual([join(folder, 'w1.csv'), join(folder, 'w2.csv')]);
    expect(await ws.outputs()).toEqual(['w1.jsonl.gz', 'w2.jsonl.gz']);
    const w2 = await readBack(join(ws.out, 'w2.jsonl.gz'));
    expect(w2.header.run).toBe('w2');
    expect(w2.telemetry.map((e) => e.msg.ts)).toEqual([ORIGIN + 13_000 + 1_000, ORIGIN + 13_000 + 2_000]);
  });

  it('fails one bad file of a folder without stopping the others', async () => {
    const folder = join(ws.dir, 'runs');
    await mkdir(folder);
    await writeFile(join(folder, 'bad.csv'), 'ts,v\n0,x\n');
    await writeFile(join(folder, 'good.csv'), 'ts,v\n0,1\n');
    const { result } = await ws.run(folder);
    expect(result.ok).toBe(false);
    expect(result.files.map((f) => f.ok)).toEqual([false, true]);
    expect(await ws.outputs()).toEqual(['good.jsonl.gz']);
  });

  it('refuses a folder without CSV files and an input that is not there', async () => {
    const folder = join(ws.dir, 'empty');
    await mkdir(folder);
    await expect(ws.run(folder)).rejects.toThrow(/no .csv, .tsv or .txt files/);
    await expect(ws.run(join(ws.dir, 'missing.csv'))).rejects.toThrow(/no such file or folder/);
  });
});
