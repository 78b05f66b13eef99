import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelRegistry, NOT_LOADED } from './model-registry.js';
import type { ModelContext } from './model/context.js';
import { loadOnnxModel } from './model/onnx-model.js';
import { SYNTHETIC_FEATURES, syntheticRows } from './model/synthetic.test-support.js';
import { trainPca } from './model/train.js';
import type { StationModel } from './model/types.js';

const trainedAt = new Date('2026-11-29T12:00:00Z');

/** A small real PCA model file; `seed` varies the rows so files differ. */
async function writeModel(file: string, context: ModelContext | undefined, seed = 1): Promise<void> {
  const { onnx } = trainPca(SYNTHETIC_FEATURES, syntheticRows(400, seed), { stationType: 'etch', trainedAt, ...(context ? { context } : {}) });
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, onnx);
}

describe('ModelRegistry with context models', () => {
  let dir: string;
  let now: number;
  let loads: string[];
  let registry: ModelRegistry;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linewatch-registry-'));
    now = 1_000_000;
    loads = [];
    const loadModel = (file: string): Promise<StationModel> => {
      loads.push(file);
      return loadOnnxModel(file);
    };
    registry = new ModelRegistry({ modelsDir: dir, loadModel, logger: pino({ level: 'silent' }), now: () => now });
    await writeModel(join(dir, 'etch.onnx'), undefined, 1);
    await writeModel(join(dir, 'etch', '_idle.onnx'), {}, 2);
    await writeModel(join(dir, 'etch', 'R1--main_etch.onnx'), { recipe: 'R1', step: 'main_etch' }, 3);
  });
  afterEach(async () => {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const pick = async (context: Parameters<ModelRegistry['resolve']>[2], station = 'e1') =>
    (await registry.resolve(station, 'etch', context))?.path.slice(dir.length + 1);

  it('picks the exact (recipe, step) model, else idle for a snapshot without recipe, else the fallback', async () => {
    expect(await pick({ recipe: 'R1', step: 'main_etch', lot: 'L1', wafer: 'L1-01' })).toBe(join('etch', 'R1--main_etch.onnx'));
    expect(await pick(undefined)).toBe(join('etch', '_idle.onnx'));
    expect(await pick({})).toBe(join('etch', '_idle.onnx'));
    expect(await pick({ step: 'idle' })).toBe(join('etch', '_idle.onnx'));
    expect(await pick({ recipe: 'R1', step: 'over_etch' })).toBe('etch.onnx');
    expect(await pick({ recipe: 'R2' })).toBe('etch.onnx');
    expect(await pick({ step: 'main_etch' })).toBe('etch.onnx');
    // Each file is loaded once, however many snapshots and stations use it.
    expect(await pick({ recipe: 'R1', step: 'main_etch' }, 'e2')).toBe(join('etch', 'R1--main_etch.onnx'));
    expect(loads).toHaveLength(3);
    expect(new Set(loads)).toEqual(new Set([join(dir, 'etch.onnx'), join(dir, 'etch', '_idle.onnx'), join(dir, 'etch', 'R1--main_etch.onnx')]));
  });

  it('answers synchronously once a set is loaded, and not before or when it is due for a rescan', async () => {
    expect(registry.resolveLoaded('e1', 'etch', { recipe: 'R1', step: 'main_etch' })).toBe(NOT_LOADED);
    const viaPromise = await registry.resolve('e1', 'etch', { recipe: 'R1', step: 'main_etch' });
    expect(registry.resolveLoaded('e1', 'etch', { recipe: 'R1', step: 'main_etch' })).toBe(viaPromise);
    expect(registry.resolveLoaded('e1', 'etch', {})).toMatchObject({ path: join(dir, 'etch', '_idle.onnx') });
    // A station with no set of its own and no type: known to be unmodelled.
    await registry.resolve('x1', undefined);
    expect(registry.resolveLoaded('x1', undefined)).toBeUndefined();
    now += 30_001;
    expect(registry.resolveLoaded('e1', 'etch', {})).toBe(NOT_LOADED);
  });

  it('carries a version unique per context', async () => {
    const version = async (context: Parameters<ModelRegistry['resolve']>[2]) => (await registry.resolve('e1', 'etch', context))?.model.meta.version;
    expect(await version({ recipe: 'R1', step: 'main_etch' })).toBe('etch-pca@2026-11-29T12:00:00.000Z#R1/main_etch');
    expect(await version({})).toBe('etch-pca@2026-11-29T12:00:00.000Z#idle');
    expect(await version({ recipe: 'R9', step: 'x' })).toBe('etch-pca@2026-11-29T12:00:00.000Z');
    expect((await registry.resolve('e1', 'etch', {}))?.model.meta.context).toEqual({});
  });

  it("uses a station's own set instead of its type's", async () => {
    await writeModel(join(dir, 'e7', 'R1--main_etch.onnx'), { recipe: 'R1', step: 'main_etch' }, 4);
    expect(await pick({ recipe: 'R1', step: 'main_etch' }, 'e7')).toBe(join('e7', 'R1--main_etch.onnx'));
    // The station's set has no fallback, and the type's set does not mix in.
    expect(await pick({ recipe: 'R2', step: 'x' }, 'e7')).toBeUndefined();
    expect(await pick({ recipe: 'R1', step: 'main_etch' }, 'e1')).toBe(join('etch', 'R1--main_etch.onnx'));
  });

  it('finds a context model dropped in later after the recheck interval', async () => {
    expect(await pick({ recipe: 'R1', step: 'purge' })).toBe('etch.onnx');
    await writeModel(join(dir, 'etch', 'R1--purge.onnx'), { recipe: 'R1', step: 'purge' }, 5);
    now += 10_000;
    expect(await pick({ recipe: 'R1', step: 'purge' })).toBe('etch.onnx');
    now += 25_000;
    expect(await pick({ recipe: 'R1', step: 'purge' })).toBe(join('etch', 'R1--purge.onnx'));
    expect(loads.filter((f) => f === join(dir, 'etch.onnx'))).toHaveLength(1);
  });

  it('leaves a station UNMODELLED without any model and skips a broken file', async () => {
    expect(await registry.resolve('x1', 'nosuchtype', { recipe: 'R1' })).toBeUndefined();
    await writeFile(join(dir, 'etch', 'R1--broken.onnx'), 'not onnx');
    now += 31_000;
    expect(await pick({ recipe: 'R1', step: 'main_etch' })).toBe(join('etch', 'R1--main_etch.onnx'));
  });
});
