import { describe, expect, it } from 'vitest';
import { ScoreHistory } from './score-history.js';

const p = (ts: number, score = 0.5) => ({ ts, score, threshold: 1 });

describe('ScoreHistory', () => {
  it('keeps each station’s points in time order and ignores one not newer than the last', () => {
    const h = new ScoreHistory();
    h.add('fab1/a', p(1_000));
    h.add('fab1/a', p(3_000));
    h.add('fab1/a', p(2_000));
    h.add('fab1/b', p(5_000));
    expect(h.since('fab1/a', 0).map((x) => x.ts)).toEqual([1_000, 3_000]);
    expect(h.since('fab1/a', 2_000).map((x) => x.ts)).toEqual([3_000]);
    expect(h.since('fab1/b', 0).map((x) => x.ts)).toEqual([5_000]);
  });

  it('keeps one point a second, the highest score of it, so an excursion is never averaged away', () => {
    const h = new ScoreHistory();
    h.add('k', p(1_000, 0.2));
    h.add('k', p(1_250, 3.5));
    h.add('k', p(1_500, 0.3));
    h.add('k', p(2_000, 0.4));
    expect(h.since('k', 0)).toEqual([p(1_500, 3.5), p(2_000, 0.4)]);
  });

  it('merges history with what the feed brought, once per time', () => {
    const h = new ScoreHistory();
    h.add('k', p(10_000, 0.9));
    h.merge('k', [p(4_000), p(10_000, 0.1), p(7_000)]);
    expect(h.since('k', 0)).toEqual([p(4_000), p(7_000), p(10_000, 0.9)]);
  });

  it('stays bounded however long it runs', () => {
    const h = new ScoreHistory();
    for (let i = 0; i < 10_000; i++) h.add('k', p(i * 250));
    expect(h.since('k', 0).length).toBeLessThanOrEqual(480);
    expect(h.since('k', 0).at(-1)?.ts).toBe(9_999 * 250);
    expect(h.since('k', 0)).not.toEqual([]);
  });

  it('forgets a line when a new replay clears it, so a replay whose clock starts earlier draws again', () => {
    const h = new ScoreHistory();
    h.add('fab1-replay/etch-01', p(5_000));
    h.add('fab1/etch-01', p(5_000));
    h.dropLine('fab1-replay');
    h.add('fab1-replay/etch-01', p(1_000));
    expect(h.since('fab1-replay/etch-01', 0).map((x) => x.ts)).toEqual([1_000]);
    expect(h.since('fab1/etch-01', 0).map((x) => x.ts)).toEqual([5_000]);
  });
});
