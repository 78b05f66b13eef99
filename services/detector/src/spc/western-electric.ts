import { SPC_RULES, type RuleHit, type SpcRule } from '@linewatch/protocol';

/** Control limits of an individuals chart per feature: centre line and one sigma, in raw sensor units. */
export interface SpcLimits {
  center: number[];
  sigma: number[];
}

const NO_HITS: readonly RuleHit[] = Object.freeze([]);
/** Set bits per byte, so a rule's "k of the last n" is one table lookup. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x > 0; x >>= 1) n += x & 1;
  return n;
});
const LAST_3 = 0b111;
const LAST_5 = 0b11111;
const LAST_8 = 0xff;

/**
 * The Western Electric run rules on each feature of one station, sample by sample:
 * - WE1: the sample is beyond 3σ;
 * - WE2: 2 of the last 3 beyond 2σ on one side;
 * - WE3: 4 of the last 5 beyond 1σ on one side;
 * - WE4: the last 8 on one side of the centre line.
 *
 * A rule fires on the sample that completes its pattern, and on every later sample that still completes it
 * (the sample itself must be one of the points beyond the zone, so a rule never fires on a sample back near
 * the centre). Callers get a level signal, not edges: the decision raises one anomaly per episode anyway,
 * and "fires on every sample where it holds" is what a firing rate measures.
 *
 * State is six 8-bit shift registers per feature (bit 0 = latest sample), so a push allocates nothing
 * unless a rule fires. A missing or non-finite reading sits on the centre line: it breaks every run.
 * A feature whose sigma is not a positive finite number (constant in training) is not judged.
 *
 * @example
 * const rules = new RunRules(['rf_power'], { center: [900], sigma: [2] });
 * rules.push([907]); // [{ rule: 'WE1', sensor: 'rf_power', side: 'high', value: 907, center: 900, sigma: 2 }]
 */
export class RunRules {
  private readonly center: Float64Array;
  private readonly sigma: Float64Array;
  /** 1/σ, or 0 for a feature that is not judged. */
  private readonly invSigma: Float64Array;
  private readonly above: Uint8Array;
  private readonly below: Uint8Array;
  private readonly high1: Uint8Array;
  private readonly low1: Uint8Array;
  private readonly high2: Uint8Array;
  private readonly low2: Uint8Array;

  constructor(
    readonly features: readonly string[],
    limits: SpcLimits,
  ) {
    const n = features.length;
    if (limits.center.length !== n || limits.sigma.length !== n) {
      throw new Error(`SPC limits have ${limits.center.length} centres and ${limits.sigma.length} sigmas for ${n} features`);
    }
    this.center = Float64Array.from(limits.center);
    this.sigma = Float64Array.from(limits.sigma);
    this.invSigma = this.sigma.map((s) => (Number.isFinite(s) && s > 0 ? 1 / s : 0));
    this.above = new Uint8Array(n);
    this.below = new Uint8Array(n);
    this.high1 = new Uint8Array(n);
    this.low1 = new Uint8Array(n);
    this.high2 = new Uint8Array(n);
    this.low2 = new Uint8Array(n);
  }

  /** One snapshot, values in `features` order. Returns the rules that hold on it, WE1..WE4 per feature. */
  push(values: ArrayLike<number>): readonly RuleHit[] {
    let hits: RuleHit[] | undefined;
    for (let i = 0; i < this.features.length; i++) hits = this.step(i, values[i] ?? Number.NaN, hits);
    return hits ?? NO_HITS;
  }

  /** The same, reading each feature by name (the snapshot as it arrives); a sensor that is absent breaks its runs. */
  pushRecord(values: Readonly<Record<string, number>>): readonly RuleHit[] {
    let hits: RuleHit[] | undefined;
    for (let i = 0; i < this.features.length; i++) hits = this.step(i, values[this.features[i] as string] ?? Number.NaN, hits);
    return hits ?? NO_HITS;
  }

  /** Forgets the history, e.g. when the station's context (and so its limits) changes or after a gap. */
  reset(): void {
    for (const register of [this.above, this.below, this.high1, this.low1, this.high2, this.low2]) register.fill(0);
  }

  private step(i: number, value: number, hits: RuleHit[] | undefined): RuleHit[] | undefined {
    const inv = this.invSigma[i] as number;
    if (inv === 0) return hits;
    let z = (value - (this.center[i] as number)) * inv;
    if (!Number.isFinite(z)) z = 0;
    // The store keeps the low 8 bits, dropping the sample that left the longest window (the expression's own
    // value is not truncated, so every use below masks).
    const above = (this.above[i] = ((this.above[i] as number) << 1) | (z > 0 ? 1 : 0));
    const below = (this.below[i] = ((this.below[i] as number) << 1) | (z < 0 ? 1 : 0));
    const high1 = (this.high1[i] = ((this.high1[i] as number) << 1) | (z > 1 ? 1 : 0));
    const low1 = (this.low1[i] = ((this.low1[i] as number) << 1) | (z < -1 ? 1 : 0));
    const high2 = (this.high2[i] = ((this.high2[i] as number) << 1) | (z > 2 ? 1 : 0));
    const low2 = (this.low2[i] = ((this.low2[i] as number) << 1) | (z < -2 ? 1 : 0));
    if (z === 0) return hits;
    const high = z > 0;
    // Each rule needs this sample in its zone on its side: the register's bit 0 says exactly that.
    const zone1 = high ? high1 : low1;
    const zone2 = high ? high2 : low2;
    const run = high ? above : below;
    let fired = 0;
    if (z > 3 || z < -3) fired |= 1;
    if ((zone2 & 1) === 1 && (POPCOUNT[zone2 & LAST_3] as number) >= 2) fired |= 2;
    if ((zone1 & 1) === 1 && (POPCOUNT[zone1 & LAST_5] as number) >= 4) fired |= 4;
    if ((run & LAST_8) === LAST_8) fired |= 8;
    if (fired === 0) return hits;
    const out = hits ?? [];
    for (let r = 0; r < SPC_RULES.length; r++) {
      if ((fired & (1 << r)) === 0) continue;
      out.push({
        rule: SPC_RULES[r] as SpcRule,
        sensor: this.features[i] as string,
        side: high ? 'high' : 'low',
        value,
        center: this.center[i] as number,
        sigma: this.sigma[i] as number,
      });
    }
    return out;
  }
}
