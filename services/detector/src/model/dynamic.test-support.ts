import { gaussian, MEANS as STATIC_MEANS, MIX as STATIC_MIX, rng, SCALES as STATIC_SCALES } from './synthetic.test-support.js';

/**
 * Seeded normal data with time in it, for lagged-model tests: two AR(1) drivers (ρ = 0.9 per snapshot) seen by
 * five sensors at once, and a sixth (`outlet_temp`) that follows the first driver two snapshots late, as a
 * downstream thermocouple would. A static PCA sees that sensor only loosely tied to the others; a PCA with two
 * lags finds the exact relation.
 */
export const DYNAMIC_FEATURES = ['rf_power', 'chamber_pressure', 'gas_flow', 'temp_wall', 'bias_voltage', 'outlet_temp'];

// The first five sensors are the static set's (synthetic.test-support.ts); the sixth is the delayed one.
const MEANS = [...STATIC_MEANS.slice(0, 5), 45];
const SCALES = [...STATIC_SCALES.slice(0, 5), 1.5];
const MIX = STATIC_MIX.slice(0, 5);
const RHO = 0.9;
const NOISE = 0.2;
const DELAY = 2;

export function dynamicRows(count: number, seed: number): number[][] {
  const normal = gaussian(rng(seed));
  const innovation = Math.sqrt(1 - RHO * RHO);
  let drivers = [normal(), normal()];
  const history: number[] = [];
  const rows: number[][] = [];
  for (let i = 0; i < count; i++) {
    drivers = drivers.map((d) => RHO * d + innovation * normal());
    history.unshift(drivers[0] as number);
    if (history.length > DELAY + 1) history.length = DELAY + 1;
    const latent = [...MIX.map((w) => (w[0] as number) * (drivers[0] as number) + (w[1] as number) * (drivers[1] as number)), history[DELAY] ?? 0];
    rows.push(latent.map((l, j) => Math.fround((MEANS[j] as number) + (SCALES[j] as number) * (l + NOISE * normal()))));
  }
  return rows;
}
