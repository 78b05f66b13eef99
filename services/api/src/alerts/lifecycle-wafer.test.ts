import { describe, expect, it } from 'vitest';
import { AlertLifecycle } from './lifecycle.js';
import { RULES, Transcript, active, clear } from './lifecycle.test-support.js';
import type { Observation } from './types.js';

const MIN = 60_000;
const SOURCE = 'wafer/main_etch';
const key = `fab1/etch-01/${SOURCE}`;

/** A wafer verdict of etch-01's main_etch step as the observation feed makes it: one per wafer, minutes apart. */
function wafer(at: number, verdict: 'fault' | 'ok', patch: Partial<Observation> = {}): Observation {
  const base = verdict === 'fault' ? active(at) : clear(at);
  const name = `W${at / MIN}`;
  return {
    ...base,
    source: SOURCE,
    level: 'wafer',
    wafer: { verdictId: `fab1/etch-01/${name}/main_etch/${at}`, wafer: name, lot: 'L01', recipe: null, step: 'main_etch', start: at - MIN, end: at, baseline: 'b1' },
    ...patch,
  };
}

describe('AlertLifecycle: wafer-level alerts (one observation per wafer)', () => {
  it('fires at its fault wafer, stays one episode over later faults, and resolves once after an ok wafer', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    const first = log.record(engine.observe(wafer(0, 'fault')));
    // No for-duration: the verdict already judged the whole step.
    expect(first.notifications.map((n) => n.id)).toEqual([`${key}/0/firing/warning`]);
    expect(log.reasons(`${key}/0`)).toContain('pending>firing: wafer verdict: no for-duration');
    for (let t = 1_000; t < 3 * MIN; t += 1_000) log.record(engine.tick(t));
    log.record(engine.observe(wafer(3 * MIN, 'fault')));
    for (let t = 3 * MIN; t < 6 * MIN; t += 1_000) log.record(engine.tick(t));
    log.record(engine.observe(wafer(6 * MIN, 'ok')));
    expect(log.record(engine.tick(6 * MIN + 29_999)).notifications).toEqual([]);
    const resolved = log.record(engine.tick(6 * MIN + 30_000));
    expect(resolved.alerts).toMatchObject([{ id: `${key}/0`, state: 'resolved', resolvedAt: 6 * MIN + 30_000 }]);
    for (let t = 6 * MIN + 31_000; t < 10 * MIN; t += 1_000) log.record(engine.tick(t));
    log.record(engine.observe(wafer(10 * MIN, 'ok')));
    expect(log.notificationIds()).toEqual([`${key}/0/firing/warning`, `${key}/0/resolved/warning`]);
  });

  it('keeps the latest faulty wafer as the evidence, and escalates when a later wafer is critical', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    log.record(engine.observe(wafer(0, 'fault')));
    const later = log.record(engine.observe(wafer(3 * MIN, 'fault', { severity: 'critical', score: 4 })));
    expect(later.alerts[0]).toMatchObject({ severity: 'critical', score: 4, level: 'wafer', wafer: { wafer: 'W3' } });
    expect(log.notificationIds()).toEqual([`${key}/0/firing/warning`, `${key}/0/escalated/critical`]);
  });

  it('is not muted by the station going to STANDBY between wafers, nor by the model’s STANDBY observations', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    engine.equipment({ line: 'fab1', station: 'etch-01', state: 'PRODUCTIVE', at: 0 });
    log.record(engine.observe(wafer(1_000, 'fault')));
    log.record(engine.equipment({ line: 'fab1', station: 'etch-01', state: 'STANDBY', at: 2_000 }));
    log.record(engine.observe(clear(3_000, { equipmentState: 'STANDBY' })));
    log.record(engine.tick(MIN));
    expect(engine.open()).toMatchObject([{ source: SOURCE, state: 'firing', muted: false }]);
    expect(log.transitions.some((t) => t.reason.startsWith('muted'))).toBe(false);
    // The sample-wise model alert of the same station still is muted by STANDBY, as before.
    log.record(engine.observe(active(MIN + 1_000, { equipmentState: 'STANDBY' })));
    expect(engine.open().map((a) => [a.source, a.muted])).toEqual([['model', true], [SOURCE, false]]);
  });

  it('fires even when an ok wafer follows within the for-duration (a fast replay), then resolves once', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    log.record(engine.observe(wafer(0, 'fault')));
    log.record(engine.observe(wafer(2_000, 'ok')));
    log.record(engine.tick(40_000));
    expect(log.notificationIds()).toEqual([`${key}/0/firing/warning`, `${key}/0/resolved/warning`]);
  });

  it('keeps the hysteresis: an ok wafer scoring just under the threshold does not start the clear hold', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    log.record(engine.observe(wafer(0, 'fault')));
    log.record(engine.observe(wafer(3 * MIN, 'ok', { score: 0.95 })));
    log.record(engine.tick(5 * MIN));
    expect(engine.open()).toMatchObject([{ state: 'firing', clearSince: null }]);
    log.record(engine.observe(wafer(6 * MIN, 'ok')));
    log.record(engine.tick(7 * MIN));
    expect(log.notificationIds()).toEqual([`${key}/0/firing/warning`, `${key}/0/resolved/warning`]);
  });

  it('after a restart, a wafer alert is still judged by its wafer: STANDBY does not mute it', () => {
    const before = new AlertLifecycle(RULES);
    before.observe(wafer(0, 'fault'));
    const after = new AlertLifecycle(RULES, before.open());
    const result = after.equipment({ line: 'fab1', station: 'etch-01', state: 'STANDBY', at: 1_000 });
    expect(result.transitions).toEqual([]);
    expect(after.open()).toMatchObject([{ level: 'wafer', muted: false, state: 'firing' }]);
  });
});
