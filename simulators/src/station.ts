import { TelemetrySchema, type EquipmentState, type ProcessContext, type Telemetry } from '@linewatch/protocol';
import { Rng } from './rng.js';
import type { StationDef } from './line.js';
import type { SensorModel, ToolModel } from './tools/index.js';

export const WAFERS_PER_LOT = 25;
/** Correlation time of the slow setpoint disturbances, seconds. */
const DISTURBANCE_TAU_S = 20;
/** Relative std of step duration from wafer to wafer. */
const STEP_JITTER = 0.03;
/** Inner integration step of the process (s); publish ticks longer than this are split into substeps. */
const INNER_DT_S = 0.1;

type Phase = { kind: 'idle'; remaining: number } | { kind: 'step'; step: number; remaining: number } | { kind: 'down' };

/** Decimals that keep a reading well below its noise: two digits finer than sigma. */
function decimalsFor(sigma: number): number {
  return Math.max(0, Math.min(6, Math.ceil(-Math.log10(sigma)) + 2));
}

/** Latents with a time constant this long (s) are thermal masses that average over the wafer cycle. */
const SLOW_TAU_S = 10;

/**
 * Start values of the latents: a tool that has been running, not one switched on at t0. Slow latents
 * start at their time-weighted mean over one cycle of the first recipe, so a run has no warm-up transient
 * (a cold lens or pad) that normal data would otherwise show only once.
 */
function warmStart(model: ToolModel): Record<string, number> {
  const recipe = model.recipes[0]!;
  const total = model.idleSeconds + recipe.steps.reduce((sum, s) => sum + s.seconds, 0);
  return Object.fromEntries(
    Object.entries(model.latents).map(([name, def]) => {
      if (def.tau < SLOW_TAU_S) return [name, def.idle];
      const weighted = recipe.steps.reduce((sum, s) => sum + (s.targets[name] ?? def.idle) * s.seconds, def.idle * model.idleSeconds);
      return [name, weighted / total];
    }),
  );
}

/** Sensor overrides a fault layer applies per reading; undefined drops the sensor. */
export type ReadingFilter = (sensor: SensorModel, reading: number, decoupled: () => number) => number | undefined;

/**
 * The process of one tool: wafer cycle, latent variables and sensor readings. Fault-free by itself;
 * faults come in through `goDown`/`recover` and the reading filter.
 */
export class StationProcess {
  readonly rng: Rng;
  private readonly x: Record<string, number> = {};
  private readonly disturbance: Record<string, number> = {};
  private readonly latentNames: string[];
  private readonly decimals: number[];
  private phase: Phase;
  private lot = 1;
  private wafer = 0;
  private recipeIndex = 0;
  private seq = 0;
  state: EquipmentState = 'STANDBY';

  constructor(
    readonly def: StationDef,
    readonly model: ToolModel,
    seed: number,
    private readonly dt: number,
  ) {
    this.rng = new Rng(seed, 'process', def.id);
    this.latentNames = Object.keys(model.latents);
    const warm = warmStart(model);
    for (const name of this.latentNames) {
      this.x[name] = warm[name]!;
      this.disturbance[name] = this.rng.normal();
    }
    this.decimals = model.sensors.map((s) => decimalsFor(s.sigma));
    // Stagger the first wafer so the stations of one line do not run in lockstep.
    this.phase = { kind: 'idle', remaining: 1 + this.rng.next() * (model.idleSeconds + 20) };
  }

  get recipe() {
    return this.model.recipes[this.recipeIndex]!;
  }

  /** Advances the wafer cycle by one tick; returns the new equipment state when it changed. */
  advance(): EquipmentState | null {
    const before = this.state;
    // The process runs on a fixed inner clock, whatever the publish rate: sampled at 1 Hz or at 100 Hz it is
    // the same physical process, so a model trained at one rate holds at another. (Integrating once per
    // publish tick would put every step transition on the tick grid, and a 1 Hz run would never show a
    // tool half-way through a transition.)
    const substeps = Math.max(1, Math.ceil(this.dt / INNER_DT_S - 1e-9));
    const h = this.dt / substeps;
    for (let i = 0; i < substeps; i++) {
      const p = this.phase;
      if (p.kind !== 'down') {
        p.remaining -= h;
        while (this.phase.kind !== 'down' && this.phase.remaining <= 0) this.nextPhase(this.phase.remaining);
      }
      this.updateLatents(h);
    }
    this.state = this.phase.kind === 'step' ? 'PRODUCTIVE' : this.phase.kind === 'idle' ? 'STANDBY' : 'UNSCHEDULED_DOWN';
    return this.state === before ? null : this.state;
  }

