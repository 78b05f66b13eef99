import { RuleHitSchema } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { RunRules } from './western-electric.js';

const CENTER = 100;
const SIGMA = 2;

/** Pushes a sequence of z-scores (one sensor, centre 100, σ 2) and lists what fired: `index:rule:side`. */
function fired(zs: number[]): string[] {
  const rules = new RunRules(['rf_power'], { center: [CENTER], sigma: [SIGMA] });
  return zs.flatMap((z, i) => rules.push([CENTER + SIGMA * z]).map((h) => `${i}:${h.rule}:${h.side}`));
}

describe('RunRules', () => {
  it('WE1: one point beyond 3σ, strictly, on either side', () => {
    expect(fired([0.5, 3, 0, 0, 3.1, 0, 0, -3.2])).toEqual(['4:WE1:high', '7:WE1:low']);
  });

  it('reports the reading, the side and the limits it was judged against', () => {
    const rules = new RunRules(['a', 'rf_power'], { center: [0, CENTER], sigma: [1, SIGMA] });
    const hits = rules.push([0, 93]);
    expect(hits).toEqual([{ rule: 'WE1', sensor: 'rf_power', side: 'low', value: 93, center: 100, sigma: 2 }]);
    expect(RuleHitSchema.parse(hits[0])).toEqual(hits[0]);
  });

  it('WE2: 2 of 3 beyond 2σ on one side, on the sample that completes the pattern', () => {
    expect(fired([2.5, 0.5, 2.5])).toEqual(['2:WE2:high']);
    expect(fired([-2.5, -2.1])).toEqual(['1:WE2:low']);
    // Too far apart: the first has left the window of 3 when the second arrives.
    expect(fired([2.5, 0.5, 0.5, 2.5])).toEqual([]);
    // Opposite sides do not add up, and a sample back inside 2σ does not fire by itself.
    expect(fired([2.5, -2.5, 0.5, 1.9])).toEqual([]);
  });

  it('WE3: 4 of 5 beyond 1σ on one side', () => {
    expect(fired([1.5, 1.5, 0.5, 1.5, 1.5, 1.5])).toEqual(['4:WE3:high', '5:WE3:high']);
    expect(fired([-1.5, -1.2, -1.9, -0.2, -1.1])).toEqual(['4:WE3:low']);
    expect(fired([1.5, 1.5, 0.5, 1.5, 0.5, 1.5, -1.5])).toEqual([]);
  });

  it('WE4: 8 in a row on one side of the centre, and every sample while the run lasts', () => {
    expect(fired([0.5, 0.1, 0.9, 0.3, 0.2, 0.4, 0.6])).toEqual([]);
    expect(fired([0.5, 0.1, 0.9, 0.3, 0.2, 0.4, 0.6, 0.1, 0.2])).toEqual(['7:WE4:high', '8:WE4:high']);
    expect(fired([-0.5, -0.1, -0.9, -0.3, -0.2, -0.4, -0.6, -0.1])).toEqual(['7:WE4:low']);
    // A point exactly on the centre line, a missing reading or a crossing breaks the run.
    expect(fired([0.5, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])).toEqual([]);
    expect(fired([0.5, 0.5, 0.5, 0.5, Number.NaN, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])).toEqual([]);
    expect(fired([0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])).toEqual([]);
  });

  it('fires several rules on one sample, in rule order', () => {
    const last = fired([1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 2.5, 3.5]).filter((hit) => hit.startsWith('7:'));
    expect(last).toEqual(['7:WE1:high', '7:WE2:high', '7:WE3:high', '7:WE4:high']);
  });

  it('fires nothing on a sequence that wanders inside the rules', () => {
    expect(fired([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.9, -0.9, 2.9, 1.2, -0.3, 0.4, -1.1, 1.9, -2.9, 0.2])).toEqual([]);
  });

  it('forgets its history on reset, and judges each sensor on its own', () => {
    const rules = new RunRules(['a', 'b'], { center: [0, 10], sigma: [1, 1] });
    for (let i = 0; i < 7; i++) expect(rules.push([0.5, 10.5])).toEqual([]);
    rules.reset();
    expect(rules.push([0.5, 10.5])).toEqual([]);
    const other = new RunRules(['a', 'b'], { center: [0, 10], sigma: [1, 1] });
    for (let i = 0; i < 7; i++) other.push([0.5, 9.5]);
    expect(other.pushRecord({ a: 0.5, b: 9.5 }).map((h) => `${h.sensor}:${h.rule}:${h.side}`)).toEqual(['a:WE4:high', 'b:WE4:low']);
  });

  it('does not judge a sensor without a usable sigma, nor a non-finite reading', () => {
    const rules = new RunRules(['flat', 'b'], { center: [5, 0], sigma: [0, 1] });
    expect(rules.push([50, Number.POSITIVE_INFINITY])).toEqual([]);
    expect(rules.pushRecord({ flat: 50 })).toEqual([]);
  });

  it('rejects limits that do not match the features', () => {
    expect(() => new RunRules(['a', 'b'], { center: [0], sigma: [1, 1] })).toThrow(/1 centres and 2 sigmas for 2 features/);
  });
});
