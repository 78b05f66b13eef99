import { describe, expect, it } from 'vitest';
import { AlertLifecycle } from './lifecycle.js';
import { RULES, Transcript, active, clear } from './lifecycle.test-support.js';
import type { Alert } from './types.js';

const ID = 'fab1/etch-01/model/0';

/** What a durable store would hand back after a restart: the open alerts as saved, through JSON. */
function saved(engine: AlertLifecycle): Alert[] {
  return JSON.parse(JSON.stringify(engine.open())) as Alert[];
}

describe('AlertLifecycle: restart', () => {
  it('continues a firing episode without a second firing, and resolves it once after the hold', () => {
    const before = new AlertLifecycle(RULES);
    const log = new Transcript();
    log.record(before.observe(active(0)));
    log.record(before.tick(10_000));

    const after = new AlertLifecycle(RULES, saved(before));
    // The service was down a minute; the alert is still active, then clears.
    log.record(after.tick(70_000));
    log.record(after.observe(active(71_000, { severity: 'warning' })));
    log.record(after.observe(clear(80_000)));
    log.record(after.tick(109_999));
    expect(log.notificationIds()).toEqual([`${ID}/firing/warning`]);
    const resolved = log.record(after.tick(110_000));
    expect(resolved.alerts).toMatchObject([{ id: ID, state: 'resolved', firingAt: 10_000 }]);
    log.record(after.tick(500_000));

    // A third generation, started from what is open now, has nothing left to say about this episode.
    const third = new AlertLifecycle(RULES, saved(after));
    log.record(third.observe(clear(501_000)));
    log.record(third.tick(900_000));
    expect(log.notificationIds()).toEqual([`${ID}/firing/warning`, `${ID}/resolved/warning`]);
  });

  it('resolves an alert that cleared while the service was down, with one notification', () => {
    const before = new AlertLifecycle(RULES);
    before.observe(active(0));
    before.tick(10_000);
    const after = new AlertLifecycle(RULES, saved(before));
    const log = new Transcript();
    // The first verdict after the restart is clear; the hold runs from it.
    log.record(after.observe(clear(3_600_000)));
    log.record(after.tick(3_629_999));
    expect(log.notifications).toEqual([]);
    log.record(after.tick(3_630_000));
    log.record(after.tick(3_700_000));
    expect(log.notificationIds()).toEqual([`${ID}/resolved/warning`]);
  });

  it('keeps the hold of an alert that was clearing when the service died', () => {
    const before = new AlertLifecycle(RULES);
    before.observe(active(0));
    before.tick(10_000);
    before.observe(clear(20_000));
    const after = new AlertLifecycle(RULES, saved(before));
    expect(after.tick(49_999).alerts).toEqual([]);
    expect(after.tick(600_000).notifications).toMatchObject([{ id: `${ID}/resolved/warning`, at: 50_000 }]);
  });

  it('keeps the start time of a pending episode, and fires it from there', () => {
    const before = new AlertLifecycle(RULES);
    before.observe(active(0));
    before.observe(active(5_000));
    const after = new AlertLifecycle(RULES, saved(before));
    expect(after.open()).toMatchObject([{ id: ID, state: 'pending', startedAt: 0 }]);
    expect(after.tick(10_000).notifications).toMatchObject([{ id: `${ID}/firing/warning`, at: 10_000 }]);
  });

  it('announces after the restart what muting held back before it, once', () => {
    const before = new AlertLifecycle(RULES);
    before.observe(active(0, { equipmentState: 'ENGINEERING' }));
    before.tick(10_000);
    const after = new AlertLifecycle(RULES, saved(before));
    const log = new Transcript();
    log.record(after.observe(active(20_000, { equipmentState: null })));
    expect(log.notifications).toEqual([]); // the station's state is not known yet: the restored flag holds
    log.record(after.observe(active(21_000, { equipmentState: 'PRODUCTIVE' })));
    log.record(after.observe(active(22_000, { equipmentState: 'PRODUCTIVE' })));
    expect(log.notificationIds()).toEqual([`${ID}/firing/warning`]);
  });

  it('refuses a resolved alert or two open alerts of one key', () => {
    const engine = new AlertLifecycle(RULES);
    engine.observe(active(0));
    const [open] = saved(engine);
    if (open === undefined) throw new Error('expected an open alert');
    expect(() => new AlertLifecycle(RULES, [{ ...open, state: 'resolved' }])).toThrow('cannot restore a resolved alert');
    expect(() => new AlertLifecycle(RULES, [open, { ...open, id: `${open.id}1` }])).toThrow('two open alerts for one key');
  });
});
