import { AnomalySchema, type BrokenCorrelation, type RuleHit } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { decide, INITIAL_DECISION, rankContributors, type DecisionInput, type DecisionState } from './decision.js';

const model: DecisionInput['model'] = {
  features: ['a', 'b', 'c', 'd', 'e', 'f'],
  mean: [0, 0, 0, 0, 0, 0],
  std: [1, 1, 1, 1, 1, 1],
  threshold: 1,
  version: 'etch@test',
  t2Limit: 12,
};
const rules = { warnAfter: 1, alarmAfter: 3, clearAfter: 5 };

function input(ts: number, score: number, extra: Partial<DecisionInput> = {}): DecisionInput {
  return {
    line: 'fab1',
    station: 'etch-01',
    ts,
    seq: ts,
    values: { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 },
    row: { score, t2: score * 10, spe: score / 2 },
    model,
    equipmentState: 'PRODUCTIVE',
    ...extra,
  };
}

/** Runs a score sequence through decide(), one sample per ms from ts=1. */
function run(scores: number[], extra: Partial<DecisionInput> = {}, start: DecisionState = INITIAL_DECISION) {
  let state = start;
  return scores.map((s, i) => {
    const d = decide(state, input(i + 1, s, extra), rules);
    state = d.state;
    return d;
  });
}

