import { describe, expect, it } from 'vitest';
import { AlertLifecycle } from './lifecycle.js';
import { RULES, Transcript, active, clear, dq } from './lifecycle.test-support.js';

const MIN = 60_000;
const key = 'fab1/etch-01/model';

describe('AlertLifecycle: flapping', () => {
  it('holds back the 4th episode within the window and says so, until a window passes without a new one', () => {
    const engine = new AlertLifecycle({ ...RULES, forMs: 0 });
    const log = new Transcript();
    // Three short episodes, a minute apart: each fires and resolves as usual.
    for (const start of [0, MIN, 2 * MIN]) {
      log.record(engine.observe(active(start)));
      log.record(engine.observe(clear(start + 1_000)));
    }
    log.record(engine.tick(3 * MIN - 1));
    const announced = (s: number): string[] => [`${key}/${s}/firing/warning`, `${key}/${s}/resolved/warning`];
    expect(log.notificationIds()).toEqual([0, MIN, 2 * MIN].flatMap(announced));

    const fourth = log.record(engine.observe(active(3 * MIN)));
    expect(fourth.alerts).toMatchObject([{ id: `${key}/${3 * MIN}`, state: 'firing', flapping: true, notifiedSeverity: null }]);
    expect(fourth.notifications).toEqual([]);
    const flapped = expect.stringMatching(/flapping \(4 episodes within 600 s\): notifications held back/);
    expect(log.reasons(`${key}/${3 * MIN}`)).toContainEqual(flapped);

    // A flapping episode that ends never announced itself, so it resolves silently too.
    log.record(engine.observe(clear(3 * MIN + 1_000)));
    expect(log.record(engine.tick(4 * MIN)).notifications).toEqual([]);

    // Every new episode while it flaps restarts the quiet window.
    const fifth = log.record(engine.observe(active(4 * MIN, { severity: 'critical' })));
    expect(fifth.alerts).toMatchObject([{ state: 'firing', flapping: true }]);
    expect(log.record(engine.tick(4 * MIN + 600_000 - 1)).transitions).toEqual([]);

    // The quiet window passes while the fifth still fires: the flap ends and the firing goes out, once.
    const quiet = log.record(engine.tick(4 * MIN + 600_000 + 5_000));
    expect(quiet.transitions).toMatchObject([{ from: 'firing', to: 'firing', reason: expect.stringMatching(/stopped flapping/) }]);
    expect(quiet.notifications).toMatchObject([{ id: `${key}/${4 * MIN}/firing/critical`, at: 4 * MIN + 600_000 }]);
    expect(log.record(engine.tick(4 * MIN + 900_000)).notifications).toEqual([]);

    log.record(engine.observe(clear(20 * MIN)));
    log.record(engine.tick(21 * MIN));
    const sixth = log.record(engine.observe(active(22 * MIN)));
    expect(sixth.alerts).toMatchObject([{ flapping: false }]);
    expect(sixth.notifications.map((n) => n.id)).toEqual([`${key}/${22 * MIN}/firing/warning`]);
    expect(log.notifications.filter((n) => n.alert.id === `${key}/${4 * MIN}`).map((n) => n.kind)).toEqual(['firing', 'resolved']);
  });
});

describe('AlertLifecycle: flapping and acknowledgement', () => {
  it('refuses to acknowledge a flapping alert whose hold elapsed after its flap ended, and tells both in order', () => {
    const engine = new AlertLifecycle({ ...RULES, forMs: 0, flapEpisodes: 2, flapWindowMs: 60_000 });
    engine.observe(active(0));
    engine.observe(clear(1_000));
    engine.tick(31_000);
    expect(engine.observe(active(40_000)).alerts).toMatchObject([{ flapping: true }]);
    engine.observe(clear(80_000));
    // The flap ends at 100 s, the hold at 110 s: as of 120 s the alert is resolved.
    const ack = { by: 'ana', at: 120_000, comment: '' };
    expect(() => engine.acknowledge(`${key}/40000`, ack)).toThrow('not firing');
    const later = engine.tick(120_000);
    expect(later.notifications.map((n) => [n.kind, n.at])).toEqual([['firing', 100_000], ['resolved', 110_000]]);
  });
});

