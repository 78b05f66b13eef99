import { SPC_RULES, type Anomaly, type BrokenCorrelation, type Contributor, type EquipmentState, type ModelMetadata, type RuleHit, type Severity } from '@linewatch/protocol';
import type { ReadingPoint } from '@linewatch/store';
import type { ScoredRow } from './model/types.js';

/** The model-driven part of a station's health; OFFLINE, DATA_QUALITY and UNMODELLED are overlays the tracker adds. */
export type ModelHealth = 'OK' | 'WARN' | 'ALARM';

export interface DecisionState {
  health: ModelHealth;
  /** Epoch ms (reading ts) when `health` last changed. */
  since: number;
  consecutiveAnomalous: number;
  consecutiveNormal: number;
  /** Highest severity announced in the current ALARM episode; null outside ALARM. */
  episodeSeverity: Severity | null;
}

export const INITIAL_DECISION: DecisionState = Object.freeze({
  health: 'OK',
  since: 0,
  consecutiveAnomalous: 0,
  consecutiveNormal: 0,
  episodeSeverity: null,
}) as DecisionState;

/** The snapshot as stored (line, station, ts, seq, raw values by sensor, context, replay), plus its score. */
export interface DecisionInput extends ReadingPoint {
  row: ScoredRow;
  model: Pick<ModelMetadata, 'features' | 'mean' | 'std' | 'threshold' | 'version' | 't2Limit' | 'speLimit'>;
  /** Latest known equipment state; undefined (never reported) counts as productive. */
  equipmentState: EquipmentState | undefined;
  /**
   * Do not enter ALARM and emit no anomaly (the sample is still judged and counted), e.g. while the station has a
   * data-quality issue or warms up. A non-PRODUCTIVE equipment state suppresses the same way.
   */
  suppressed?: boolean;
  /** SPC run rules that hold on this snapshot (RunRules.push); carried on the anomaly, and alarm with `spcAlarm`. */
  rules?: readonly RuleHit[];
  /**
   * Pairs whose normal correlation this snapshot breaks, or a function computing them: it is called only when an
   * anomaly is emitted, so the normal majority of snapshots pays nothing.
   */
  brokenCorrelations?: readonly BrokenCorrelation[] | (() => readonly BrokenCorrelation[]);
}

export interface DecisionRules {
  /** Consecutive anomalous samples before WARN; 1 makes every single excursion visible. */
  warnAfter?: number;
  alarmAfter: number;
  clearAfter: number;
  /** score > threshold × this is critical. */
  criticalFactor?: number;
  /**
   * One snapshot with score > threshold × this enters ALARM at once, without waiting for `alarmAfter` in a row
   * (default: never). A 20σ spike lasts one sample; a limit this far out is crossed by normal data about never, so
   * it can skip the debounce that keeps marginal excursions quiet. The value is chosen by backtest numbers.
   */
  alarmFactor?: number;
  topContributors?: number;
  /**
   * Count a snapshot as anomalous when an SPC rule holds on it, as well as when the score is over the threshold
   * (default false). Off by default because the run rules alone fire far too often on normal data of a tool with
   * a dozen sensors at 1 Hz: 20–160 ALARM episodes per productive hour per simulated tool
   * (`spc/false-firing-cli.ts`). On, the backtest measures SPC as a detector family of its own.
   */
  spcAlarm?: boolean;
}

export interface Decision {
  state: DecisionState;
  anomalous: boolean;
  healthChanged: boolean;
  /** Set when the station enters ALARM or its severity escalates within the episode. */
  anomaly: Anomaly | undefined;
  /** Ranked contributors of this snapshot (empty when it is normal). */
  contributors: Contributor[];
}

/** A model with only a `score` output reports T² and SPE as NaN; messages and stores carry that as null. */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

const SEVERITY_RANK: Record<Severity, number> = { warning: 1, critical: 2 };
const RULE_RANK = Object.fromEntries(SPC_RULES.map((r, i) => [r, i])) as Record<RuleHit['rule'], number>;
/** The anomaly schema's caps. */
const MAX_RULES = 20;
const MAX_BROKEN = 10;

/** The evidence an anomaly carries besides the score: rule hits (WE1 first) and broken pairs, only when there are any. */
function evidence(input: DecisionInput): Pick<Anomaly, 'rules' | 'brokenCorrelations'> {
  const rules = input.rules && input.rules.length > 0 ? [...input.rules].sort((a, b) => RULE_RANK[a.rule] - RULE_RANK[b.rule]).slice(0, MAX_RULES) : [];
  const broken = typeof input.brokenCorrelations === 'function' ? input.brokenCorrelations() : (input.brokenCorrelations ?? []);
  return {
    ...(rules.length > 0 ? { rules } : {}),
    ...(broken.length > 0 ? { brokenCorrelations: broken.slice(0, MAX_BROKEN) } : {}),
  };
}

/**
 * Ranks sensors by their share of the score. Uses the model's `contrib` output when present; otherwise squared
 * z-scores against the training mean, which is what a PCA model's T² contribution reduces to when no
 * component structure is known.
 *
 * "Expected" is what an engineer should compare the reading with. When the snapshot breaks the model's
 * correlations (SPE dominates), that is the model's reconstruction (`expected` output): what this sensor should
 * read given the others. When the sensors still agree with each other but sit too far from normal (T²
 * dominates), the reconstruction follows the reading and says nothing, so it is the baseline mean of the
 * model's context instead (what this sensor normally reads in this step).
 */
