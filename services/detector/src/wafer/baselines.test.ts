import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BaselineStore, meanIndicators, type Baseline } from './baselines.js';
import { indicatorVector } from './indicators.js';

const MAIN = { recipe: 'ETCH-01', step: 'main_etch' };
const OVER = { recipe: 'ETCH-01', step: 'over_etch' };

function baseline(id: string, context: Baseline['context'], rf: number): Baseline {
  return { id, context, at: 1_764_400_000_000, wafers: ['W01', 'W02'], indicators: { rf_power__mean: rf, rf_power__std: 2, step__duration: 30 } };
}

/** A station file as another process (`npm run baseline`) would leave it, with an mtime of our choosing. */
async function writeStationFile(path: string, baselines: Baseline[], mtimeSec: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify({ line: 'fab1', station: 'etch-01', baselines }));
  // Set explicitly: two writes within one timestamp tick would otherwise look unchanged on a coarse filesystem.
  await utimes(path, mtimeSec, mtimeSec);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linewatch-baselines-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('BaselineStore', () => {
  it('sets baselines and gets them back by context, one file per station', async () => {
    const store = new BaselineStore(dir);
    const file = await store.set('fab1', 'etch-01', [baseline('cmd-1', MAIN, 1500), baseline('cmd-1', OVER, 900)]);
    expect(file).toBe(join(dir, 'fab1', 'etch-01.json'));
    expect(await store.get('fab1', 'etch-01', MAIN)).toEqual(baseline('cmd-1', MAIN, 1500));
    expect(await store.get('fab1', 'etch-01', OVER)).toEqual(baseline('cmd-1', OVER, 900));
    expect(await store.get('fab1', 'etch-01', { recipe: 'ETCH-01' })).toBeUndefined();
    expect(await store.get('fab1', 'etch-02', MAIN)).toBeUndefined();

    // A later set replaces that context only.
    await store.set('fab1', 'etch-01', [baseline('cmd-2', MAIN, 1510)]);
    expect((await store.get('fab1', 'etch-01', MAIN))?.id).toBe('cmd-2');
    expect((await store.get('fab1', 'etch-01', OVER))?.id).toBe('cmd-1');

    // Written whole (no temp file left over), sorted by context, ending in a newline.
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({ line: 'fab1', station: 'etch-01', baselines: [baseline('cmd-2', MAIN, 1510), baseline('cmd-1', OVER, 900)] });
    expect(await readdir(join(dir, 'fab1'))).toEqual(['etch-01.json']);
  });

  it('lets another store (another process) read and extend what one wrote', async () => {
    await new BaselineStore(dir).set('fab1', 'etch-01', [baseline('cmd-1', MAIN, 1500)]);
    const other = new BaselineStore(dir);
    expect(await other.get('fab1', 'etch-01', MAIN)).toEqual(baseline('cmd-1', MAIN, 1500));
    await other.set('fab1', 'etch-01', [baseline('cli@1', OVER, 900)]);
    const third = new BaselineStore(dir);
    expect((await third.get('fab1', 'etch-01', MAIN))?.id).toBe('cmd-1');
    expect((await third.get('fab1', 'etch-01', OVER))?.id).toBe('cli@1');
  });

  it('picks up a file changed on disk once the recheck interval has passed', async () => {
    let now = 1_000_000;
    const store = new BaselineStore(dir, () => now);
    const file = store.file('fab1', 'etch-01');
    expect(await store.get('fab1', 'etch-01', MAIN)).toBeUndefined();

    // Written by another process while this one holds "no file" in its cache.
    await writeStationFile(file, [baseline('cli@1', MAIN, 1500)], 1_800_000_000);
    now += 4_999;
    expect(await store.get('fab1', 'etch-01', MAIN)).toBeUndefined();
    now += 1;
    expect((await store.get('fab1', 'etch-01', MAIN))?.id).toBe('cli@1');

    // Changed again: the cached copy stands until the next recheck.
    await writeStationFile(file, [baseline('cli@2', MAIN, 1490)], 1_800_000_100);
    now += 2_000;
    expect((await store.get('fab1', 'etch-01', MAIN))?.id).toBe('cli@1');
    now += 3_000;
    expect(await store.get('fab1', 'etch-01', MAIN)).toEqual(baseline('cli@2', MAIN, 1490));
  });

  it('names the file when it is not valid JSON or not a baseline file, and reads it once fixed', async () => {
    const store = new BaselineStore(dir);
    const file = store.file('fab1', 'etch-01');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, '{"line": "fab1", "station": ');
    const broken = store.get('fab1', 'etch-01', MAIN);
    await expect(broken).rejects.toThrow(Error);
    await expect(broken).rejects.toThrow(`baseline file ${file} is not valid`);

    await writeFile(file, JSON.stringify({ line: 'fab1', station: 'etch-01', baselines: [{ id: 'x', context: MAIN }] }));
    await expect(store.get('fab1', 'etch-01', MAIN)).rejects.toThrow(`baseline file ${file} is not valid`);

    // A failed read is not cached: the fixed file is read on the next call.
    await writeStationFile(file, [baseline('cli@3', MAIN, 1500)], 1_800_000_200);
    expect((await store.get('fab1', 'etch-01', MAIN))?.id).toBe('cli@3');
  });

  it('lets two processes set baselines of one station at the same time', async () => {
    // The detector (after a re-baseline command) and `npm run baseline` write the same station file. Each write
    // must succeed and leave a valid file; which one's other contexts survive is last-writer-wins.
    const detector = new BaselineStore(dir);
    const cli = new BaselineStore(dir);
    const results = await Promise.allSettled([
      detector.set('fab1', 'etch-01', [baseline('cmd-1', MAIN, 1500)]),
      cli.set('fab1', 'etch-01', [baseline('cli@1', OVER, 900)]),
    ]);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok']);
    const body = JSON.parse(await readFile(detector.file('fab1', 'etch-01'), 'utf8')) as { baselines: Baseline[] };
    expect(body.baselines.length).toBeGreaterThanOrEqual(1);
  });
});

describe('indicatorVector of a baseline', () => {
  it('orders the indicators as the model\'s features', () => {
    expect(indicatorVector(baseline('b', MAIN, 1500).indicators, ['step__duration', 'rf_power__mean'])).toEqual(Float64Array.from([30, 1500]));
  });

  it('reports the first indicator the baseline lacks', () => {
    expect(indicatorVector(baseline('b', MAIN, 1500).indicators, ['rf_power__mean', 'gas_flow__mean', 'temp__std'])).toEqual({ missing: 'gas_flow__mean' });
  });
});

describe('meanIndicators', () => {
  it('averages every indicator all steps share and drops the rest', () => {
    const steps = [
      { indicators: new Map([['a__mean', 1], ['b__mean', 10], ['step__duration', 30]]) },
      { indicators: new Map([['a__mean', 2], ['step__duration', 33]]) },
      { indicators: new Map([['a__mean', 6], ['b__mean', 20], ['step__duration', 30]]) },
    ];
    expect(meanIndicators(steps)).toEqual({ a__mean: 3, step__duration: 31 });
  });

  it('keeps large readings exact enough', () => {
    const steps = [16000.01, 16000.02, 16000.03].map((v) => ({ indicators: new Map([['t__mean', v]]) }));
    expect(meanIndicators(steps).t__mean).toBeCloseTo(16000.02, 9);
  });

  it('gives nothing for no steps', () => {
    expect(meanIndicators([])).toEqual({});
  });
});
