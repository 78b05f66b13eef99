import { readFileSync } from 'node:fs';
import { FAULT_TYPES, FaultTypeSchema, IdSchema, SensorNameSchema, type FaultType } from '@linewatch/protocol';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_LINE, type LineDef } from './line.js';

/**
 * One injected fault. `at` and `duration` are seconds of simulated time from the start of the run;
 * `magnitude` is in multiples of each sensor's noise sigma (see FAULT_DEFAULT_MAGNITUDE).
 *
 * @example
 * { station: 'etch-01', type: 'step', sensors: ['chamber_pressure'], at: 60, duration: 120, magnitude: 6 }
 */
export const FaultSpecSchema = z
  .object({
    station: IdSchema,
    type: FaultTypeSchema,
    /** Sensors to disturb; omitted: one sensor chosen deterministically (all sensors for tool_down). */
    sensors: z.array(SensorNameSchema).min(1).optional(),
    at: z.number().nonnegative(),
    duration: z.number().positive(),
    magnitude: z.number().positive().optional(),
  })
  .strict();
export type FaultSpec = z.infer<typeof FaultSpecSchema>;

export const ScenarioSchema = z
  .object({
    name: z.string().max(100).optional(),
    description: z.string().max(1000).optional(),
    faults: z.array(FaultSpecSchema).default([]),
    /** Seconds after which the whole fault schedule starts again (looping demos); every fault must end before it. */
    repeatEvery: z.number().positive().optional(),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    if (scenario.repeatEvery === undefined) return;
    scenario.faults.forEach((f, i) => {
      if (f.at + f.duration > scenario.repeatEvery!) {
        ctx.addIssue({ code: 'custom', path: ['faults', i], message: `fault ends at ${f.at + f.duration}s, after repeatEvery ${scenario.repeatEvery}s` });
      }
    });
  });
export type Scenario = z.infer<typeof ScenarioSchema>;

/** Default fault size in multiples of the sensor's noise sigma; stuck, dropout and tool_down ignore it. */
export const FAULT_DEFAULT_MAGNITUDE: Record<FaultType, number> = {
  drift: 15,
  step: 10,
  spike: 20,
  stuck: 1,
  noise_burst: 8,
  broken_correlation: 10,
  tool_down: 1,
  dropout: 1,
};

/** Parses a scenario from JSON or YAML text; errors name the source and every invalid field. */
export function parseScenario(text: string, source = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new Error(`${source}: not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ScenarioSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source}: invalid scenario: ${issues}`, { cause: parsed.error });
  }
  return parsed.data;
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read scenario ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseScenario(text, path);
}

const DURATIONS: Record<FaultType, number> = {
  drift: 150,
  step: 90,
  spike: 45,
  stuck: 90,
  noise_burst: 60,
  broken_correlation: 90,
  tool_down: 90,
  dropout: 60,
};

/**
 * A looping demo: a fault every `everySeconds`, rotating through stations and fault types so that
 * after one loop every station has seen several kinds, starting after two fault-free periods.
 */
export function demoScenario(line: LineDef, everySeconds = 180): Scenario {
  const n = line.stations.length;
  const count = FAULT_TYPES.length * 2;
  const faults: FaultSpec[] = [];
  for (let i = 0; i < count; i++) {
    const station = line.stations[(i * 3 + Math.floor(i / FAULT_TYPES.length)) % n];
    const type = FAULT_TYPES[i % FAULT_TYPES.length]!;
    if (!station) continue;
    faults.push({ station: station.id, type, at: everySeconds * (i + 1), duration: Math.min(DURATIONS[type], everySeconds - 30) });
  }
  return { name: 'demo', description: 'rotating faults for the live demo', faults, repeatEvery: everySeconds * (count + 1) };
}

export const DEFAULT_SCENARIO: Scenario = demoScenario(DEFAULT_LINE);
