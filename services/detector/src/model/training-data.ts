import type { ProcessContext } from '@linewatch/protocol';
import { sampleNormal } from '@linewatch/simulators';

/**
 * Normal rows for one station type from `runs` independent simulator runs (seeds seed, seed+1, …), concatenated,
 * with each row's process context and run index (a lag window never spans two runs). One long run shows the
 * start-up transient (e.g. a litho lens warming up) only once and none of the run-to-run spread; several runs
 * teach both. With the 20% hold-out and a run count divisible
 * by 5, the held-out tail is whole runs, so the limits are calibrated on runs the fit never saw, start-ups included;
 * grouping by context keeps the row order, so each context model's tail is likewise its latest runs.
 */
export function sampleTrainingRows(
  type: string,
  samples: number,
  runs: number,
  seed: number,
): { features: string[]; rows: number[][]; contexts: ProcessContext[]; runs: number[] } {
  if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`runs must be a positive integer, got ${runs}`);
  const perRun = Math.ceil(samples / runs);
  let features: string[] = [];
  const rows: number[][] = [];
  const contexts: ProcessContext[] = [];
  const runIds: number[] = [];
  for (let run = 0; run < runs; run++) {
    const sample = sampleNormal(type, Math.min(perRun, samples - rows.length), seed + run);
    features = sample.features;
    rows.push(...sample.rows);
    contexts.push(...sample.contexts);
    for (let i = 0; i < sample.rows.length; i++) runIds.push(run);
  }
  return { features, rows, contexts, runs: runIds };
}
