import { describe, expect, it } from 'vitest';
import { AlertLifecycle, DEFAULT_LIFECYCLE_RULES } from './lifecycle.js';
import { RULES, Transcript, active, clear } from './lifecycle.test-support.js';

const ID = 'fab1/etch-01/model/0';

describe('AlertLifecycle: one episode', () => {
  it('goes pending, firing after forMs, acknowledged, escalated back to firing, resolved once after the hold', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();

    const opened = log.record(engine.observe(active(0)));
    expect(opened.alerts).toMatchObject([{ id: ID, state: 'pending', severity: 'warning', startedAt: 0 }]);
    expect(opened.transitions).toMatchObject([{ alertId: ID, from: null, to: 'pending' }]);

    // Not before forMs, whether judged by an observation or a tick.
    log.record(engine.observe(active(9_999)));
    log.record(engine.tick(9_999));
    expect(engine.open()[0]?.state).toBe('pending');
    expect(log.notifications).toEqual([]);

    const fired = log.record(engine.tick(10_500));
    expect(fired.alerts).toMatchObject([{ state: 'firing', firingAt: 10_000, notifiedSeverity: 'warning' }]);
    expect(fired.notifications).toMatchObject([{ id: `${ID}/firing/warning`, kind: 'firing', at: 10_000 }]);

    const acked = log.record(engine.acknowledge(ID, { by: 'ana', at: 12_000, comment: 'looking at the RF generator' }));
    expect(acked.alerts).toMatchObject([{ state: 'acknowledged', ack: { by: 'ana', at: 12_000 } }]);
    expect(acked.notifications).toEqual([]);

    const escalated = log.record(engine.observe(active(15_000, { severity: 'critical', score: 6 })));
    expect(escalated.alerts).toMatchObject([{ state: 'firing', severity: 'critical', ack: null, score: 6 }]);
    expect(escalated.notifications).toMatchObject([{ id: `${ID}/escalated/critical`, kind: 'escalated' }]);
    expect(escalated.transitions).toMatchObject([{ from: 'acknowledged', to: 'firing', severity: 'critical' }]);
    expect(escalated.transitions[0]?.reason).toContain('acknowledgement by ana');

    // A warning verdict afterwards does not lower the severity of the episode.
    log.record(engine.observe(active(16_000, { severity: 'warning' })));
    expect(engine.open()[0]?.severity).toBe('critical');

    log.record(engine.observe(clear(20_000)));
    log.record(engine.tick(45_000));
    // An active blip during the hold starts it over: 20 s + 30 s would resolve at 50 s, but not now.
    log.record(engine.observe(active(45_000, { severity: 'critical' })));
    log.record(engine.observe(clear(46_000)));
    expect(log.record(engine.tick(75_999)).transitions).toEqual([]);
    expect(engine.open()[0]).toMatchObject({ state: 'firing', clearSince: 46_000 });

    const resolved = log.record(engine.tick(90_000));
    expect(resolved.alerts).toMatchObject([{ id: ID, state: 'resolved', resolvedAt: 76_000 }]);
    expect(resolved.notifications).toMatchObject([{ id: `${ID}/resolved/critical`, kind: 'resolved', at: 76_000 }]);
    log.record(engine.tick(500_000));
    log.record(engine.observe(clear(500_000)));

    expect(engine.open()).toEqual([]);
    expect(log.notificationIds()).toEqual([`${ID}/firing/warning`, `${ID}/escalated/critical`, `${ID}/resolved/critical`]);
    expect(log.transitions.map((t) => `${t.from ?? '-'}>${t.to}`)).toEqual([
      '->pending',
      'pending>firing',
      'firing>acknowledged',
      'acknowledged>firing',
      'firing>resolved',
    ]);
  });

  it('keeps the evidence of the latest active observation while the alert clears', () => {
    const engine = new AlertLifecycle(RULES);
    engine.observe(active(0, { score: 2, contributors: [{ sensor: 'rf_power', value: 1, expected: 0, contribution: 0.5 }] }));
    engine.observe(active(1_000, { score: 4, contributors: [{ sensor: 'pressure', value: 9, expected: 3, contribution: 0.8 }] }));
    const after = engine.observe(clear(2_000, { score: 0.1, equipmentState: 'PRODUCTIVE', replay: true }));
    expect(after.alerts[0]).toMatchObject({ score: 4, contributors: [{ sensor: 'pressure' }], replay: false, lastObservedAt: 2_000 });
  });

  it('counts a score in the hysteresis band as neither clear nor active', () => {
    const engine = new AlertLifecycle(RULES);
    engine.observe(active(0));
    engine.tick(10_000);
    // 0.95 is below the threshold (inactive) but above 0.9 × threshold: no hold starts.
    engine.observe(clear(20_000, { score: 0.95 }));
    expect(engine.tick(200_000).transitions).toEqual([]);
    engine.observe(clear(210_000, { score: 0.9 }));
    // Once the hold runs, the band does not restart it; only an active observation would.
    engine.observe(clear(220_000, { score: 0.95 }));
    expect(engine.tick(240_000).alerts).toMatchObject([{ state: 'resolved', resolvedAt: 240_000 }]);
  });

  it('resolves a pending episode that clears before forMs silently, saying why', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    log.record(engine.observe(active(0)));
    log.record(engine.observe(clear(3_000)));
    log.record(engine.tick(20_000)); // past forMs, but the condition is clear: no firing
    const done = log.record(engine.tick(40_000));
    expect(done.alerts).toMatchObject([{ id: ID, state: 'resolved', resolvedAt: 33_000, notifiedSeverity: null }]);
    expect(log.reasons(ID)).toEqual(['->pending: condition active', 'pending>resolved: cleared before firing: clear for 30 s']);
    expect(log.notifications).toEqual([]);
  });

  it('fires on the first active observation with forMs 0, and on the next active one after a blip', () => {
    const engine = new AlertLifecycle({ ...RULES, forMs: 0 });
    expect(engine.observe(active(0)).notifications).toMatchObject([{ kind: 'firing', at: 0 }]);

    const blip = new AlertLifecycle(RULES);
    blip.observe(active(0));
    blip.observe(clear(5_000));
    expect(blip.tick(12_000).notifications).toEqual([]);
    expect(blip.observe(active(14_000)).notifications).toMatchObject([{ kind: 'firing', at: 14_000 }]);
  });

  it('refuses to acknowledge an unknown, pending, acknowledged or resolved alert', () => {
    const engine = new AlertLifecycle({ ...RULES, clearHoldMs: 5_000 });
    const ack = { by: 'ana', at: 11_000, comment: '' };
    expect(() => engine.acknowledge('fab1/etch-01/model/7', ack)).toThrow('unknown alert');
    engine.observe(active(0));
    expect(() => engine.acknowledge(ID, ack)).toThrow('not firing');
    engine.tick(10_000);
    engine.acknowledge(ID, ack);
    expect(() => engine.acknowledge(ID, ack)).toThrow('not firing');
    engine.observe(clear(12_000));
    // The hold elapsed by the acknowledgement's time: it is resolved as of then, even before a tick says so.
    expect(() => engine.acknowledge(ID, { ...ack, at: 17_000 })).toThrow('not firing');
    engine.tick(17_000);
    expect(() => engine.acknowledge(ID, { ...ack, at: 18_000 })).toThrow('not firing');
  });

  it('counts out-of-order observations instead of rewinding the key', () => {
    const engine = new AlertLifecycle(RULES);
    engine.observe(active(5_000));
    expect(engine.observe(clear(4_000))).toEqual({ alerts: [], transitions: [], notifications: [] });
    expect(engine.open()[0]?.clearSince).toBeNull();
    expect(engine.counters()).toMatchObject({ outOfOrder: 1 });
  });

  it('rejects rules it cannot honour, naming every problem', () => {
    expect(() => new AlertLifecycle({ ...RULES, forMs: -1, clearRatio: 1.5, flapEpisodes: 1 })).toThrow(
      /forMs.*clearRatio.*flapEpisodes/,
    );
    expect(() => new AlertLifecycle(DEFAULT_LIFECYCLE_RULES)).not.toThrow();
  });

  it('gives deep-equal results for the same sequence, with ids from the data alone', () => {
    const run = (): unknown[] => {
      const engine = new AlertLifecycle(RULES);
      return [
        engine.observe(active(1_000)),
        engine.observe(active(2_000, { station: 'cmp-01' })),
        engine.tick(12_000),
        engine.acknowledge('fab1/etch-01/model/1000', { by: 'ana', at: 13_000, comment: 'on it' }),
        engine.observe(active(14_000, { severity: 'critical' })),
        engine.observe(clear(15_000)),
        engine.observe(clear(15_000, { station: 'cmp-01' })),
        engine.tick(60_000),
        engine.open(),
      ];
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(JSON.stringify(first)).toContain('fab1/etch-01/model/1000/escalated/critical');
  });
});
