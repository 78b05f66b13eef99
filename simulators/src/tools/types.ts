import type { SensorSpec } from '@linewatch/protocol';

/** Values of a tool's latent process variables (setpoint-tracking actuators and chamber conditions). */
export type Latents<L extends string = string> = Readonly<Record<L, number>>;

/**
 * A latent process variable. Each tick it moves toward its step target with a first-order lag `tau`;
 * the target is disturbed by a slow AR(1) process (`rel` × target + `abs`), which is the shared,
 * low-rank variation every sensor driven by this latent inherits.
 */
export interface LatentDef {
  idle: number;
  /** First-order time constant, seconds. */
  tau: number;
  /** Relative std of the slow disturbance of the target. */
  rel?: number;
  /** Absolute std of the slow disturbance (for latents whose target is 0, e.g. focus offset). */
  abs?: number;
}

/** A sensor as a function of latents `x` and the current step targets `sp`, plus independent Gaussian noise. */
export interface SensorModel<L extends string = string> {
  spec: SensorSpec;
  /** Std of independent measurement noise, in sensor units. Faults are sized in multiples of it. */
  sigma: number;
  /** The latent this sensor mainly follows; broken_correlation decouples the sensor from it. */
  driver: L;
  value: (x: Latents<L>, sp: Latents<L>) => number;
}

export interface StepDef<L extends string = string> {
  name: string;
  /** Nominal duration, seconds; each wafer jitters it a little. */
  seconds: number;
  /** Latent targets for this step; latents not named go to their idle value. */
  targets: Readonly<Partial<Record<L, number>>>;
}

export interface RecipeDef<L extends string = string> {
  name: string;
  steps: StepDef<L>[];
}

export interface ToolModel<L extends string = string> {
  type: string;
  latents: Readonly<Record<L, LatentDef>>;
  /** Recipes alternate lot by lot. */
  recipes: RecipeDef<L>[];
  /** Seconds of STANDBY between wafers (wafer exchange); a lot change adds `lotChangeSeconds`. */
  idleSeconds: number;
  lotChangeSeconds: number;
  sensors: SensorModel<L>[];
}

/** Builds a sensor factory typed by a tool's latent names, so `x.rf` is checked at compile time. */
export function sensorsOf<L extends string>() {
  return (
    name: string,
    unit: string,
    range: [number, number],
    sigma: number,
    driver: L,
    value: (x: Latents<L>, sp: Latents<L>) => number,
    description?: string,
  ): SensorModel<L> => ({
    spec: { name, unit, min: range[0], max: range[1], ...(description ? { description } : {}) },
    sigma,
    driver,
    value,
  });
}
