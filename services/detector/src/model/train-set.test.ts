import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleNormal } from '@linewatch/simulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from './onnx-model.js';
import { SYNTHETIC_FEATURES, syntheticRows } from './synthetic.test-support.js';
import { DEFAULT_VARIANCE_TARGET, trainContextSet, type SetMember } from './train-set.js';
import { sampleTrainingRows } from './training-data.js';
import type { StationModel } from './types.js';

const trainedAt = new Date('2026-11-29T12:00:00Z');

describe('trainContextSet', () => {
  it('fits a fallback, an idle baseline and one model per frequent (recipe, step)', () => {
    const rows = syntheticRows(3000, 1);
    // 1000 idle (no context or step idle), 1200 in R1/s1, 600 in R1/s2, 200 in R2/s1 (too few for a model).
    const contexts = rows.map((_, i) =>
      i < 500 ? undefined : i < 1000 ? { step: 'idle' } : i < 2200 ? { recipe: 'R1', step: 's1', lot: 'L1' } : i < 2800 ? { recipe: 'R1', step: 's2' } : { recipe: 'R2', step: 's1' },
    );
    const set = trainContextSet(SYNTHETIC_FEATURES, rows, contexts, { stationType: 'etch', trainedAt });
    const summary = set.map((m: SetMember) => ({ slug: m.slug, context: m.trained.metadata.context, rows: m.rows, version: m.trained.metadata.version }));
    expect(summary).toEqual([
      { slug: undefined, context: undefined, rows: 3000, version: 'etch-pca@2026-11-29T12:00:00.000Z' },
      { slug: '_idle', context: {}, rows: 1000, version: 'etch-pca@2026-11-29T12:00:00.000Z#idle' },
      { slug: 'R1--s1', context: { recipe: 'R1', step: 's1' }, rows: 1200, version: 'etch-pca@2026-11-29T12:00:00.000Z#R1/s1' },
      { slug: 'R1--s2', context: { recipe: 'R1', step: 's2' }, rows: 600, version: 'etch-pca@2026-11-29T12:00:00.000Z#R1/s2' },
    ]);
    // Each context model is fitted on its own rows only, with its own held-out calibration.
    expect(set[2]!.trained.model.trainingSamples + set[2]!.trained.model.holdoutSamples).toBe(1200);
    expect(set.every((m) => m.trained.metadata.stationType === 'etch')).toBe(true);
    expect(trainContextSet(SYNTHETIC_FEATURES, rows, contexts, { stationType: 'etch', trainedAt, minContextRows: 100 })).toHaveLength(5);
  });

  it('fits lag windows within one stretch of a context (and one run), as the detector stacks them', () => {
    const rows = syntheticRows(4000, 3);
    // Stretches of 5 rows alternate between two steps; two runs of 2000 rows.
    const contexts = rows.map((_, i) => ({ recipe: 'R1', step: Math.floor(i / 5) % 2 === 0 ? 's1' : 's2' }));
    const runs = rows.map((_, i) => (i < 2000 ? 0 : 1));
    const set = trainContextSet(SYNTHETIC_FEATURES, rows, contexts, { stationType: 'etch', trainedAt, family: 'dpca', smoothing: 1, runs, minContextRows: 100 });
    const s1 = set.find((m) => m.slug === 'R1--s1')!.trained.model;
    // 400 stretches of 5 rows each: a window needs its L earlier rows in the same stretch.
    expect(s1.trainingSamples + s1.holdoutSamples).toBe(400 * (5 - s1.lags!));
    // The fallback's windows run across step changes and break only between the two runs.
    const fallback = set[0]!.trained.model;
    expect(fallback.trainingSamples + fallback.holdoutSamples).toBe(4000 - 2 * fallback.lags!);
    expect(() => trainContextSet(SYNTHETIC_FEATURES, rows, contexts, { stationType: 'etch', runs: runs.slice(1) })).toThrow(/3999 run ids for 4000 rows/);
  });

  it('refuses contexts that would share a file name, and contexts that do not match the rows', () => {
    const rows = syntheticRows(1200, 2);
    const contexts = rows.map((_, i) => ({ recipe: 'R 1', step: i % 2 === 0 ? 'a b' : 'a_b' }));
    expect(() => trainContextSet(SYNTHETIC_FEATURES, rows, contexts, { stationType: 'etch' })).toThrow(/share the file name R_1--a_b\.onnx/);
    expect(() => trainContextSet(SYNTHETIC_FEATURES, rows, contexts.slice(1), { stationType: 'etch' })).toThrow(/1199 contexts for 1200 rows/);
  });
});

