import type { Anomaly, Contributor, EquipmentState, ModelMetadata, Severity } from '@linewatch/protocol';
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
}

export interface DecisionRules {
  /** Consecutive anomalous samples before WARN; 1 makes every single excursion visible. */
  warnAfter?: number;
  alarmAfter: number;
  clearAfter: number;
  /** score > threshold × this is critical. */
  criticalFactor?: number;
  topContributors?: number;
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
 * `alarmAfter` in a row, back to OK after `clearAfter` normal samples in a row. Outside PRODUCTIVE
 * the station never enters ALARM and raises no anomaly (the score is still stored): a tool in PM or
 * down is expected to look abnormal. Routing alerts by equipment state grows in a later issue.
 */
export function decide(prev: DecisionState, input: DecisionInput, rules: DecisionRules): Decision {
  const { row, model } = input;
  const criticalFactor = rules.criticalFactor ?? 2;
  const anomalous = row.score > model.threshold;
  const suppressed = input.equipmentState !== undefined && input.equipmentState !== 'PRODUCTIVE';
  const consecutiveAnomalous = anomalous ? prev.consecutiveAnomalous + 1 : 0;
  const consecutiveNormal = anomalous ? 0 : prev.consecutiveNormal + 1;

  let health: ModelHealth = prev.health;
  if (anomalous) {
    if (!suppressed && consecutiveAnomalous >= rules.alarmAfter) health = 'ALARM';
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