  private nextPhase(carry: number): void {
    const recipe = this.recipe;
    if (this.phase.kind === 'idle') {
      if (this.wafer === WAFERS_PER_LOT) {
        this.lot += 1;
        this.wafer = 0;
      }
      this.wafer += 1;
      this.recipeIndex = (this.lot - 1) % this.model.recipes.length;
      this.phase = { kind: 'step', step: 0, remaining: carry + this.stepSeconds(0) };
    } else if (this.phase.kind === 'step' && this.phase.step + 1 < recipe.steps.length) {
      const step = this.phase.step + 1;
      this.phase = { kind: 'step', step, remaining: carry + this.stepSeconds(step) };
    } else {
      const lotDone = this.wafer === WAFERS_PER_LOT;
      this.phase = { kind: 'idle', remaining: carry + this.model.idleSeconds + (lotDone ? this.model.lotChangeSeconds : 0) };
    }
  }

  private stepSeconds(step: number): number {
    const nominal = this.recipe.steps[step]!.seconds;
    return Math.max(nominal * 0.5, nominal * (1 + STEP_JITTER * this.rng.normal()));
  }

  /** Unscheduled down: the wafer in process is aborted and the chamber returns to idle conditions. */
  goDown(): void {
    this.phase = { kind: 'down' };
  }

  recover(): void {
    if (this.phase.kind === 'down') this.phase = { kind: 'idle', remaining: this.model.idleSeconds };
  }

  targets(): Record<string, number> {
    const step = this.phase.kind === 'step' ? this.recipe.steps[this.phase.step] : undefined;
    const sp: Record<string, number> = {};
    for (const name of this.latentNames) sp[name] = step?.targets[name] ?? this.model.latents[name]!.idle;
    return sp;
  }

  private updateLatents(h: number): void {
    const sp = this.targets();
    const rho = Math.exp(-h / DISTURBANCE_TAU_S);
    const innovation = Math.sqrt(1 - rho * rho);
    for (const name of this.latentNames) {
      const def = this.model.latents[name]!;
      const d = rho * this.disturbance[name]! + innovation * this.rng.normal();
      this.disturbance[name] = d;
      const target = sp[name]! * (1 + (def.rel ?? 0) * d) + (def.abs ?? 0) * d;
      this.x[name] = this.x[name]! + (1 - Math.exp(-h / def.tau)) * (target - this.x[name]!);
    }
  }

  context(): ProcessContext {
    if (this.phase.kind !== 'step') return { step: 'idle' };
    const lot = `L${String(this.lot).padStart(4, '0')}`;
    return { recipe: this.recipe.name, step: this.recipe.steps[this.phase.step]!.name, lot, wafer: `${lot}-${String(this.wafer).padStart(2, '0')}` };
  }

  /** Reads every sensor (noise, clamp to physical range, rounding) and returns a validated snapshot. */
  read(ts: number, filter?: ReadingFilter): Telemetry | null {
    const sp = this.targets();
    const values: Record<string, number> = {};
    this.model.sensors.forEach((sensor, i) => {
      const noise = sensor.sigma * this.rng.normal();
      let reading: number | undefined = sensor.value(this.x, sp) + noise;
      if (filter) {
        const decoupled = () => sensor.value({ ...this.x, [sensor.driver]: sp[sensor.driver]! }, sp) + noise;
        reading = filter(sensor, reading, decoupled);
      }
      if (reading === undefined) return;
      const clamped = Math.min(sensor.spec.max, Math.max(sensor.spec.min, reading));
      const scale = 10 ** this.decimals[i]!;
      values[sensor.spec.name] = Math.round(clamped * scale) / scale;
    });
    if (Object.keys(values).length === 0) return null;
    return TelemetrySchema.parse({ ts, seq: this.seq++, values, context: this.context() });
  }
}
