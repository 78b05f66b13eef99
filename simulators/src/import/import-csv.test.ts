import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Delimiter } from './csv-parser.js';
import { readBack, workspace, type Workspace } from './testing.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await workspace();
});
afterEach(async () => {
  await ws.remove();
});

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

describe('importCsv: file formats', () => {
  it.each<[string, Delimiter]>([
    ['comma', ','],
    ['semicolon', ';'],
    ['tab', '\t'],
  ])('reads %s-separated files, detected and given', async (name, d) => {
    const path = await ws.csv(`${name}.csv`, [`ts${d}rf_power${d}pressure`, `2026-01-05T08:00:00Z${d}1500${d}35.5`, `2026-01-05T08:00:01Z${d}1501${d}-2`].join('\n'));
    for (const delimiter of [undefined, d]) {
      const { file } = await ws.run(path, { delimiter });
      expect(file.ok, file.problem).toBe(true);
      expect(file.plan?.delimiter).toBe(d);
      const { telemetry } = await readBack(join(ws.out, `${name}.jsonl.gz`));
      expect(telemetry.map((e) => e.msg)).toEqual([
        { ts: T0, seq: 0, values: { rf_power: 1500, pressure: 35.5 } },
        { ts: T0 + 1000, seq: 1, values: { rf_power: 1501, pressure: -2 } },
      ]);
    }
  });

  it('fails a file whose given delimiter does not split it', async () => {
    const path = await ws.csv('semi.csv', 'ts;a\n0;1\n');
    const { file } = await ws.run(path, { delimiter: ',' });
    expect(file.ok).toBe(false);
    expect(file.problem).toMatch(/time column/);
  });

  it.each([
    ['ISO-8601 with Z', ['2026-01-05T08:00:00Z', '2026-01-05T08:00:00.5Z']],
    ['ISO-8601 with offset', ['2026-01-05T09:00:00+01:00', '2026-01-05T03:00:00.500-05:00']],
    ['ISO-8601 without zone (UTC)', ['2026-01-05T08:00:00', '2026-01-05T08:00:00.500']],
    ['YYYY-MM-DD hh:mm:ss', ['2026-01-05 08:00:00', '2026-01-05 08:00:00.5']],
    ['epoch seconds, fractional', [String(T0 / 1000), `${T0 / 1000}.5`]],
    ['epoch milliseconds', [String(T0), String(T0 + 500)]],
  ])('reads timestamps as %s', async (_name, times) => {
    const path = await ws.csv('t.csv', `timestamp,v\n${times[0]},1\n${times[1]},2\n`);
    const { file } = await ws.run(path);
    expect(file.ok, file.problem).toBe(true);
    const { telemetry } = await readBack(join(ws.out, 't.jsonl.gz'));
    expect(telemetry.map((e) => [e.at, e.msg.ts])).toEqual([[T0, T0], [T0 + 500, T0 + 500]]);
  });

  it.each([
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['\\r', '\r'],
  ])('reads %s line endings', async (_name, eol) => {
    const path = await ws.csv('eol.csv', ['ts,v', `${T0},1`, `${T0 + 1},2`, `${T0 + 2},3`].join(eol) + eol);
    const { file } = await ws.run(path);
    expect(file.plan?.rows).toBe(3);
    expect((await readBack(join(ws.out, 'eol.jsonl.gz'))).telemetry.map((e) => e.msg.values.v)).toEqual([1, 2, 3]);
  });

  it('reads line endings mixed in one file and still numbers rows right', async () => {
    const path = await ws.csv('mixed.csv', `ts,v\r\n${T0},1\n${T0 + 1},2\r${T0 + 2},x\r\n${T0 + 3},4`);
    const { file } = await ws.run(path);
    expect(file.plan?.rows).toBe(4);
    expect(file.plan?.errors).toEqual([{ row: 4, line: 4, message: "sensor 'v': 'x' is not a number" }]);
  });

  it('reads quoted fields with delimiters, quotes and line breaks, and numbers the rows after them', async () => {
    const text = ['ts,recipe,v', `${T0},"ETCH, ""AL""",1`, `${T0 + 1},"two\r\nlines",2`, `${T0 + 2},x,bad`].join('\n');
    const path = await ws.csv('q.csv', text);
    const { file } = await ws.run(path, { recipeColumn: 'recipe', skipBadRows: true });
    expect(file.plan?.errors).toEqual([{ row: 4, line: 5, message: "sensor 'v': 'bad' is not a number" }]);
    const { telemetry } = await readBack(join(ws.out, 'q.jsonl.gz'));
    expect(telemetry.map((e) => e.msg.context?.recipe)).toEqual(['ETCH, "AL"', 'two\r\nlines']);
  });

  it('reads decimal commas when asked', async () => {
    const path = await ws.csv('eu.csv', `ts;v\n${T0 / 1000};1,5\n`);
    const { file } = await ws.run(path, { decimalComma: true });
    expect(file.ok, file.problem).toBe(true);
    expect((await readBack(join(ws.out, 'eu.jsonl.gz'))).telemetry[0]?.msg.values).toEqual({ v: 1.5 });
  });

  it('strips a UTF-8 byte order mark from the header', async () => {
    const path = await ws.csv('bom.csv', `\uFEFFts,v\n${T0},1\n`);
    const { file } = await ws.run(path);
    expect(file.ok, file.problem).toBe(true);
  });
});

