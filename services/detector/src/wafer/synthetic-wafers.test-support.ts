import { gaussian, rng } from '../model/synthetic.test-support.js';

/**
 * Seeded "normal" wafers for wafer-model tests: `indicators` values driven by 3 latent process drivers plus
 * independent noise (`noise` is each indicator's noise share of its variance). Levels and scales differ by
 * indicator, some near 16000, so standardisation and float precision are exercised.
 */
export interface WaferPopulation {
  /** Wafer-to-wafer std of each indicator. */
  scale: Float64Array;
  /** Normal level of each indicator. */
  level: Float64Array;
  /** An endless stream of independent normal wafers, seeded. */
  wafers(seed: number): () => Float64Array;
}

export const LATENT_DRIVERS = 3;

export function waferPopulation(indicators: number, opts: { seed?: number; noise?: number } = {}): WaferPopulation {
  const noise = opts.noise ?? 0.15;
  const normal = gaussian(rng(opts.seed ?? 100));
  // Each indicator's loadings are scaled so its total variance is 1 before `scale`.
  const loadings = Array.from({ length: indicators }, () => {
    const a = Array.from({ length: LATENT_DRIVERS }, () => normal());
    const norm = Math.hypot(...a);
    return a.map((v) => (v / norm) * Math.sqrt(1 - noise));
  });
  const level = Float64Array.from({ length: indicators }, (_, j) => (j % 3 === 0 ? 16000 : 0) + 100 * (j % 7) + 1);
  const scale = Float64Array.from({ length: indicators }, (_, j) => 0.01 * 10 ** (j % 4));
  return {
    scale,
    level,
    wafers(seed) {
      const g = gaussian(rng(seed));
      return () => {
        const drivers = Array.from({ length: LATENT_DRIVERS }, () => g());
        return Float64Array.from(loadings, (a, j) => {
          const latent = a.reduce((s, w, c) => s + w * (drivers[c] as number), 0);
          return (level[j] as number) + (scale[j] as number) * (latent + Math.sqrt(noise) * g());
        });
      };
    },
  };
}

/** Mean of the first `count` vectors: a period's baseline as training takes it. */
export function baselineOf(vectors: readonly Float64Array[], count = 5): Float64Array {
  const first = vectors.slice(0, count);
  const out = new Float64Array(first[0]?.length ?? 0);
  for (const v of first) for (let j = 0; j < out.length; j++) out[j]! += (v[j] as number) / first.length;
  return out;
}
