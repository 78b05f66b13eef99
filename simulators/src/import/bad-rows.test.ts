import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RowError } from './rows.js';
import { readBack, workspace, type Workspace } from './testing.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await workspace();
});
afterEach(async () => {
  await ws.remove();
});

/** Rows 2-8; rows 3, 5, 6 and 7 are bad in one way each. */
const MIXED = [
  'ts,v,w,label',
  '2026-01-05T00:00:00Z,1,2,0',
  '2026-01-05T00:00:01Z,1,2',
  '2026-01-05T00:00:02Z,3,4,1',
  '2026-01-05T00:00:03Z,abc,4,1',
  'yesterday,5,6,0',
  '2026-01-05T00:00:05Z,7,8,maybe',
  '2026-01-05T00:00:06Z,9,10,true',
].join('\n');

const EXPECTED_ERRORS: RowError[] = [
  { row: 3, line: 3, message: '3 fields, the header has 4' },
  { row: 5, line: 5, message: "sensor 'v': 'abc' is not a number" },
  { row: 6, line: 6, message: "time 'yesterday' is not ISO-8601, 'YYYY-MM-DD hh:mm:ss' or a number" },
  { row: 7, line: 7, message: "label 'maybe' is not 0, 1, 0.0, 1.0, true or false" },
];

describe('importCsv: bad rows', () => {
  it('fails a file with bad rows by default, naming each row, and writes nothing', async () => {
    const path = await ws.csv('mixed.csv', MIXED);
    const seen: RowError[] = [];
    const { file, result } = await ws.run(path, { labelColumn: 'label' }, { onBadRow: (_path, error) => seen.push(error) });
    expect(result.ok).toBe(false);
    expect(file.problem).toBe('4 bad rows; nothing written (--skip-bad-rows writes the good ones)');
    expect(file.plan?.errors).toEqual(EXPECTED_ERRORS);
    expect(seen).toEqual(EXPECTED_ERRORS);
    expect(await ws.outputs()).toEqual([]);
  });

  it('writes the good rows with --skip-bad-rows and counts the bad ones', async () => {
    const path = await ws.csv('mixed.csv', MIXED);
    const { file } = await ws.run(path, { labelColumn: 'label', skipBadRows: true });
    expect(file.ok, file.problem).toBe(true);
    expect(file.plan?.badRows).toBe(4);
    expect(file.recordings[0]?.run.skipped).toBe(4);
    const { telemetry } = await readBack(join(ws.out, 'mixed.jsonl.gz'));
    expect(telemetry.map((e) => [e.msg.seq, e.msg.values.v, e.label])).toEqual([[0, 1, 0], [1, 3, 1], [2, 9, 1]]);
  });

  it('lists the first 20 bad rows and counts them all', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},${i % 3 === 0 ? 'x' : i}`);
    const path = await ws.csv('many.csv', ['ts,v', ...rows].join('\n'));
    const { file } = await ws.run(path);
    expect(file.plan?.badRows).toBe(10);
    expect(file.plan?.errors.map((e) => e.row)).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
    const many = await ws.csv('more.csv', ['ts,v', ...Array.from({ length: 30 }, (_, i) => `t${i},1`)].join('\n'));
    const more = await ws.run(many);
    expect(more.file.plan?.badRows).toBe(30);
    expect(more.file.plan?.errors).toHaveLength(20);
    expect(more.file.plan?.errors.at(-1)?.row).toBe(21);
  });

  it('names every problem of one row', async () => {
    const path = await ws.csv('multi.csv', 'ts,a,b,label\n0,1,2,0\nnever,x,,2\n');
    const { file } = await ws.run(path, { labelColumn: 'label' });
    expect(file.plan?.errors[0]?.message).toBe(
      "time 'never' is not ISO-8601, 'YYYY-MM-DD hh:mm:ss' or a number; label '2' is not 0, 1, 0.0, 1.0, true or false; sensor 'a': 'x' is not a number; and 1 more",
    );
  });

  it('refuses an empty sensor cell unless --allow-missing, which leaves the sensor out and counts it', async () => {
    const path = await ws.csv('gap.csv', 'ts,a,b\n0,1,2\n1,,4\n2,,\n');
    const strict = await ws.run(path);
    expect(strict.file.plan?.errors.map((e) => [e.row, e.message])).toEqual([[3, "sensor 'a' is empty"], [4, "sensor 'a' is empty; sensor 'b' is empty"]]);
    const lenient = await ws.run(path, { allowMissing: true, skipBadRows: true });
    expect(lenient.file.plan?.errors.map((e) => [e.row, e.message])).toEqual([[4, 'every sensor cell is empty']]);
    expect(lenient.file.recordings[0]?.run.missing).toBe(1);
    const { telemetry } = await readBack(join(ws.out, 'gap.jsonl.gz'));
    expect(telemetry.map((e) => e.msg.values)).toEqual([{ a: 1, b: 2 }, { b: 4 }]);
  });

  it('reports broken quoting and bad station ids as bad rows', async () => {
    const path = await ws.csv('q.csv', 'ts,station,v\n0,etch-01,1\n1,"etch"x,2\n2,etch 01,3\n');
    const { file } = await ws.run(path, { stationColumn: 'station' });
    expect(file.plan?.errors.map((e) => [e.row, e.message])).toEqual([
      [3, 'text after a closing quote in field 2'],
      [4, "station 'etch 01' is not an id (1-64 of A-Z a-z 0-9 _ . -, starting alphanumeric)"],
    ]);
  });

  it('counts a bad row toward the run its run cell names, and reports a run without good rows', async () => {
    const path = await ws.csv('r.csv', 'ts,wafer,v\n0,a,1\n1,b,x\n2,b,y\n3,c,3\n');
    const { file } = await ws.run(path, { runColumn: 'wafer', skipBadRows: true });
    expect(file.plan?.runs.map((r) => [r.id, r.rows, r.skipped])).toEqual([['a', 1, 0], ['b', 0, 2], ['c', 1, 0]]);
    expect(await ws.outputs()).toEqual(['r-a.jsonl.gz', 'r-c.jsonl.gz']);
  });

  it('fails a file without one good row even with --skip-bad-rows', async () => {
    const path = await ws.csv('none.csv', 'ts,v\nnow,1\n');
    const { file } = await ws.run(path, { skipBadRows: true });
    expect(file.problem).toBe('no good rows; nothing written');
  });

  it('fails a file that is not UTF-8', async () => {
    const path = await ws.csv('latin1.csv', '');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, Buffer.from([0x74, 0x73, 0x2c, 0x76, 0xe9, 0x0a, 0x30, 0x2c, 0x31, 0x0a])));
    const { file } = await ws.run(path);
    expect(file.problem).toMatch(/not UTF-8 text/);
  });
});