describe('decide', () => {
  it('stays OK while scores are at or below the threshold', () => {
    const out = run([0.1, 0.5, 1.0, 0.99]);
    expect(out.map((d) => d.state.health)).toEqual(['OK', 'OK', 'OK', 'OK']);
    expect(out.every((d) => !d.anomalous && d.anomaly === undefined && d.contributors.length === 0)).toBe(true);
  });

  it('goes OK→WARN on the first anomalous sample and →ALARM on the third in a row, with one anomaly', () => {
    const out = run([1.5, 1.5, 1.5, 1.5, 1.5]);
    expect(out.map((d) => d.state.health)).toEqual(['WARN', 'WARN', 'ALARM', 'ALARM', 'ALARM']);
    expect(out.map((d) => d.anomaly !== undefined)).toEqual([false, false, true, false, false]);
    const anomaly = out[2]!.anomaly!;
    expect(AnomalySchema.parse(anomaly)).toEqual(anomaly);
    expect(anomaly).toMatchObject({ id: 'fab1/etch-01/3', severity: 'warning', score: 1.5, threshold: 1, t2Limit: 12, modelVersion: 'etch@test' });
    expect(out[2]!.state.since).toBe(3);
    expect(out[0]!.state.since).toBe(1);
  });

  it('with the default warnAfter of 2, a lone excursion stays OK and two in a row raise WARN', () => {
    const defaults = { alarmAfter: 3, clearAfter: 5 };
    let state = INITIAL_DECISION;
    const health = [1.5, 0.5, 1.5, 1.5, 1.5].map((score, i) => {
      const d = decide(state, input(i + 1, score), defaults);
      state = d.state;
      return [d.state.health, d.anomalous] as const;
    });
    expect(health).toEqual([['OK', true], ['OK', false], ['OK', true], ['WARN', true], ['ALARM', true]]);
    // warnAfter above alarmAfter cannot hide an ALARM's WARN step: ALARM still comes at alarmAfter.
    const d = decide(decide(INITIAL_DECISION, input(1, 2), { warnAfter: 5, alarmAfter: 2, clearAfter: 1 }).state, input(2, 2), { warnAfter: 5, alarmAfter: 2, clearAfter: 1 });
    expect(d.state.health).toBe('ALARM');
  });

  it('restarts the run count when a normal sample interrupts', () => {
    const out = run([2, 2, 0.5, 2, 2, 2]);
    expect(out.map((d) => d.state.health)).toEqual(['WARN', 'WARN', 'WARN', 'WARN', 'WARN', 'ALARM']);
    expect(out[5]!.state.consecutiveAnomalous).toBe(3);
  });

  it('returns to OK only after CLEAR_AFTER normal samples in a row', () => {
    const out = run([1.5, 1.5, 1.5, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0]);
    expect(out.map((d) => d.state.health)).toEqual([
      'WARN', 'WARN', 'ALARM', 'ALARM', 'ALARM', 'ALARM', 'ALARM', 'ALARM', 'ALARM', 'ALARM', 'ALARM', 'ALARM', 'OK',
    ]);
    expect(out[12]!.healthChanged).toBe(true);
    expect(out[12]!.state.episodeSeverity).toBeNull();
  });

  it('clears WARN with the same rule', () => {
    const out = run([1.5, 0, 0, 0, 0, 0]);
    expect(out.map((d) => d.state.health)).toEqual(['WARN', 'WARN', 'WARN', 'WARN', 'WARN', 'OK']);
  });

  it('emits critical when entering ALARM above twice the threshold', () => {
    const out = run([3, 3, 3]);
    expect(out[2]!.anomaly?.severity).toBe('critical');
  });

  it('emits a second anomaly when severity escalates within the episode, but never for de-escalation', () => {
    const out = run([1.5, 1.5, 1.5, 2.5, 1.5, 3, 2.5]);
    const emitted = out.flatMap((d) => (d.anomaly ? [[d.anomaly.ts, d.anomaly.severity]] : []));
    expect(emitted).toEqual([
      [3, 'warning'],
      [4, 'critical'],
    ]);
  });

  it('starts a new episode (and anomaly) after clearing', () => {
    const out = run([2, 2, 2, 0, 0, 0, 0, 0, 2, 2, 2]);
    expect(out.flatMap((d) => (d.anomaly ? [d.anomaly.id] : []))).toEqual(['fab1/etch-01/3', 'fab1/etch-01/11']);
  });

  it('never raises ALARM outside PRODUCTIVE, but still marks the samples anomalous', () => {
    for (const state of ['UNSCHEDULED_DOWN', 'SCHEDULED_DOWN', 'ENGINEERING', 'STANDBY', 'NON_SCHEDULED'] as const) {
      const out = run([5, 5, 5, 5], { equipmentState: state });
      expect(out.map((d) => d.state.health)).toEqual(['WARN', 'WARN', 'WARN', 'WARN']);
      expect(out.every((d) => d.anomalous && d.anomaly === undefined)).toBe(true);
    }
  });

  it('treats an unknown equipment state as productive', () => {
    const out = run([2, 2, 2], { equipmentState: undefined });
    expect(out[2]!.state.health).toBe('ALARM');
  });

  it('does not escalate severity while suppressed', () => {
    const inAlarm = run([1.5, 1.5, 1.5]).at(-1)!.state;
    const out = run([5], { equipmentState: 'UNSCHEDULED_DOWN' }, inAlarm);
    expect(out[0]!.anomaly).toBeUndefined();
  });

  it('raises ALARM on the first sample when ALARM_AFTER is 1', () => {
    const d = decide(INITIAL_DECISION, input(1, 2), { alarmAfter: 1, clearAfter: 1 });
    expect(d.state.health).toBe('ALARM');
    expect(d.anomaly).toBeDefined();
    expect(decide(d.state, input(2, 0), { alarmAfter: 1, clearAfter: 1 }).state.health).toBe('OK');
  });

  it('enters ALARM at once on one snapshot beyond alarmFactor × threshold, and not on one just under it', () => {
    const severeRules = { ...rules, alarmFactor: 5 };
    const under = decide(INITIAL_DECISION, input(1, 5), severeRules);
    expect(under.state.health).toBe('WARN');
    expect(under.anomaly).toBeUndefined();
    const over = decide(INITIAL_DECISION, input(1, 5.01), severeRules);
    expect(over.state.health).toBe('ALARM');
    expect(over.anomaly?.severity).toBe('critical');
    // Suppression still wins: a tool in PM does not alarm however far out.
    expect(decide(INITIAL_DECISION, input(1, 50, { equipmentState: 'SCHEDULED_DOWN' }), severeRules).state.health).not.toBe('ALARM');
  });

  it('is deterministic: the same input gives the same anomaly id', () => {
    const a = run([2, 2, 2])[2]!.anomaly;
    const b = run([2, 2, 2])[2]!.anomaly;
    expect(a).toEqual(b);
  });

  it('publishes a valid anomaly for a model that reports only a score (T² and SPE NaN become null)', () => {
    let state = INITIAL_DECISION;
    let last;
    for (let i = 1; i <= 3; i++) {
      last = decide(state, input(i, 2, { row: { score: 2, t2: Number.NaN, spe: Number.NaN } }), rules);
      state = last.state;
    }
    const anomaly = last!.anomaly!;
    expect(anomaly).toMatchObject({ t2: null, spe: null, score: 2 });
    expect(AnomalySchema.safeParse(JSON.parse(JSON.stringify(anomaly))).success).toBe(true);
  });

  it('never enters ALARM nor emits while suppressed, and alarms once suppression ends', () => {
    const out = run([5, 5, 5, 5], { suppressed: true });
    expect(out.map((d) => d.state.health)).toEqual(['WARN', 'WARN', 'WARN', 'WARN']);
    expect(out.every((d) => d.anomalous && d.anomaly === undefined)).toBe(true);
    const after = decide(out[3]!.state, input(5, 5, { suppressed: false }), rules);
    expect(after.state.health).toBe('ALARM');
    expect(after.anomaly).toBeDefined();
  });

  it('carries the rules that fired (WE1 first) and the broken correlations on the anomaly, computed only when emitted', () => {
    const hit = (rule: RuleHit['rule'], sensor: string): RuleHit => ({ rule, sensor, side: 'high', value: 9, center: 1, sigma: 2 });
    const broken: BrokenCorrelation[] = [{ sensors: ['a', 'b'], correlation: 0.95, z: [0.1, 5.2] }];
    let calls = 0;
    const out = run([1.5, 1.5, 1.5, 1.5], {
      rules: [hit('WE4', 'a'), hit('WE1', 'b'), hit('WE2', 'b')],
      brokenCorrelations: () => {
        calls++;
        return broken;
      },
    });
    expect(calls).toBe(1);
    const anomaly = out[2]!.anomaly!;
    expect(anomaly.rules?.map((h) => `${h.rule}:${h.sensor}`)).toEqual(['WE1:b', 'WE2:b', 'WE4:a']);
    expect(anomaly.brokenCorrelations).toEqual(broken);
    expect(AnomalySchema.parse(JSON.parse(JSON.stringify(anomaly)))).toEqual(anomaly);
    // Capped at the schema's limits.
    const many = run([2, 2, 2], { rules: Array.from({ length: 30 }, (_, i) => hit('WE3', `s${i}`)), brokenCorrelations: Array(12).fill(broken[0]) });
    expect(many[2]!.anomaly?.rules).toHaveLength(20);
    expect(many[2]!.anomaly?.brokenCorrelations).toHaveLength(10);
    expect(AnomalySchema.safeParse(many[2]!.anomaly).success).toBe(true);
  });

  it('leaves rules and brokenCorrelations off the anomaly when there are none', () => {
    const anomaly = run([2, 2, 2], { rules: [], brokenCorrelations: () => [] })[2]!.anomaly!;
    expect(Object.keys(anomaly)).not.toContain('rules');
    expect(Object.keys(anomaly)).not.toContain('brokenCorrelations');
  });

  it('counts a rule hit as anomalous only with spcAlarm', () => {
    const rulesIn = { rules: [{ rule: 'WE1', sensor: 'a', side: 'low', value: -9, center: 0, sigma: 2 }] as RuleHit[] };
    let plain = INITIAL_DECISION;
    let spc = INITIAL_DECISION;
    const spcRules = { ...rules, spcAlarm: true };
    const outs = [1, 2, 3].map((ts) => {
      const a = decide(plain, input(ts, 0.5, rulesIn), rules);
      const b = decide(spc, input(ts, 0.5, rulesIn), spcRules);
      plain = a.state;
      spc = b.state;
      return [a, b] as const;
    });
    expect(outs.map(([a]) => a.anomalous)).toEqual([false, false, false]);
    expect(plain.health).toBe('OK');
    expect(outs.map(([, b]) => b.anomalous)).toEqual([true, true, true]);
    expect(spc.health).toBe('ALARM');
    // The score is under the threshold: the anomaly says the run rules raised it.
    expect(outs[2]![1].anomaly).toMatchObject({ score: 0.5, threshold: 1, severity: 'warning', rules: rulesIn.rules });
    expect(decide(spc, input(4, 0.5), spcRules).anomalous).toBe(false);
  });

  it('carries context and replay onto the anomaly', () => {
    const out = run([2, 2, 2], { context: { lot: 'L1' }, replay: true });
    expect(out[2]!.anomaly).toMatchObject({ context: { lot: 'L1' }, replay: true });
  });
});

