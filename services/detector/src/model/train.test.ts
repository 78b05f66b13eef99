import { DEFAULT_LINE, sampleNormal } from '@linewatch/simulators';
import { describe, expect, it } from 'vitest';
import { scoreRowsTs, summarise, trainPca } from './train.js';
import { sampleTrainingRows } from './training-data.js';

// Real simulator data is multimodal (recipes, steps, standby, start-up transients), unlike the Gaussian
// synthetic set: this checks the limits and the attribution hold on what `npm run train` will actually see.
describe('trainPca on simulated normal data', () => {
  const types = [...new Set(DEFAULT_LINE.stations.map((s) => s.type))];

  it('splits the samples over independent runs', () => {
    const { features, rows, contexts, runs } = sampleTrainingRows('etch', 1001, 4, 3);
    expect(rows).toHaveLength(1001);
    expect(contexts).toHaveLength(1001);
    expect([runs[0], runs[250], runs[251], runs[1000]]).toEqual([0, 0, 1, 3]);
    expect(rows[251]).toEqual(sampleNormal('etch', 1, 4).rows[0]);
    expect(contexts[251]).toEqual(sampleNormal('etch', 1, 4).contexts[0]);
    // Each wafer cycle shows up: idle between wafers and the steps of the recipes.
    const steps = new Set(contexts.map((c) => `${c.recipe ?? '-'}/${c.step ?? '-'}`));
    expect(steps).toContain('-/idle');
    expect(steps).toContain('ETCH-AL-01/main_etch');
    expect(features).toEqual(sampleNormal('etch', 1, 3).features);
    expect(() => sampleTrainingRows('etch', 10, 0, 1)).toThrow(/runs must be a positive integer/);
  });

  it.each(types)('%s: a fresh run rarely alarms, and a 6σ step is flagged and attributed', (type) => {
    const { features, rows } = sampleTrainingRows(type, 20_000, 5, 21);
    const { model, metadata } = trainPca(features, rows, { stationType: type, alpha: 0.999 });
    expect(metadata.stationType).toBe(type);
    expect(metadata.features).toEqual(features);
    expect(metadata.components).toBe(model.components);
    expect(model.components).toBeLessThan(features.length);
    expect(model.holdout.score).toBeLessThanOrEqual(2 * (1 - model.alpha));
    expect(summarise(metadata, model)).toContain(`${type} [fallback]: pca L=0 w=1 k=${model.components}/${features.length}`);

    // A run the model never saw, start-up included. Litho's lens warm-up is the worst case here.
    const fresh = sampleNormal(type, 3000, 900).rows;
    const falseAlarms = scoreRowsTs(model, fresh).filter((s) => s.score > 1).length / fresh.length;
    expect(falseAlarms).toBeLessThanOrEqual(10 * (1 - model.alpha));

    const probe = fresh.filter((_, i) => i % 60 === 0);
    let attributed = 0;
    let detected = 0;
    let total = 0;
    for (let target = 0; target < features.length; target++) {
      const faulty = probe.map((r) => r.map((v, j) => (j === target ? v + 6 * model.std[j]! : v)));
      for (const s of scoreRowsTs(model, faulty)) {
        total++;
        if (s.score > 1) detected++;
        if (s.contrib.indexOf(Math.max(...s.contrib)) === target) attributed++;
      }
    }
    // A sensor with a component nearly to itself only alarms when the step lands beyond ~√T²lim σ, so a
    // 6σ step from the far side of its range can pass; that is PCA, not a defect, and it is rare.
    expect(detected / total).toBeGreaterThanOrEqual(0.98);
    // T² contributions smear across sensors that share a component, so a rare row names a correlated neighbour.
    expect(attributed / total).toBeGreaterThanOrEqual(0.97);
  });
});
