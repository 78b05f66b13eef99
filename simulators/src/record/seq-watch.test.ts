import { describe, expect, it } from 'vitest';
import { SeqWatch } from './seq-watch.js';

describe('SeqWatch', () => {
  it('counts gaps, and a late snapshot filling one takes it back', () => {
    const w = new SeqWatch();
    expect(w.observe('a', 1, 100)).toEqual({ duplicate: false, missing: 0, reset: false });
    expect(w.observe('a', 4, 400)).toEqual({ duplicate: false, missing: 2, reset: false });
    expect(w.observe('a', 2, 200)).toEqual({ duplicate: false, missing: -1, reset: false });
    expect(w.observe('a', 5, 500).missing).toBe(0);
  });

  it('knows a QoS 1 redelivery by its seq and ts', () => {
    const w = new SeqWatch();
    w.observe('a', 1, 100);
    w.observe('a', 2, 200);
    expect(w.observe('a', 2, 200).duplicate).toBe(true);
    expect(w.observe('a', 1, 100).duplicate).toBe(true);
    // Another station with the same numbers is not a duplicate.
    expect(w.observe('b', 2, 200).duplicate).toBe(false);
  });

  it('a publisher restarting at seq 0 is a reset, not a duplicate or a loss', () => {
    const w = new SeqWatch();
    for (let i = 0; i < 10; i++) w.observe('a', i, 1_000 + i);
    expect(w.observe('a', 0, 5_000)).toEqual({ duplicate: false, missing: 0, reset: true });
    expect(w.observe('a', 1, 5_001)).toEqual({ duplicate: false, missing: 0, reset: false });
  });

  it('remembers a bounded window per station', () => {
    const w = new SeqWatch();
    for (let i = 0; i < 10_000; i++) w.observe('a', i, i);
    expect(w.observe('a', 9_999, 9_999).duplicate).toBe(true);
    // Long gone from the window: no longer recognised, so counted as a late arrival instead.
    expect(w.observe('a', 1, 1)).toEqual({ duplicate: false, missing: -1, reset: false });
  });
});
