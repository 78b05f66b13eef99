import type { EquipmentState, Severity } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { AlertLifecycle, type LifecycleRules } from './lifecycle.js';
import { Transcript, active } from './lifecycle.test-support.js';
import type { Alert, AlertState, AlertTransition, Notification } from './types.js';

/** Short windows, so that 2000 random steps reach every corner: firing, escalation, flapping, muting, restarts. */
const RULES: LifecycleRules = { forMs: 5_000, clearHoldMs: 10_000, clearRatio: 0.9, flapEpisodes: 3, flapWindowMs: 120_000 };
const KEYS = [
  { station: 'etch-01', source: 'model', class: 'process' },
  { station: 'etch-01', source: 'data_quality', class: 'data_quality' },
  { station: 'cmp-01', source: 'model', class: 'process' },
] as const;
const STATES: (EquipmentState | null)[] = ['PRODUCTIVE', 'PRODUCTIVE', 'PRODUCTIVE', 'PRODUCTIVE', 'ENGINEERING', 'STANDBY',
  'SCHEDULED_DOWN', 'UNSCHEDULED_DOWN', 'NON_SCHEDULED', null];
const RANK: Record<AlertState, number> = { pending: 0, firing: 1, acknowledged: 2, resolved: 3 };
const SEVERITY: Record<Severity, number> = { warning: 0, critical: 1 };

/** mulberry32: a small seeded generator, so a failing seed replays exactly. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Random observations (in phases of different activity), ticks, acknowledgements, equipment changes and restarts
 * from the open alerts; everything the engines said, in order.
 */
function simulate(seed: number, steps: number): { log: Transcript; acks: number; restarts: number } {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let engine = new AlertLifecycle(RULES);
  const log = new Transcript();
  let clock = 0;
  let acks = 0;
  let restarts = 0;
  const equipment = new Map<string, EquipmentState | null>();
  for (let step = 0; step < steps; step += 1) {
    // Phases in turn: flickering (short episodes, keys flap), sustained (episodes outlive the flap), noisy, calm.
    const activity = [0.25, 0.9, 0.35, 0.03][Math.floor(step / 250) % 4] as number;
    clock += Math.floor(random() * 2_000);
    const roll = random();
    if (roll < 0.6) {
      const k = pick(KEYS);
      // A tool's state changes now and then, not with every verdict; some verdicts do not carry it.
      if (random() < 0.05) equipment.set(k.station, pick(STATES));
      const isActive = random() < activity;
      log.record(engine.observe(active(random() < 0.03 ? clock - Math.floor(random() * 5_000) : clock, {
        ...k,
        active: isActive,
        severity: random() < 0.25 ? 'critical' : 'warning',
        score: isActive ? 1 + random() * 3 : random(), // inactive scores land in the hysteresis band a tenth of the time
        equipmentState: random() < 0.9 ? (equipment.get(k.station) ?? 'PRODUCTIVE') : null,
      })));
    } else if (roll < 0.82) {
      // Sometimes the tick runs ahead of the observations, as a live tick on the wall clock can.
      log.record(engine.tick(clock + (random() < 0.1 ? Math.floor(random() * 20_000) : 0)));
    } else if (roll < 0.92) {
      const open = engine.open();
      if (open.length === 0) continue;
      try {
        log.record(engine.acknowledge(pick(open).id, { by: 'ana', at: clock, comment: `step ${step}` }));
        acks += 1;
      } catch (error) {
        expect((error as Error).message).toBe('not firing');
      }
    } else if (roll < 0.97) {
      const { station } = pick(KEYS);
      equipment.set(station, pick(STATES) ?? 'PRODUCTIVE');
      log.record(engine.equipment({ line: 'fab1', station, state: equipment.get(station) ?? 'PRODUCTIVE', at: clock }));
    } else {
      engine = new AlertLifecycle(RULES, JSON.parse(JSON.stringify(engine.open())) as Alert[]);
      restarts += 1;
    }
    const keys = engine.open().map((a) => `${a.line}/${a.station}/${a.source}`);
    expect(keys).toEqual([...new Set(keys)].sort());
  }
  return { log, acks, restarts };
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}

