import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CvResult } from '../../services/detector/src/wafer/cross-validate.js';
import { evaluateLam9600 } from '../../services/detector/src/wafer/lam9600.js';
import { lam9600Dir } from '../support/shared-data.js';

/**
 * The goal on the real LAM 9600 etch data, as a regression test: at least 18 of the 21 faulty wafers
 * detected with at most 5% of the normal wafers flagged, cross-validated by wafer (`npm run eval:lam9600`
 * prints the same run). Measured: 19/21 at 4/93 (4.3%) with the default 1% target per wafer.
 */
const LAM = lam9600Dir();
let work: string;
let result: CvResult;

beforeAll(async () => {
  if (!LAM) return;
  work = await mkdtemp(path.join(tmpdir(), 'lw-lam-wafer-'));
  result = await evaluateLam9600(LAM, work);
}, 120_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(!LAM)('wafer-level detection on the LAM 9600 etch data', () => {
  it('judges every wafer but the baseline ones, with no wafer in the fold whose model judges it', () => {
    expect(result.baseline).toHaveLength(15);
    expect(result.faults.total).toBe(21);
    expect(result.normals.total).toBe(108 - 15);
    for (const v of result.verdicts) expect(result.baseline).not.toContain(v.id);
  });

  it('detects at least 18 of the 21 faulty wafers at no more than 5% of normal wafers flagged', () => {
    expect(result.faults.detected).toBeGreaterThanOrEqual(18);
    expect(result.normals.rate).toBeLessThanOrEqual(0.05);
  });

  it('names the disturbed sensor first for the pressure and gas-flow faults', () => {
    const top = (id: string): string => {
      const v = result.verdicts.find((x) => x.id === id);
      const step = v?.steps.reduce((a, b) => (b.score > a.score ? b : a));
      return step?.contributors[0]?.sensor ?? '';
    };
    // f007 Pr -2, f014 Pr +2, f013 BCl3 -5: the chamber pressure and the BCl3 flow.
    expect([top('f007'), top('f014'), top('f013')]).toEqual(['pressure', 'pressure', 'bcl3_flow']);
  });
});