describe('AlertLifecycle: equipment state', () => {
  it('mutes process alerts in PM and notifies once, at the current severity, when back PRODUCTIVE and still active', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    const id = `${key}/0`;
    const opened = log.record(engine.observe(active(0, { equipmentState: 'ENGINEERING' })));
    expect(opened.alerts).toMatchObject([{ muted: true }]);
    expect(log.reasons(id)).toContain('pending>pending: muted: station ENGINEERING, process alerts muted');

    log.record(engine.tick(20_000));
    log.record(engine.observe(active(25_000, { equipmentState: 'SCHEDULED_DOWN', severity: 'critical' })));
    expect(engine.open()).toMatchObject([{ state: 'firing', severity: 'critical', muted: true }]);
    expect(log.notifications).toEqual([]);

    const back = log.record(engine.observe(active(30_000, { equipmentState: 'PRODUCTIVE' })));
    expect(back.alerts).toMatchObject([{ muted: false }]);
    expect(back.notifications.map((n) => n.id)).toEqual([`${id}/firing/critical`]);
    log.record(engine.observe(active(31_000)));
    log.record(engine.observe(clear(32_000)));
    log.record(engine.tick(100_000));
    expect(log.notificationIds()).toEqual([`${id}/firing/critical`, `${id}/resolved/critical`]);
  });

  it('lets a tool that is down inhibit its own data-quality alerts, not other stations\' nor in ENGINEERING', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    log.record(engine.observe(dq(0, true)));
    log.record(engine.observe(dq(0, true, { station: 'cmp-01' })));
    // The process verdict carries the tool's state; the data-quality alert of the same station is muted with it.
    const down = log.record(engine.observe(clear(2_000, { equipmentState: 'UNSCHEDULED_DOWN' })));
    expect(down.transitions).toMatchObject([
      { alertId: 'fab1/etch-01/data_quality/0', reason: 'muted: station UNSCHEDULED_DOWN, tool down inhibits sensor alerts' },
    ]);
    log.record(engine.tick(20_000));
    expect(log.notificationIds()).toEqual(['fab1/cmp-01/data_quality/0/firing/warning']);

    // ENGINEERING mutes only process alerts: the sensors of a tool in PM still have to work.
    const pm = log.record(engine.equipment({ line: 'fab1', station: 'etch-01', state: 'ENGINEERING', at: 25_000 }));
    expect(pm.notifications.map((n) => n.id)).toEqual(['fab1/etch-01/data_quality/0/firing/warning']);
    const productive = log.record(engine.equipment({ line: 'fab1', station: 'etch-01', state: 'PRODUCTIVE', at: 30_000 }));
    expect(productive.notifications).toEqual([]);
  });

  it('still resolves, with its notification, an announced alert muted while it cleared', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    log.record(engine.observe(active(0)));
    log.record(engine.tick(10_000));
    log.record(engine.equipment({ line: 'fab1', station: 'etch-01', state: 'SCHEDULED_DOWN', at: 11_000 }));
    log.record(engine.observe(active(12_000, { severity: 'critical', equipmentState: null })));
    expect(log.notificationIds()).toEqual([`${key}/0/firing/warning`]);
    log.record(engine.observe(clear(13_000, { equipmentState: null })));
    log.record(engine.tick(60_000));
    expect(log.notificationIds()).toEqual([`${key}/0/firing/warning`, `${key}/0/resolved/critical`]);
  });

  it('sends the escalation held back by muting when the tool is productive again', () => {
    const engine = new AlertLifecycle(RULES);
    const log = new Transcript();
    log.record(engine.observe(active(0)));
    log.record(engine.tick(10_000));
    log.record(engine.observe(active(11_000, { severity: 'critical', equipmentState: 'STANDBY' })));
    log.record(engine.observe(active(12_000, { severity: 'critical', equipmentState: 'PRODUCTIVE' })));
    expect(log.notificationIds()).toEqual([`${key}/0/firing/warning`, `${key}/0/escalated/critical`]);
  });
});
