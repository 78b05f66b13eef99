import { describe, expect, it } from 'vitest';
import { checkLagSpec, pcaLags, runsFromTimestamps, segmentIds, specFor, stackWindow, windowEnds } from './lagged.js';

describe('lag windows', () => {
  it('relates the input window, the smoothing and the lags the PCA models', () => {
    expect(specFor(0, 4)).toEqual({ lags: 3, smoothing: 4 });
    expect(specFor(2, 2)).toEqual({ lags: 3, smoothing: 2 });
    expect(pcaLags({ lags: 3, smoothing: 2 })).toBe(2);
    expect(() => checkLagSpec({ lags: 1, smoothing: 3 })).toThrow(/smoothing must be an integer in \[1, lags \+ 1 = 2\]/);
    expect(() => checkLagSpec({ lags: -1, smoothing: 1 })).toThrow(/lags must be an integer ≥ 0/);
    expect(() => checkLagSpec({ lags: 1.5, smoothing: 1 })).toThrow(/lags/);
  });

  it('starts a segment where the key or the run changes', () => {
    expect(segmentIds(['a', 'a', 'b', 'b', 'a'], undefined, 5)).toEqual([0, 0, 1, 1, 2]);
    expect(segmentIds(['a', 'a', 'a', 'a'], [0, 0, 1, 1], 4)).toEqual([0, 0, 1, 1]);
    expect(segmentIds(undefined, undefined, 3)).toEqual([0, 0, 0]);
    expect(() => segmentIds(['a'], undefined, 2)).toThrow(/1 segment keys for 2 rows/);
  });

  it('ends a window only where L earlier rows of the same segment exist', () => {
    expect(windowEnds([0, 0, 0, 1, 1, 2], 6, 1)).toEqual([1, 2, 4]);
    expect(windowEnds([0, 0, 0, 1, 1, 2], 6, 0)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(windowEnds(undefined, 4, 2)).toEqual([2, 3]);
    expect(stackWindow([[1, 2], [3, 4], [5, 6]], 2, 2)).toEqual([5, 6, 3, 4, 1, 2]);
  });

  it('breaks runs at gaps and where time goes backwards', () => {
    // Median step 1000 ms: 3500 ms is a gap, 0 after 5000 is a new recording.
    expect(runsFromTimestamps([0, 1000, 2000, 5500, 6500, 0, 1000])).toEqual([0, 0, 0, 1, 1, 2, 2]);
    expect(runsFromTimestamps([])).toEqual([]);
  });
});
