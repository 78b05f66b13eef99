import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listRecordings } from '@linewatch/recording';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportOptionsInput } from './options.js';
import { lam9600Dir } from '../../../test/support/shared-data.js';
import { readBack, workspace, type ReadBack, type Workspace } from './testing.js';

/** The real LAM 9600 etch data, beside the repository (see test/support/shared-data.ts). */
const LAM_DIR = lam9600Dir();
const LAM = LAM_DIR ?? '';

const SENSORS = [
  'bcl3_flow', 'cl2_flow', 'rf_btm_pwr', 'rf_btm_rfl_pwr', 'endpt_a', 'he_press', 'pressure', 'rf_tuner', 'rf_load', 'rf_phase_err',
  'rf_pwr', 'rf_impedance', 'tcp_tuner', 'tcp_phase_err', 'tcp_impedance', 'tcp_top_pwr', 'tcp_rfl_pwr', 'tcp_load', 'vat_valve',
];

/** The options docs/import.md gives for both files. */
const COMMON: ImportOptionsInput = {
  runColumn: 'wafer', waferColumn: 'wafer', timeColumn: 'time', stepColumn: 'step', exclude: ['t'],
  line: 'lam9600', station: 'etch-01', type: 'etch', recipe: 'LAM9600-AL',
};

/** `wafers.csv`: each wafer's row count and fault, independent of the data files. */
async function waferTable(): Promise<Map<string, { fault: string; rows: number }>> {
  const [, ...lines] = (await readFile(join(LAM, 'wafers.csv'), 'utf8')).trim().split('\n');
  return new Map(lines.map((l) => {
    const [wafer, , , fault, rows] = l.split(',');
    return [wafer as string, { fault: fault ?? '', rows: Number(rows) }];
  }));
}

let ws: Workspace;
const imported: Record<'normal' | 'faults', ReadBack[]> = { normal: [], faults: [] };

beforeAll(async () => {
  if (!LAM_DIR) return;
  ws = await workspace();
  const runs = [
    ['normal', { ...COMMON, timeOrigin: Date.UTC(2026, 0, 5), label: 0 }],
    ['faults', { ...COMMON, timeOrigin: Date.UTC(2026, 0, 12), labelColumn: 'label', faultColumn: 'fault' }],
  ] as const;
  for (const [name, options] of runs) {
    const out = join(ws.out, name);
    const result = await ws.run(join(LAM, `${name}.csv`), { ...options, out });
    expect(result.result.ok, result.file.problem).toBe(true);
    for (const path of await listRecordings(out)) imported[name].push(await readBack(path));
  }
});
afterAll(async () => {
  if (!LAM_DIR) return;
  await ws.remove();
});

describe.skipIf(!LAM_DIR)('LAM 9600 etch data', () => {
  it('imports one recording per wafer with every row', () => {
    expect([imported.normal.length, imported.faults.length]).toEqual([108, 21]);
    const rows = (set: ReadBack[]) => set.reduce((n, r) => n + r.telemetry.length, 0);
    expect([rows(imported.normal), rows(imported.faults)]).toEqual([10663, 2039]);
  });

  it('matches wafers.csv wafer by wafer: rows, and the fault name on every faulty row', async () => {
    const wafers = await waferTable();
    for (const { header, telemetry } of [...imported.normal, ...imported.faults]) {
      const wafer = wafers.get(header.run ?? '');
      expect(wafer, header.run).toBeDefined();
      expect(telemetry.length, header.run).toBe(wafer?.rows);
      const faulty = header.run?.startsWith('f') ?? false;
      expect(new Set(telemetry.map((e) => `${e.label}:${e.fault ?? ''}`)), header.run).toEqual(new Set([faulty ? `1:${wafer?.fault}` : '0:']));
      expect(new Set(telemetry.map((e) => e.msg.context?.wafer))).toEqual(new Set([header.run]));
    }
  });

  it('has the 19 sensors and nothing else as values, with a meta message first that covers them', () => {
    for (const { header, entries, telemetry } of [...imported.normal, ...imported.faults]) {
      expect(header.stations).toEqual([{ line: 'lam9600', station: 'etch-01', type: 'etch', sensors: SENSORS, telemetry: telemetry.length }]);
      const meta = entries[0];
      expect(meta?.kind).toBe('meta');
      if (meta?.kind !== 'meta') continue;
      expect(meta.msg.sensors.map((s) => s.name)).toEqual(SENSORS);
      for (const { name, min, max } of meta.msg.sensors) {
        const values = telemetry.map((e) => e.msg.values[name] as number);
        expect([min, max]).toEqual([Math.min(...values), Math.max(...values)]);
      }
      expect(Object.keys(telemetry[0]?.msg.values ?? {})).toEqual(SENSORS);
      expect(new Set(telemetry.map((e) => e.msg.context?.step))).toSatisfy((steps: Set<string>) => [...steps].every((s) => s === '4' || s === '5'));
    }
  });

  it('lays the wafers out one after another in time, each in its own order, with seq from 0', () => {
    for (const set of [imported.normal, imported.faults]) {
      let previousEnd = 0;
      for (const { header, telemetry } of set) {
        expect(header.start, header.run).toBeGreaterThan(previousEnd);
        expect(telemetry.map((e) => e.msg.seq)).toEqual(telemetry.map((_, i) => i));
        previousEnd = header.end;
      }
    }
    expect(imported.normal[0]?.header.start).toBe(Date.UTC(2026, 0, 5) + 11_946);
    expect(imported.faults[0]?.header.start).toBe(Date.UTC(2026, 0, 12) + 9_178);
  });
});
