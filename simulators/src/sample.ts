import type { ProcessContext } from '@linewatch/protocol';
import { StationProcess } from './station.js';
import { stationSensors, toolModel } from './tools/index.js';

/** Rate of the training sample: 1 Hz covers many wafers per thousand rows, and the per-step distributions do not depend on rate. */
const SAMPLE_RATE_HZ = 1;

/**
 * Fault-free snapshots of one tool of `type` running its wafer cycle (every recipe and step, and the
 * standby between wafers), as rows in `features` order (the names of `stationSensors(type)`), with each row's
 * process context (recipe, step, lot, wafer) in `contexts[i]`, so training can fit one baseline per recipe step.
 *
 * @example
 * const { features, rows, contexts } = sampleNormal('etch', 5000, 1);
 * // rows[i][features.indexOf('dc_bias')] was read during contexts[i].step of contexts[i].recipe
 */
export function sampleNormal(
  type: string,
  count: number,
  seed: number,
): { features: string[]; rows: number[][]; contexts: ProcessContext[] } {
  if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a non-negative integer, got ${count}`);
  const model = toolModel(type);
  const features = stationSensors(type).map((s) => s.name);
  const process = new StationProcess({ id: `${type}-sample`, type, name: `${type} sample`, order: 0 }, model, seed, 1 / SAMPLE_RATE_HZ);
  const rows: number[][] = [];
  const contexts: ProcessContext[] = [];
  for (let i = 0; rows.length < count; i++) {
    process.advance();
    const snapshot = process.read(i * 1000);
    if (!snapshot) throw new Error(`sampleNormal(${type}): a fault-free snapshot came back empty`);
    rows.push(features.map((f) => snapshot.values[f]!));
    contexts.push(snapshot.context ?? {});
  }
  return { features, rows, contexts };
}
