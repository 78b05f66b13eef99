import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelMetadata } from '@linewatch/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../../../test/support/until.js';
import { DetectorMetrics } from './metrics.js';
import { ModelRegistry, NOT_LOADED } from './model-registry.js';
import type { ModelContext } from './model/context.js';
import { loadOnnxModel } from './model/onnx-model.js';
import { onnx } from './model/onnx-proto.js';
import { SYNTHETIC_FEATURES, syntheticRows } from './model/synthetic.test-support.js';
import { trainPca } from './model/train.js';
import type { ScoredRow, StationModel } from './model/types.js';
import { Scorer } from './scorer.js';

const trainedAt = new Date('2026-11-29T12:00:00Z');

/** A small real PCA model file, written with an atomic rename like `writeModelSet`; `seed` varies the rows so files differ. */
async function writeModel(file: string, context: ModelContext | undefined, seed = 1, at = trainedAt): Promise<void> {
  const trained = trainPca(SYNTHETIC_FEATURES, syntheticRows(400, seed), { stationType: 'etch', trainedAt: at, ...(context ? { context } : {}) });
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(`${file}.tmp`, trained.onnx);
  await rename(`${file}.tmp`, file);
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ModelRegistry with context models', () => {
  let dir: string;
  let loads: string[];
  /** Versions whose onnxruntime session was released, in order. */
  let released: string[];
  let registry: ModelRegistry;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linewatch-registry-'));
    loads = [];
    released = [];
    const loadModel = async (file: string): Promise<StationModel> => {
      loads.push(file);
      const model = await loadOnnxModel(file);
      return {
        meta: model.meta,
        score: (rows, n) => model.score(rows, n),
        release: async () => {
          released.push(model.meta.version);
          await model.release();
        },
      };
    };
    registry = new ModelRegistry({ modelsDir: dir, loadModel, logger: pino({ level: 'silent' }), reloadIntervalMs: 0 });
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
  const version = async (context: Parameters<ModelRegistry['resolve']>[2]) => (await registry.resolve('e1', 'etch', context))?.model.meta.version;

  it('picks the exact (recipe, step) model, else idle for a snapshot without recipe, else the fallback', async () => {
    expect(await pick({ recipe: 'R1', step: 'main_etch', lot: 'L1', wafer: 'L1-01' })).toBe(join('etch', 'R1--main_etch.onnx'));
    expect(await pick(undefined)).toBe(join('etch', '_idle.onnx'));
    expect(await pick({})).toBe(join('etch', '_idle.onnx'));
    expect(await pick({ step: 'idle' })).toBe(join('etch', '_idle.onnx'));
    expect(await pick({ recipe: 'R1', step: 'over_etch' })).toBe('etch.onnx');
    expect(await pick({ recipe: 'R2' })).toBe('etch.onnx');
    expect(await pick({ step: 'main_etch' })).toBe('etch.onnx');
    // Each file is loaded once, however many snapshots and stations use it, and a check with no change loads nothing.
    expect(await pick({ recipe: 'R1', step: 'main_etch' }, 'e2')).toBe(join('etch', 'R1--main_etch.onnx'));
    await registry.refresh();
    expect(loads).toHaveLength(3);
    expect(new Set(loads)).toEqual(new Set([join(dir, 'etch.onnx'), join(dir, 'etch', '_idle.onnx'), join(dir, 'etch', 'R1--main_etch.onnx')]));
    expect(registry.counts).toEqual({ loaded: 3, reloaded: 0, failed: 0, removed: 0 });
  });

  it('answers synchronously once a set is loaded, and not before', async () => {
    expect(registry.resolveLoaded('e1', 'etch', { recipe: 'R1', step: 'main_etch' })).toBe(NOT_LOADED);
    const viaPromise = await registry.resolve('e1', 'etch', { recipe: 'R1', step: 'main_etch' });
    expect(registry.resolveLoaded('e1', 'etch', { recipe: 'R1', step: 'main_etch' })).toBe(viaPromise);
    expect(registry.resolveLoaded('e1', 'etch', {})).toMatchObject({ path: join(dir, 'etch', '_idle.onnx') });
    // A station with no set of its own and no type: known to be unmodelled.
    await registry.resolve('x1', undefined);
    expect(registry.resolveLoaded('x1', undefined)).toBeUndefined();
    // Checking the folder again does not make a loaded set unanswerable.
    await registry.refresh();
    expect(registry.resolveLoaded('e1', 'etch', { recipe: 'R1', step: 'main_etch' })).toBe(viaPromise);
  });

  it('start() loads every set in the folder and counts its models', async () => {
    await writeModel(join(dir, 'cmp.onnx'), undefined, 6);
    expect(await registry.start()).toBe(4);
    expect(loads).toHaveLength(4);
    expect(await registry.resolve('c1', 'cmp')).toMatchObject({ path: join(dir, 'cmp.onnx') });
    expect(loads).toHaveLength(4);
  });

  it('carries a version unique per context', async () => {
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

  it('picks up a context model and a station set dropped in later on the next check', async () => {
    expect(await pick({ recipe: 'R1', step: 'purge' })).toBe('etch.onnx');
    expect(await pick({ recipe: 'R1', step: 'purge' }, 'e9')).toBe('etch.onnx');
    await writeModel(join(dir, 'etch', 'R1--purge.onnx'), { recipe: 'R1', step: 'purge' }, 5);
    await writeModel(join(dir, 'e9.onnx'), undefined, 7);
    expect(await pick({ recipe: 'R1', step: 'purge' })).toBe('etch.onnx');
    await registry.refresh();
    expect(registry.resolveLoaded('e1', 'etch', { recipe: 'R1', step: 'purge' })).toMatchObject({ path: join(dir, 'etch', 'R1--purge.onnx') });
    expect(registry.resolveLoaded('e9', 'etch', { recipe: 'R1', step: 'purge' })).toMatchObject({ path: join(dir, 'e9.onnx') });
    expect(loads.filter((f) => f === join(dir, 'etch.onnx'))).toHaveLength(1);
  });

  it('leaves a station UNMODELLED without any model and skips a broken file', async () => {
    expect(await registry.resolve('x1', 'nosuchtype', { recipe: 'R1' })).toBeUndefined();
    await writeFile(join(dir, 'etch', 'R1--broken.onnx'), 'not onnx');
    await registry.refresh();
    expect(await pick({ recipe: 'R1', step: 'main_etch' })).toBe(join('etch', 'R1--main_etch.onnx'));
    expect(registry.counts.failed).toBe(1);
    // The same broken file is not tried again on every check.
    await registry.refresh();
    expect(loads.filter((f) => f.endsWith('R1--broken.onnx'))).toHaveLength(1);
  });

  it('reloads a replaced file, swaps it in for new lookups and releases the old session', async () => {
    const before = await registry.resolve('e1', 'etch', { recipe: 'R1', step: 'main_etch' });
    expect(before?.model.meta.version).toBe('etch-pca@2026-11-29T12:00:00.000Z#R1/main_etch');
    await writeModel(join(dir, 'etch', 'R1--main_etch.onnx'), { recipe: 'R1', step: 'main_etch' }, 8, new Date('2026-12-01T00:00:00Z'));
    await registry.refresh();
    const after = registry.resolveLoaded('e1', 'etch', { recipe: 'R1', step: 'main_etch' });
    expect(after).not.toBe(NOT_LOADED);
    expect(after && after !== NOT_LOADED ? after.model.meta.version : undefined).toBe('etch-pca@2026-12-01T00:00:00.000Z#R1/main_etch');
    // The other files of the set were not touched.
    expect(await version({})).toBe('etch-pca@2026-11-29T12:00:00.000Z#idle');
    expect(registry.counts).toEqual({ loaded: 4, reloaded: 1, failed: 0, removed: 0 });
    await until('old session released', () => released.includes('etch-pca@2026-11-29T12:00:00.000Z#R1/main_etch'));
    expect(released).toEqual(['etch-pca@2026-11-29T12:00:00.000Z#R1/main_etch']);
  });

  it('keeps the working model when its replacement is broken, and takes the next good one', async () => {
    const file = join(dir, 'etch.onnx');
    await pick({ recipe: 'R9' });
    await writeFile(`${file}.tmp`, 'half a model');
    await rename(`${file}.tmp`, file);
    await registry.refresh();
    expect(await version({ recipe: 'R9' })).toBe('etch-pca@2026-11-29T12:00:00.000Z');
    expect(registry.counts.failed).toBe(1);
    expect(released).toEqual([]);
    // A model that violates the contract (no `version` in its metadata) is refused the same way.
    const proto = onnx.ModelProto.decode(trainPca(SYNTHETIC_FEATURES, syntheticRows(400, 9), { stationType: 'etch', trainedAt }).onnx);
    proto.metadataProps = proto.metadataProps.filter((e) => e.key !== 'version');
    await writeFile(`${file}.tmp`, onnx.ModelProto.encode(proto).finish());
    await rename(`${file}.tmp`, file);
    await registry.refresh();
    expect(registry.counts.failed).toBe(2);
    expect(await version({ recipe: 'R9' })).toBe('etch-pca@2026-11-29T12:00:00.000Z');
    await writeModel(file, undefined, 10, new Date('2026-12-02T00:00:00Z'));
    await registry.refresh();
    expect(await version({ recipe: 'R9' })).toBe('etch-pca@2026-12-02T00:00:00.000Z');
    await until('old session released', () => released.length === 1);
    expect(released).toEqual(['etch-pca@2026-11-29T12:00:00.000Z']);
  });

  it('drops a deleted file: its snapshots fall back, and without any model the station is UNMODELLED', async () => {
    await pick({});
    await rm(join(dir, 'etch', '_idle.onnx'));
    await registry.refresh();
    expect(await pick({})).toBe('etch.onnx');
    await rm(join(dir, 'etch.onnx'));
    await rm(join(dir, 'etch'), { recursive: true });
    await registry.refresh();
    expect(registry.resolveLoaded('e1', 'etch', {})).toBeUndefined();
    expect(registry.counts.removed).toBe(3);
    await until('sessions released', () => released.length === 3);
  });

  it('does not count a file that changes while it loads (copied in place): it loads once it settles', async () => {
    const file = join(dir, 'etch.onnx');
    let interrupted = false;
    const flaky = new ModelRegistry({
      modelsDir: dir,
      logger: pino({ level: 'silent' }),
      reloadIntervalMs: 0,
      loadModel: async (path) => {
        if (path === file && !interrupted) {
          interrupted = true;
          // The writer is not done: the file grows under the loader, which sees a truncated model.
          await writeModel(file, undefined, 11, new Date('2026-12-03T00:00:00Z'));
          throw new Error('truncated');
        }
        return loadOnnxModel(path);
      },
    });
    try {
      expect(await flaky.resolve('e1', 'etch', { recipe: 'R9' })).toBeUndefined();
      expect(flaky.counts.failed).toBe(0);
      await flaky.refresh();
      expect((await flaky.resolve('e1', 'etch', { recipe: 'R9' }))?.model.meta.version).toBe('etch-pca@2026-12-03T00:00:00.000Z');
    } finally {
      await flaky.stop();
    }
  });

  it('polls on its own after start()', async () => {
    const polling = new ModelRegistry({ modelsDir: dir, loadModel: loadOnnxModel, logger: pino({ level: 'silent' }), reloadIntervalMs: 20 });
    try {
      await polling.start();
      await writeModel(join(dir, 'etch', '_idle.onnx'), {}, 12, new Date('2026-12-04T00:00:00Z'));
      await until('new idle model in use', async () => (await polling.resolve('e1', 'etch', {}))?.model.meta.version === 'etch-pca@2026-12-04T00:00:00.000Z#idle');
    } finally {
      await polling.stop();
    }
  });
});

describe('ModelRegistry hot reload with the Scorer', () => {
  /** A model whose runs finish only when the test says so, and which refuses to score once released. */
  class GatedModel implements StationModel {
    readonly meta: ModelMetadata;
    released = false;
    calls = 0;
    private gates: (() => void)[] = [];
    constructor(version: string) {
      this.meta = { version, features: ['a'], threshold: 1 } as unknown as ModelMetadata;
    }
    async score(_rows: Float32Array, n: number): Promise<ScoredRow[]> {
      if (this.released) throw new Error(`${this.meta.version} scored after release`);
      this.calls++;
      await new Promise<void>((open) => this.gates.push(open));
      if (this.released) throw new Error(`${this.meta.version} released during a run`);
      // The score says which model ran, whatever the caller believed it routed to.
      const score = Number(this.meta.version.split('@')[1]);
      return Array.from({ length: n }, () => ({ score, t2: NaN, spe: NaN }));
    }
    openAll(): void {
      for (const open of this.gates.splice(0)) open();
    }
    async release(): Promise<void> {
      this.released = true;
    }
  }

  it('scores queued snapshots on the model they were routed to and releases it only after its last batch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linewatch-registry-swap-'));
    const file = join(dir, 'm.onnx');
    await writeFile(file, 'v1');
    const models = new Map<string, GatedModel>();
    const loadModel = async (): Promise<StationModel> => {
      const model = new GatedModel(`m@${models.size + 1}`);
      models.set(model.meta.version, model);
      return model;
    };
    const logger = pino({ level: 'silent' });
    const registry = new ModelRegistry({ modelsDir: dir, loadModel, logger, reloadIntervalMs: 0 });
    const scorer = new Scorer({ batchMax: 2, batchWaitMs: 0, metrics: new DetectorMetrics(), logger });
    const results: string[] = [];
    const send = async (i: number) => {
      const resolved = await registry.resolve('m', undefined);
      scorer.enqueue(resolved!, [i], (r) => results.push(r instanceof Error ? `${i}:error` : `${i}:${resolved!.model.meta.version}:${r.score}`));
    };
    try {
      for (let i = 0; i < 3; i++) await send(i);
      await tick();
      const v1 = models.get('m@1')!;
      expect(v1.calls).toBe(1); // one batch running, one queued behind it
      await writeFile(`${file}.tmp`, 'v2');
      await rename(`${file}.tmp`, file);
      await registry.refresh();
      for (let i = 3; i < 5; i++) await send(i);
      await tick();
      await tick();
      // v1 still has a batch running and one queued: its session must stay open.
      expect(v1.released).toBe(false);
      v1.openAll();
      await until('second v1 batch running', () => v1.calls === 2);
      await tick();
      expect(v1.released).toBe(false);
      v1.openAll();
      await until('v2 batch running', () => models.get('m@2')!.calls === 1);
      models.get('m@2')!.openAll();
      await scorer.drain();
      await until('v1 released', () => v1.released);
      expect(results).toEqual(['0:m@1:1', '1:m@1:1', '2:m@1:1', '3:m@2:2', '4:m@2:2']);
      expect(models.get('m@2')!.released).toBe(false);
    } finally {
      await scorer.stop();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    }
    expect(models.get('m@2')!.released).toBe(true);
  });
});