export function rankContributors(
  values: Record<string, number>,
  row: ScoredRow,
  model: DecisionInput['model'],
  top: number,
): Contributor[] {
  const { features, mean, std } = model;
  const fallback = features.map((f, i) => {
    const s = std[i] ?? 1;
    const z = ((values[f] ?? 0) - (mean[i] ?? 0)) / (s > 0 ? s : 1);
    return z * z;
  });
  const fallbackSum = fallback.reduce((a, b) => a + b, 0);
  const t2Share = model.t2Limit ? row.t2 / model.t2Limit : Number.NaN;
  const speShare = model.speLimit ? row.spe / model.speLimit : Number.NaN;
  const useReconstruction = row.expected !== undefined && !(t2Share > speShare);
  const all = features.map((sensor, i) => ({
    sensor,
    value: values[sensor] ?? Number.NaN,
    expected: (useReconstruction ? row.expected?.[i] : undefined) ?? mean[i] ?? 0,
    contribution: row.contrib ? (row.contrib[i] ?? 0) : fallbackSum > 0 ? (fallback[i] ?? 0) / fallbackSum : 0,
  }));
  return all
    .filter((c) => Number.isFinite(c.contribution) && Number.isFinite(c.value))
    .sort((a, b) => b.contribution - a.contribution || a.sensor.localeCompare(b.sensor))
    .slice(0, top);
}

/**
 * Pure health decision for one scored snapshot. OK→WARN after `warnAfter` anomalous samples in a row
 * (default 2: at α = 0.999 a single sample over the limit happens about once a minute somewhere on a line,
 * and a wall screen that flickers ATTENTION that often teaches people to ignore it), →ALARM after
 * `alarmAfter` in a row, back to OK after `clearAfter` normal samples in a row. Outside PRODUCTIVE, or when
 * the input says `suppressed`, the station never enters ALARM and raises no anomaly (the score is still
 * stored): a tool in PM or down, or one whose data cannot be trusted, is expected to look abnormal.
 * Routing alerts by equipment state grows in a later issue.
 *
 * A sample is anomalous when its score is over the model's threshold (T² or SPE over its limit, for a PCA
 * model), or, with `spcAlarm`, when an SPC rule holds. The anomaly says which: t2/t2Limit and spe/speLimit for
 * the model, `rules` for the run rules that hold on the emitting snapshot. Rules hold on many snapshots of an
 * episode; only the emitting one's are carried, so an episode reports them once.
 */
export function decide(prev: DecisionState, input: DecisionInput, rules: DecisionRules): Decision {
  const { row, model } = input;
  const criticalFactor = rules.criticalFactor ?? 2;
  const anomalous = row.score > model.threshold || (rules.spcAlarm === true && (input.rules?.length ?? 0) > 0);
  const suppressed = input.suppressed === true || (input.equipmentState !== undefined && input.equipmentState !== 'PRODUCTIVE');
  const consecutiveAnomalous = anomalous ? prev.consecutiveAnomalous + 1 : 0;
  const consecutiveNormal = anomalous ? 0 : prev.consecutiveNormal + 1;

  let health: ModelHealth = prev.health;
  if (anomalous) {
    const severe = rules.alarmFactor !== undefined && row.score > model.threshold * rules.alarmFactor;
    if (!suppressed && (consecutiveAnomalous >= rules.alarmAfter || severe)) health = 'ALARM';
    else if (health === 'OK' && consecutiveAnomalous >= Math.min(rules.warnAfter ?? 2, rules.alarmAfter)) health = 'WARN';
  } else if (health !== 'OK' && consecutiveNormal >= rules.clearAfter) {
    health = 'OK';
  }

  const severity: Severity = row.score > model.threshold * criticalFactor ? 'critical' : 'warning';
  let episodeSeverity = health === 'ALARM' ? prev.episodeSeverity : null;
  const contributors = anomalous ? rankContributors(input.values, row, model, rules.topContributors ?? 5) : [];
  let anomaly: Anomaly | undefined;
  const entering = health === 'ALARM' && prev.health !== 'ALARM';
  const escalating =
    health === 'ALARM' && anomalous && !suppressed && episodeSeverity !== null && SEVERITY_RANK[severity] > SEVERITY_RANK[episodeSeverity];
  if (entering || escalating) {
    episodeSeverity = severity;
    anomaly = {
      id: `${input.line}/${input.station}/${input.ts}`,
      line: input.line,
      station: input.station,
      ts: input.ts,
      seq: input.seq,
      score: row.score,
      threshold: model.threshold,
      t2: finiteOrNull(row.t2),
      ...(model.t2Limit !== undefined ? { t2Limit: model.t2Limit } : {}),
      spe: finiteOrNull(row.spe),
      ...(model.speLimit !== undefined ? { speLimit: model.speLimit } : {}),
      modelVersion: model.version,
      severity,
      contributors,
      ...evidence(input),
      ...(input.context ? { context: input.context } : {}),
      ...(input.replay !== undefined ? { replay: input.replay } : {}),
    };
  }

  const healthChanged = health !== prev.health;
  return {
    state: {
      health,
      since: healthChanged ? input.ts : prev.since,
      consecutiveAnomalous,
      consecutiveNormal,
      episodeSeverity,
    },
    anomalous,
    healthChanged,
    anomaly,
    contributors,
  };
}