// The reason for context models: within main_etch a fault a few within-step σ wide is plain, while a single model
// over the whole wafer cycle spreads its limits over every step and misses it.
describe('context models on simulated etch data (real onnxruntime)', () => {
  let dir: string;
  let set: SetMember[];
  const loaded: StationModel[] = [];
  let contextModel: StationModel;
  let fallback: StationModel;

  beforeAll(async () => {
    const { features, rows, contexts } = sampleTrainingRows('etch', 40_000, 10, 21);
    set = trainContextSet(features, rows, contexts, { stationType: 'etch', trainedAt });
    dir = await mkdtemp(join(tmpdir(), 'linewatch-train-set-'));
    const load = async (member: SetMember): Promise<StationModel> => {
      const file = join(dir, `${member.slug ?? 'etch'}.onnx`);
      await writeFile(file, member.trained.onnx);
      const model = await loadOnnxModel(file);
      loaded.push(model);
      return model;
    };
    contextModel = await load(set.find((m) => m.slug === 'ETCH-AL-01--main_etch')!);
    fallback = await load(set.find((m) => m.slug === undefined)!);
  });
  afterAll(async () => {
    await Promise.all(loaded.map((m) => m.release()));
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the default variance target and one model per step of every recipe', () => {
    expect(set.map((m) => m.slug)).toContain('_idle');
    expect(set.filter((m) => m.trained.metadata.context?.recipe === 'ETCH-AL-01').map((m) => m.trained.metadata.context?.step).sort())
      .toEqual(['gas_stabilize', 'main_etch', 'over_etch', 'pump_down', 'purge']);
    expect(set.every((m) => m.trained.model.explainedVariance >= DEFAULT_VARIANCE_TARGET || m.trained.model.components === m.trained.model.features.length - 1)).toBe(true);
  });

  it('flags a step in the middle of main_etch that the fallback misses, and passes the same rows unfaulted', async () => {
    const fresh = sampleNormal('etch', 6000, 901);
    const mainEtch = fresh.rows.filter((_, i) => fresh.contexts[i]?.recipe === 'ETCH-AL-01' && fresh.contexts[i]?.step === 'main_etch');
    // The middle of each main_etch stretch is well away from the step's transients; take every row but the edges.
    const probe = mainEtch.slice(50, -50);
    expect(probe.length).toBeGreaterThan(300);
    const score = async (model: StationModel, rows: number[][]) =>
      (await model.score(Float32Array.from(rows.flat()), rows.length)).map((r) => r.score);
    // Pressure is near its set point all through main_etch but spans 1–12 over the wafer cycle: a 10σ (within the
    // step) shift is obvious to the step's model and inside the range the fallback learned.
    const target = fresh.features.indexOf('chamber_pressure');
    expect(target).toBeGreaterThanOrEqual(0);
    const sigma = contextModel.meta.std[target]!;
    const faulty = probe.map((r) => r.map((v, j) => (j === target ? v + 10 * sigma : v)));

    const rate = (scores: number[]) => scores.filter((s) => s > 1).length / scores.length;
    const normal = rate(await score(contextModel, probe));
    const detected = rate(await score(contextModel, faulty));
    const fallbackDetected = rate(await score(fallback, faulty));
    expect(normal).toBeLessThanOrEqual(0.01);
    expect(detected).toBeGreaterThanOrEqual(0.95);
    expect(fallbackDetected).toBeLessThan(0.1);
  });
});
