import type { SensorSpec } from '@linewatch/protocol';
import { CLEAN } from './clean.js';
import { CMP } from './cmp.js';
import { DEPOSITION } from './deposition.js';
import { ETCH } from './etch.js';
import { LOAD, UNLOAD } from './handler.js';
import { INSPECTION } from './inspection.js';
import { LITHO } from './litho.js';
import type { ToolModel } from './types.js';

export type { ToolModel, SensorModel, LatentDef, StepDef, RecipeDef, Latents } from './types.js';

const MODELS: Record<string, ToolModel> = Object.fromEntries(
  [LOAD, CLEAN, LITHO, ETCH, DEPOSITION, CMP, INSPECTION, UNLOAD].map((m) => [m.type, m as unknown as ToolModel]),
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
