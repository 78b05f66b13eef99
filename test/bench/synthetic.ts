/** Latent factors behind the synthetic sensors. */
const FACTORS = 4;

/** Sensor names of the synthetic stations: `s00`, `s01`, … */
export const sensorNames = (sensors: number): string[] => Array.from({ length: sensors }, (_, j) => `s${String(j).padStart(2, '0')}`);

/**
 * Deterministic correlated rows for the benchmarks: every sensor is a fixed mix of the same 4 latent factors, plus
 * a little noise, so a PCA model fits them as it fits a real tool. Same `seed`, same rows.
 */
export function syntheticRows(n: number, sensors: number, seed: number): number[][] {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const loadings = Array.from({ length: sensors }, (_, j) => Array.from({ length: FACTORS }, (_, k) => Math.sin(j * 1.7 + k * 2.3)));
  return Array.from({ length: n }, () => {
    const f = Array.from({ length: FACTORS }, gauss);
    return loadings.map((l, j) => 100 + j * 10 + l.reduce((a, w, k) => a + w * (f[k] as number), 0) + 0.1 * gauss());
  });
}
