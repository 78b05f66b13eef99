import { describe, expect, it } from 'vitest';
import type { ModelMetadata } from '@linewatch/protocol';
import type { ScoredRow, StationModel } from '../model/types.js';
import type { StepSummary } from './indicators.js';
import { rankIndicators, scoreStep, shiftedRow } from './wafer-score.js';

const FEATURES = ['rf_power__mean', 'rf_power__std', 'he__flow__mean', 'step__duration'];
const META = { features: FEATURES, mean: [1500, 2, 16000.5, 30], std: [4, 0.5, 0.25, 1.5] };

function summary(indicators: Record<string, number>): StepSummary {
  return { samples: 30, start: 0, end: 29_000, duration: 29, indicators: new Map(Object.entries(indicators)) };
}

const STEP = summary({ rf_power__mean: 1510, rf_power__std: 2.5, he__flow__mean: 16001.25, step__duration: 31, rf_power__slope: 0.1 });

describe('shiftedRow', () => {
  it('passes the indicators through in feature order when judged against the model\'s own baseline', () => {
    expect(shiftedRow(STEP, META, undefined)).toEqual(Float32Array.from([1510, 2.5, 16001.25, 31]));
  });

  it('moves every indicator by (baseline − model mean)', () => {
    const baseline = Float64Array.from([1520, 1.5, 16002, 30]);
    const row = shiftedRow(STEP, META, baseline);
    // 1510 − 20, 2.5 + 0.5, 16001.25 − 1.5, 31 − 0: the step's distance from the new baseline, seen from the model's.
    expect(row).toEqual(Float32Array.from([1490, 3, 15999.75, 31]));
  });

  it('reports the first feature the step lacks', () => {
    const lacking = summary({ rf_power__mean: 1510, step__duration: 31 });
    expect(shiftedRow(lacking, META, undefined)).toEqual({ missing: 'rf_power__std' });
  });
});

describe('rankIndicators', () => {
  const scored = (contrib?: number[]): ScoredRow => ({ score: 3, t2: 1, spe: 2, ...(contrib ? { contrib } : {}) });

  it('ranks by the model\'s contributions, splitting names into sensor and stat', () => {
    const ranked = rankIndicators(STEP, META, undefined, scored([0.1, 0.05, 0.6, 0.25]), 5);
    expect(ranked).toEqual([
      { sensor: 'he__flow', stat: 'mean', value: 16001.25, expected: 16000.5, contribution: 0.6 },
      { sensor: 'step', stat: 'duration', value: 31, expected: 30, contribution: 0.25 },
      { sensor: 'rf_power', stat: 'mean', value: 1510, expected: 1500, contribution: 0.1 },
      { sensor: 'rf_power', stat: 'std', value: 2.5, expected: 2, contribution: 0.05 },
    ]);
    expect(ranked.reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(1, 12);
  });

  it('without contributions, ranks by squared z against the baseline, which is also the expected value', () => {
    const baseline = Float64Array.from([1508, 1, 16000.5, 30]);
    const ranked = rankIndicators(STEP, META, baseline, scored(), 2);
    // z² = (2/4)², (1.5/0.5)², (0.75/0.25)², (1/1.5)²: 0.25, 9, 9, 0.444…; the tie goes by name.
    const total = 0.25 + 9 + 9 + 1 / 2.25;
    expect(ranked).toEqual([
      { sensor: 'he__flow', stat: 'mean', value: 16001.25, expected: 16000.5, contribution: expect.closeTo(9 / total, 12) },
      { sensor: 'rf_power', stat: 'std', value: 2.5, expected: 1, contribution: expect.closeTo(9 / total, 12) },
    ]);
    // The top 2 of 4: their shares sum to less than 1.
    const sum = ranked.reduce((s, c) => s + c.contribution, 0);
    expect(sum).toBeLessThan(1);
    expect(sum).toBeCloseTo(18 / total, 12);
  });

  it('leaves out an indicator the step lacks and keeps the shares at most 1', () => {
    const lacking = summary({ rf_power__mean: 1510, rf_power__std: 2.5, step__duration: 31 });
    const ranked = rankIndicators(lacking, META, undefined, scored([0.1, 0.05, 0.6, 0.25]), 5);
    expect(ranked.map((c) => `${c.sensor}/${c.stat}`)).toEqual(['step/duration', 'rf_power/mean', 'rf_power/std']);
    expect(ranked.reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(0.4, 12);
  });

  it('breaks ties by name and gives all-zero contributions a share of 0', () => {
    const atBaseline = summary({ rf_power__mean: 1500, rf_power__std: 2, he__flow__mean: 16000.5, step__duration: 30 });
    const ranked = rankIndicators(atBaseline, META, undefined, scored(), 5);
    expect(ranked.map((c) => c.sensor + '/' + c.stat)).toEqual(['he__flow/mean', 'rf_power/mean', 'rf_power/std', 'step/duration']);
    expect(ranked.every((c) => c.contribution === 0)).toBe(true);
  });
});

describe('scoreStep', () => {
  /** A model that records the rows it is given and scores each by its first value. */
  function recordingModel(): { model: StationModel; rows: Float32Array[] } {
    const rows: Float32Array[] = [];
    const meta = { ...META, contract: 'linewatch.model/1', family: 'wafer-pca', version: 'v', stationType: 'etch', threshold: 1, trainedAt: '', trainingSamples: 10 } satisfies ModelMetadata;
    const model: StationModel = {
      meta,
      async score(input, n) {
        rows.push(input.slice());
        return Array.from({ length: n }, (_, i) => ({ score: input[i * FEATURES.length] as number, t2: 0, spe: 0, contrib: [0.7, 0.1, 0.1, 0.1] }));
      },
      async release() {},
    };
    return { model, rows };
  }

  it('scores the shifted row once and ranks its indicators', async () => {
    const { model, rows } = recordingModel();
    const baseline = Float64Array.from([1520, 1.5, 16002, 30]);
    const scored = await scoreStep(model, STEP, baseline, 2);
    expect(rows).toEqual([Float32Array.from([1490, 3, 15999.75, 31])]);
    if (!('row' in scored)) throw new Error('expected a score');
    expect(scored.row.score).toBe(1490);
    expect(scored.contributors).toEqual([
      { sensor: 'rf_power', stat: 'mean', value: 1510, expected: 1520, contribution: expect.closeTo(0.7, 12) },
      { sensor: 'he__flow', stat: 'mean', value: 16001.25, expected: 16002, contribution: expect.closeTo(0.1, 12) },
    ]);
  });

  it('does not call the model for a step that lacks a feature', async () => {
    const { model, rows } = recordingModel();
    expect(await scoreStep(model, summary({ rf_power__mean: 1 }), undefined)).toEqual({ missing: 'rf_power__std' });
    expect(rows).toEqual([]);
  });
});