describe('rankContributors', () => {
  it('uses the model contrib and expected outputs, top 5 sorted by contribution', () => {
    const row = { score: 2, t2: 1, spe: 1, contrib: [0.05, 0.3, 0.1, 0.2, 0.25, 0.1], expected: [10, 20, 30, 40, 50, 60] };
    const top = rankContributors({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, row, model, 5);
    expect(top.map((c) => c.sensor)).toEqual(['b', 'e', 'd', 'c', 'f']);
    expect(top[0]).toEqual({ sensor: 'b', value: 2, expected: 20, contribution: 0.3 });
  });

  it('compares with the reconstruction when correlations break (SPE dominates), with the step mean when T² dominates', () => {
    const withLimits = { ...model, mean: [1, 1, 1, 1, 1, 1], t2Limit: 10, speLimit: 2 };
    const values = { a: 1, b: 9, c: 3, d: 4, e: 5, f: 6 };
    const contrib = [0.05, 0.3, 0.1, 0.2, 0.25, 0.1];
    const expected = [10, 20, 30, 40, 50, 60];
    const speDominated = rankContributors(values, { score: 3, t2: 5, spe: 6, contrib, expected }, withLimits, 1);
    expect(speDominated[0]).toEqual({ sensor: 'b', value: 9, expected: 20, contribution: 0.3 });
    const t2Dominated = rankContributors(values, { score: 3, t2: 30, spe: 1, contrib, expected }, withLimits, 1);
    expect(t2Dominated[0]).toEqual({ sensor: 'b', value: 9, expected: 1, contribution: 0.3 });
  });

  it('falls back to squared z-scores against the training mean when the model has no contrib output', () => {
    const top = rankContributors({ a: 0, b: 3, c: 1, d: 0, e: 0, f: 0 }, { score: 2, t2: 1, spe: 1 }, model, 2);
    expect(top).toEqual([
      { sensor: 'b', value: 3, expected: 0, contribution: 0.9 },
      { sensor: 'c', value: 1, expected: 0, contribution: 0.1 },
    ]);
  });
});
