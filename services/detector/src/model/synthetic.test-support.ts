/** Seeded correlated "normal" data for model tests: 2 latent process drivers seen by 6 sensors of mixed scale. */
export const SYNTHETIC_FEATURES = ['rf_power', 'chamber_pressure', 'gas_flow', 'temp_wall', 'bias_voltage', 'endpoint_signal'];

export const MEANS = [1500, 0.12, 85, 62, -340, 0.5];
export const SCALES = [25, 0.004, 2.5, 0.8, 6, 0.02];
/** Loadings of each sensor on the two drivers; the rest of its variance is independent noise. */
export const MIX = [
  [0.9, 0.1],
  [0.2, 0.85],
  [0.7, 0.5],
  [0.1, 0.9],
  [-0.8, 0.3],
  [0.6, -0.6],
];
const NOISE = 0.25;

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(next: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

export function syntheticRows(count: number, seed: number): number[][] {
  const normal = gaussian(rng(seed));
  return Array.from({ length: count }, () => {
    const drivers = [normal(), normal()];
    return MIX.map((w, j) => {
      const latent = (w[0] as number) * (drivers[0] as number) + (w[1] as number) * (drivers[1] as number);
      return Math.fround((MEANS[j] as number) + (SCALES[j] as number) * (latent + NOISE * normal()));
    });
  });
}
