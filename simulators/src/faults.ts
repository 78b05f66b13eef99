import type { FaultType } from '@linewatch/protocol';
import { hashSeed, type Rng } from './rng.js';
import { FAULT_DEFAULT_MAGNITUDE, type FaultSpec, type Scenario } from './scenario.js';
import type { SensorModel } from './tools/index.js';

/** A scheduled fault resolved against its station: sensors named and magnitude filled in. */
export interface PlannedFault {
  type: FaultType;
  sensors: string[];
  magnitude: number;
  at: number;
  duration: number;
}

/** A fault while it lasts, with the little state some types need (frozen values, wander). */
export interface ActiveFault extends PlannedFault {
  id: string;
  startTs: number;
  startElapsed: number;
  /** Occurrence number when the scenario repeats. */
  occurrence: number;
  frozen: Map<string, number>;
  wander: Map<string, number>;
}

/** Resolves the scenario's faults for one station; unknown sensors are a scenario error. */
export function planFaults(scenario: Scenario, stationId: string, sensors: SensorModel[]): PlannedFault[] {
  const names = sensors.map((s) => s.spec.name);
  return scenario.faults
    .filter((f) => f.station === stationId)
    .map((f: FaultSpec) => {
      for (const s of f.sensors ?? []) {
        if (!names.includes(s)) throw new Error(`scenario fault ${f.type}@${f.at}s on ${stationId}: unknown sensor '${s}'; known: ${names.join(', ')}`);
      }
      const chosen = f.type === 'tool_down' ? names : (f.sensors ?? [names[hashSeed(stationId, f.type, f.at) % names.length]!]);
      return { type: f.type, sensors: chosen, magnitude: f.magnitude ?? FAULT_DEFAULT_MAGNITUDE[f.type], at: f.at, duration: f.duration };
    });
}

/** Which occurrence of a planned fault covers `elapsed` seconds, or null when none does. */
export function occurrenceAt(fault: PlannedFault, elapsed: number, repeatEvery: number | undefined): number | null {
  const k = repeatEvery ? Math.floor(elapsed / repeatEvery) : 0;
  const local = elapsed - k * (repeatEvery ?? 0);
  return local >= fault.at && local < fault.at + fault.duration ? k : null;
}

const WANDER_TAU_S = 8;
const SPIKES_PER_SECOND = 0.3;

/**
 * Applies one active fault to a sensor reading. `clean` is the reading with noise; `decoupled` is the
 * same sensor evaluated with its driver latent held at its setpoint (for broken_correlation).
 */
export function applyFault(
  fault: ActiveFault,
  sensor: SensorModel,
  reading: number,
  decoupled: () => number,
  elapsed: number,
  dt: number,
  rng: Rng,
): number | undefined {
  const name = sensor.spec.name;
  const size = fault.magnitude * sensor.sigma;
  switch (fault.type) {
    case 'drift':
      return reading + size * Math.min(1, (elapsed - fault.startElapsed) / fault.duration);
    case 'step':
      return reading + size;
    case 'spike': {
      // One spike on the first tick so every spike fault is visible, then at random.
      const first = elapsed === fault.startElapsed;
      if (!first && rng.next() >= SPIKES_PER_SECOND * dt) return reading;
      return reading + (rng.next() < 0.5 ? -size : size);
    }
    case 'stuck': {
      const frozen = fault.frozen.get(name);
      if (frozen !== undefined) return frozen;
      fault.frozen.set(name, reading);
      return reading;
    }
    case 'noise_burst':
      return reading + sensor.sigma * Math.sqrt(Math.max(0, fault.magnitude ** 2 - 1)) * rng.normal();
    case 'broken_correlation': {
      // The sensor stops following its driver's variation and wanders on its own instead.
      const rho = Math.exp(-dt / WANDER_TAU_S);
      const w = rho * (fault.wander.get(name) ?? rng.normal()) + Math.sqrt(1 - rho * rho) * rng.normal();
      fault.wander.set(name, w);
      return decoupled() + size * w;
    }
    case 'dropout':
      return undefined;
    case 'tool_down':
      return reading;
  }
}
