import type { SensorSpec } from '@linewatch/protocol';
import { CLEAN } from './clean.js';
import { CMP } from './cmp.js';
import { DEPOSITION } from './deposition.js';
import { ETCH } from './etch.js';
import { LOAD, UNLOAD } from './handler.js';
import { INSPECTION } from './inspection.js';
import { LITHO } from './litho.js';
import type { Latents, ToolModel } from './types.js';

export type { ToolModel, SensorModel, LatentDef, StepDef, RecipeDef, Latents } from './types.js';

/** Measurement noise as a share of a sensor's operating span (its spread over the steps of all recipes). */
export const NOISE_SHARE_OF_SPAN = 0.01;

/**
 * Raises each sensor's noise to at least NOISE_SHARE_OF_SPAN of its operating span. Readback resolution
 * scales with the range a sensor works over, and it makes one sigma mean the same to every sensor, so a
 * fault of n sigma is about equally visible whichever sensor it hits.
 */
function calibrate(model: ToolModel): ToolModel {
  const idle = Object.fromEntries(Object.entries(model.latents).map(([k, d]) => [k, d.idle]));
  const points = [idle, ...model.recipes.flatMap((r) => r.steps.map((s) => ({ ...idle, ...s.targets }) as Record<string, number>))];
  const sensors = model.sensors.map((s) => {
    const values = points.map((x) => s.value(x, x));
    const span = Math.max(...values) - Math.min(...values);
    const sigma = Math.max(s.sigma, NOISE_SHARE_OF_SPAN * span);
    // Instruments read a small zero offset at rest; without it half of every idle reading would be
    // clamped to exactly the range minimum, which looks like a stuck sensor.
    const zero = s.spec.min === 0 ? 3 * sigma : 0;
    return { ...s, sigma, value: (x: Latents, sp: Latents) => zero + s.value(x, sp) };
  });
  return { ...model, sensors };
}

const MODELS: Record<string, ToolModel> = Object.fromEntries(
  [LOAD, CLEAN, LITHO, ETCH, DEPOSITION, CMP, INSPECTION, UNLOAD].map((m) => [m.type, calibrate(m as unknown as ToolModel)]),
);

/** Tool types the simulator models. */
export const TOOL_TYPES: readonly string[] = Object.keys(MODELS);

export function toolModel(type: string): ToolModel {
  const model = MODELS[type];
  if (!model) throw new Error(`unknown station type '${type}'; known: ${TOOL_TYPES.join(', ')}`);
  return model;
}

/** The sensors of a tool type in feature order, with unit and physical range. */
export function stationSensors(type: string): SensorSpec[] {
  return toolModel(type).sensors.map((s) => ({ ...s.spec }));
}