/** Every way the history of one run breaks the lifecycle's promises; empty when it keeps them. */
function violations(transitions: AlertTransition[], notifications: Notification[]): string[] {
  const found: string[] = [];
  const told = groupBy(notifications, (n) => n.alert.id);
  for (const [id, history] of groupBy(transitions, (t) => t.alertId)) {
    if (history[0]?.from !== null || history[0].to !== 'pending') found.push(`${id} does not start pending`);
    history.slice(1).forEach((t, i) => {
      const prev = history[i] as AlertTransition;
      if (t.from !== prev.to) found.push(`${id}: ${t.from ?? '-'} after ${prev.to}`);
      const escalation = t.from === 'acknowledged' && t.to === 'firing' && t.reason.startsWith('escalated');
      if (t.from !== null && RANK[t.to] < RANK[t.from] && !escalation) found.push(`${id}: back from ${t.from} to ${t.to}`);
      if (prev.to === 'resolved') found.push(`${id}: ${t.to} after resolved`);
      if (SEVERITY[t.severity] < SEVERITY[prev.severity]) found.push(`${id}: severity dropped`);
      if (t.at < prev.at) found.push(`${id}: history runs backwards at ${t.at}`);
    });
    const kinds = (told.get(id) ?? []).map((n) => n.kind).join(',');
    if (!/^(firing(,escalated)?(,resolved)?)?$/.test(kinds)) found.push(`${id}: notified ${kinds}`);
    if (history.at(-1)?.to === 'resolved' && kinds.startsWith('firing') && !kinds.endsWith('resolved')) {
      found.push(`${id}: announced, then resolved without saying so`);
    }
  }
  for (const n of notifications) {
    const held = n.kind !== 'resolved' && (n.alert.muted || n.alert.flapping || n.alert.state !== 'firing');
    if (held || (n.kind === 'resolved' && n.alert.state !== 'resolved')) found.push(`${n.id} sent in state ${n.alert.state}`);
  }
  const ids = notifications.map((n) => n.id);
  if (new Set(ids).size !== ids.length) found.push('a notification id repeats');
  return found;
}

describe('AlertLifecycle: random sequences', () => {
  it.each([1, 2, 3, 4, 5, 6])('keeps its promises over 2000 steps (seed %i)', (seed) => {
    const { log, acks, restarts } = simulate(seed, 2_000);
    expect(violations(log.transitions, log.notifications)).toEqual([]);

    // The run must have reached the corners the invariants are about, or passing them proves nothing.
    const kinds = new Set(log.notifications.map((n) => n.kind));
    expect([...kinds].sort()).toEqual(['escalated', 'firing', 'resolved']);
    const reasons = log.transitions.map((t) => t.reason);
    for (const pattern of [/^flapping/, /^stopped flapping/, /^muted/, /^unmuted/, /^cleared before firing/]) {
      expect(reasons.some((r) => pattern.test(r)), String(pattern)).toBe(true);
    }
    expect(log.transitions.some((t) => t.from === 'acknowledged' && t.to === 'firing')).toBe(true);
    expect(acks).toBeGreaterThan(0);
    expect(restarts).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same history', () => {
    const a = simulate(7, 2_000).log;
    const b = simulate(7, 2_000).log;
    expect(b.transitions).toEqual(a.transitions);
    expect(b.notifications).toEqual(a.notifications);
  });

  it('finds the violations it looks for', () => {
    const { log } = simulate(1, 500);
    const firing = log.notifications.find((n) => n.kind === 'firing');
    if (firing === undefined) throw new Error('expected a firing notification');
    expect(violations(log.transitions, [...log.notifications, firing])).toContain('a notification id repeats');
    const back = { ...(log.transitions[1] as AlertTransition), from: 'resolved' as const, to: 'firing' as const };
    expect(violations([...log.transitions, back], log.notifications).join()).toMatch(/back from resolved to firing/);
  });
});