describe('importCsv: columns', () => {
  it('takes labels as 0/1, 0.0/1.0 or true/false, and the fault name', async () => {
    const path = await ws.csv('l.csv', ['ts,v,label,fault', ...['0', '1', '0.0', '1.0', 'false', 'TRUE'].map((l, i) => `${T0 + i},${i},${l},${l.startsWith('1') || l === 'TRUE' ? 'TCP +50' : ''}`)].join('\n'));
    const { file } = await ws.run(path, { labelColumn: 'label', faultColumn: 'fault' });
    expect(file.ok, file.problem).toBe(true);
    const { header, telemetry } = await readBack(join(ws.out, 'l.jsonl.gz'));
    expect(telemetry.map((e) => [e.label, e.fault])).toEqual([[0, undefined], [1, 'TCP +50'], [0, undefined], [1, 'TCP +50'], [0, undefined], [1, 'TCP +50']]);
    expect(Object.keys(telemetry[0]?.msg.values ?? {})).toEqual(['v']);
    expect(header.labels).toBe('points');
    expect(header.counts.labelled).toBe(6);
  });

  it('gives every row a constant label', async () => {
    const path = await ws.csv('c.csv', `ts,v\n${T0},1\n${T0 + 1},2\n`);
    await ws.run(path, { label: 1 });
    expect((await readBack(join(ws.out, 'c.jsonl.gz'))).telemetry.map((e) => e.label)).toEqual([1, 1]);
  });

  it('leaves out excluded and text columns and says which, and renames headers to sensor names', async () => {
    const path = await ws.csv('x.csv', `Time,index,RF Pwr,operator,notes,Pressure\n${T0},0,10,jdoe,,1\n${T0 + 1},1,11,jdoe,,2\n`);
    const { file } = await ws.run(path, { exclude: ['index'] });
    expect(file.ok, file.problem).toBe(true);
    const columns = file.plan?.columns;
    expect(columns?.sensors.map((s) => [s.column, s.name])).toEqual([['RF Pwr', 'rf_pwr'], ['Pressure', 'Pressure']]);
    expect(columns?.textColumns).toEqual([{ column: 'operator', row: 2, value: 'jdoe' }]);
    expect(columns?.emptyColumns).toEqual(['notes']);
    expect((await readBack(join(ws.out, 'x.jsonl.gz'))).telemetry[0]?.msg.values).toEqual({ rf_pwr: 10, Pressure: 1 });
  });

  it('keeps a sensor column whose first cell is bad, and reports that cell as a bad row', async () => {
    const path = await ws.csv('first.csv', `ts,v,w\n${T0},oops,1\n${T0 + 1},2,2\n`);
    const { file } = await ws.run(path);
    expect(file.plan?.columns.sensors.map((s) => s.name)).toEqual(['v', 'w']);
    expect(file.plan?.errors).toEqual([{ row: 2, line: 2, message: "sensor 'v': 'oops' is not a number" }]);
  });

  it('leaves out a text column after its first 100 cells of text, without reading the file to its end', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `${T0 + i},${i},${i < 150 ? 'jdoe' : String(i)}`);
    const path = await ws.csv('text.csv', ['ts,v,operator', ...rows].join('\n'));
    const { file } = await ws.run(path);
    expect(file.ok, file.problem).toBe(true);
    expect(file.plan?.columns.textColumns).toEqual([{ column: 'operator', row: 2, value: 'jdoe' }]);
  });

  it('fails on names it cannot find, an ambiguous time column, and sensor name collisions', async () => {
    const cases: [string, object, RegExp][] = [
      ['ts,v\n0,1\n', { exclude: ['nope'] }, /--exclude: no column 'nope'/],
      ['ts,v\n0,1\n', { labelColumn: 'lbl' }, /--label-column: no column 'lbl'/],
      ['date,time,v\n0,0,1\n', {}, /'date' and 'time' all qualify; give --time-column/],
      ['stamp,v\n0,1\n', {}, /no column is named ts, time/],
      ['ts,RF Pwr,rf_pwr\n0,1,2\n', {}, /both become sensor 'rf_pwr'/],
      ['ts,name\n0,abc\n', {}, /no sensor columns/],
    ];
    for (const [text, options, problem] of cases) {
      const { file } = await ws.run(await ws.csv('bad.csv', text), options);
      expect(file.ok).toBe(false);
      expect(file.problem).toMatch(problem);
    }
    expect(await ws.outputs()).toEqual([]);
  });

  it('maps station, recipe, step, lot and wafer, with one meta and its own seq per station', async () => {
    const text = ['ts,tool,recipe,step,lot,wafer,v', `${T0},etch-01,R1,main,L1,W1,1`, `${T0},cmp-02,R2,polish,L1,W2,5`, `${T0 + 1},etch-01,R1,over,L1,W1,3`].join('\n');
    const path = await ws.csv('s.csv', text);
    const { file } = await ws.run(path, { stationColumn: 'tool', recipeColumn: 'recipe', stepColumn: 'step', lotColumn: 'lot', waferColumn: 'wafer', line: 'fab9' });
    expect(file.ok, file.problem).toBe(true);
    const { entries, header } = await readBack(join(ws.out, 's.jsonl.gz'));
    expect(entries.slice(0, 2).map((e) => e.kind === 'meta' && [e.msg.station, e.msg.type, e.msg.order, e.msg.sensors])).toEqual([
      ['etch-01', 'etch', 0, [{ name: 'v', unit: '', min: 1, max: 3 }]],
      ['cmp-02', 'cmp', 1, [{ name: 'v', unit: '', min: 5, max: 5 }]],
    ]);
    expect(entries.slice(2).map((e) => e.kind === 'telemetry' && [e.line, e.station, e.msg.seq, e.msg.context])).toEqual([
      ['fab9', 'etch-01', 0, { recipe: 'R1', step: 'main', lot: 'L1', wafer: 'W1' }],
      ['fab9', 'cmp-02', 0, { recipe: 'R2', step: 'polish', lot: 'L1', wafer: 'W2' }],
      ['fab9', 'etch-01', 1, { recipe: 'R1', step: 'over', lot: 'L1', wafer: 'W1' }],
    ]);
    expect(header.source.kind).toBe('csv');
    expect(header.run).toBe('s');
  });

  it('refuses options that contradict each other, before reading anything', async () => {
    const path = await ws.csv('o.csv', `ts,v,label\n${T0},1,0\n`);
    await expect(ws.run(path, { label: 0, labelColumn: 'label' })).rejects.toThrow(/give --label or --label-column, not both/);
    await expect(ws.run(path, { timeColumn: 'ts', labelColumn: 'ts' })).rejects.toThrow(/column 'ts' is the time column and has another role/);
    await expect(ws.run(path, { exclude: ['label'], labelColumn: 'label' })).rejects.toThrow(/both excluded and mapped/);
    await expect(ws.run(path, { line: 'no spaces allowed' })).rejects.toThrow(/line: ids are/);
    expect(await ws.outputs()).toEqual([]);
  });

  it('uses the constant line, station, type and recipe', async () => {
    const path = await ws.csv('k.csv', `ts,v\n${T0},1\n`);
    await ws.run(path, { line: 'lam', station: 'etch-07', type: 'plasma', recipe: 'AL-1' });
    const { entries } = await readBack(join(ws.out, 'k.jsonl.gz'));
    expect(entries[0]?.kind === 'meta' && entries[0].msg).toMatchObject({ line: 'lam', station: 'etch-07', type: 'plasma' });
    expect(entries[1]?.kind === 'telemetry' && entries[1].msg.context).toEqual({ recipe: 'AL-1' });
  });
});
