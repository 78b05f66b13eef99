import type { EquipmentState } from '@linewatch/protocol';
import { acknowledge, escalate, fire, mute, resolve, stopFlapping, unmute } from './lifecycle-episode.js';
import { SEVERITY_RANK, evidenceOf, forMsOf, isClear, isWaferLevel, muteReason, seconds, setEvidence } from './lifecycle-policy.js';
import { newKeyMemory, nextDue, stamp, type KeyMemory } from './lifecycle-key.js';
import { ResultBuilder, copyAlert } from './lifecycle-result.js';
import { ruleProblems, type LifecycleRules } from './lifecycle-rules.js';
import { alertKey } from './types.js';
import type { Acknowledgement, Alert, AlertKey, EquipmentReport, LifecycleResult, Observation } from './types.js';

export { DEFAULT_LIFECYCLE_RULES, type LifecycleRules } from './lifecycle-rules.js';

/** Inputs the engine did not apply, by why. Export them as metrics: nothing is dropped without a count. */
export interface LifecycleCounters {
  /** Observations older than the key's latest one (reordered delivery); applying them would rewind the key. */
  outOfOrder: number;
  /** Active observations that would open an episode at the same ms as the key's previous one, whose id is taken. */
  episodeIdTaken: number;
  /** Equipment states older than the station's latest one. */
  staleEquipment: number;
}

/**
 * The alert lifecycle: observations in, alerts, transitions and notifications out. Pure: no I/O, no timers, no
 * clock. Time is the observations' `at` and tick's `now`, so the same inputs give the same outputs (a backtest runs
 * it on the data clock). Feed `tick` from the same clock as the observations; live, the wall clock minus the usual
 * delivery lag, so an observation arrives before the tick that would judge its key without it.
 *
 * Decisions where the issue leaves room, made for an unmanned line:
 * - An episode runs from its first active observation until it has been clear for `clearHoldMs` (a Schmitt
 *   trigger: active raises, clear lowers, the band between changes nothing). The for-duration is counted from the
 *   episode's start, so repeated spikes closer together than the hold fire like a sustained fault would, instead
 *   of each restarting a timer and never firing. A pending episode that stays clear for the hold resolves silently.
 * - Time-based transitions are stamped at the moment their rule was met (startedAt + forMs, clearSince +
 *   clearHoldMs, ...), not at the tick that noticed them, so the outcome does not depend on how often `tick` runs.
 * - Evidence (score, threshold, model version, contributors, equipment state, replay) comes from the latest ACTIVE
 *   observation: while an alert clears, it still shows why it fired, not a healthy sample.
 * - Equipment state is tracked per station, from observations and from `equipment()`; a change re-judges every open
 *   alert of the station, so a tool going down mutes its sensor alerts too (an inhibition), and coming back
 *   PRODUCTIVE sends what was held back. Wafer-level alerts (`level: 'wafer'`) are the exception: they fire without
 *   the for-duration and are judged by the state their wafer ran in (see `isWaferLevel`). The station state is not persisted: after a restart alerts keep their
 *   restored `muted` flag until the station's state is next reported.
 * - Muting and flapping hold back `firing` and `escalated`, never the `resolved` of an episode that announced itself.
 * - After a restart, the flap detector knows only the open episodes: a key that was flapping keeps flapping until
 *   its quiet window passes, but episodes that ended before the restart no longer count towards a new flap.
 */
export class AlertLifecycle {
  private readonly rules: LifecycleRules;
  private readonly keys = new Map<string, KeyMemory>();
  private readonly stations = new Map<string, { state: EquipmentState; at: number }>();
  private readonly ignored: LifecycleCounters = { outOfOrder: 0, episodeIdTaken: 0, staleEquipment: 0 };

  /** `open`: the unresolved alerts from the durable store; their episodes continue where they were. */
  constructor(rules: LifecycleRules, open: Alert[] = []) {
    const problems = ruleProblems(rules);
    if (problems.length > 0) throw new Error(`invalid lifecycle rules: ${problems.join('; ')}`, { cause: { rules } });
    this.rules = { ...rules };
    for (const saved of open) this.restore(saved);
  }

  /** Apply one verdict for one key. */
  observe(obs: Observation): LifecycleResult {
    requireTime(obs.at, 'observation at');
    const out = new ResultBuilder();
    const memory = this.memoryOf(obs);
    if (obs.at < memory.lastObservedAt) {
      this.ignored.outOfOrder += 1;
      return out.build();
    }
    this.advance(memory, obs.at, out);
    const state = obs.equipmentState;
    // Muting takes effect before this observation's evidence (an escalation in PM stays quiet), unmuting of its own
    // alert after it (back to PRODUCTIVE at critical notifies once, at critical). A wafer verdict's state is the one
    // the wafer ran in, not the station's now, so it does not count as a report of the station's state.
    if (state !== null && !isWaferLevel(obs)) this.noteEquipment({ line: obs.line, station: obs.station, state, at: obs.at }, out, memory);
    memory.lastObservedAt = obs.at;
    const at = stamp(memory, obs.at);
    if (memory.alert !== null) this.apply(memory.alert, obs, at, out);
    else if (obs.active) this.openEpisode(memory, obs, at, out);
    const stationState = this.stations.get(stationId(obs))?.state;
    if (stationState !== undefined) this.judgeMuting(memory, stationState, at, out);
    // What this observation made due now (forMs 0, a hold of 0, firing after a blip) happens at its time.
    this.advance(memory, at, out, at);
    return out.build();
  }

  /** Time-based transitions up to `now`: for-duration elapsed, clear hold elapsed, flapping ended. */
  tick(now: number): LifecycleResult {
    requireTime(now, 'tick now');
    const out = new ResultBuilder();
    for (const memory of this.sortedKeys((m) => m.alert !== null || m.flapping)) this.advance(memory, now, out);
    return out.build();
  }

  /** Equipment state of a station, apart from any verdict (the retained state topic). */
  equipment(report: EquipmentReport): LifecycleResult {
    requireTime(report.at, 'equipment report at');
    const out = new ResultBuilder();
    this.noteEquipment(report, out);
    return out.build();
  }

  /**
   * Acknowledge a firing alert. Throws Error 'unknown alert' for an id that is not open, 'not firing' for a pending
   * or already acknowledged one, and also for one whose clear hold elapsed by `ack.at` (it is resolved as of then; the
   * next tick records it). The acknowledgement is kept as given; its transition is stamped no earlier than the
   * alert's latest one.
   */
  acknowledge(alertId: string, ack: Acknowledgement): LifecycleResult {
    requireTime(ack.at, 'acknowledgement at');
    const memory = this.keys.get(alertId.slice(0, alertId.lastIndexOf('/')));
    const alert = memory?.alert;
    if (memory === undefined || alert === undefined || alert === null || alert.id !== alertId) {
      if (memory?.lastResolvedId === alertId) throw new Error('not firing', { cause: { alertId, state: 'resolved' } });
      throw new Error('unknown alert', { cause: { alertId } });
    }
    const resolvedBy = alert.clearSince === null ? Infinity : alert.clearSince + this.rules.clearHoldMs;
    if (alert.state !== 'firing' || resolvedBy <= ack.at) {
      throw new Error('not firing', { cause: { alertId, state: alert.state } });
    }
    const out = new ResultBuilder();
    this.advance(memory, ack.at, out); // only a flap ending can be due here; resolving was ruled out above
    acknowledge(alert, ack, stamp(memory, ack.at), out);
    return out.build();
  }

  /** The unresolved alerts, sorted by key: what the store should hold as open. */
  open(): Alert[] {
    return this.sortedKeys((m) => m.alert !== null).flatMap((m) => (m.alert === null ? [] : [copyAlert(m.alert)]));
  }

  counters(): LifecycleCounters {
    return { ...this.ignored };
  }

  private restore(saved: Alert): void {
    if (saved.state === 'resolved') throw new Error('cannot restore a resolved alert', { cause: { alertId: saved.id } });
    const memory = this.memoryOf(saved);
    if (memory.alert !== null) {
      throw new Error('two open alerts for one key', { cause: { key: memory.key, alertIds: [memory.alert.id, saved.id] } });
    }
    memory.alert = { ...copyAlert(saved), notifiedSeverity: saved.notifiedSeverity ?? null };
    memory.lastObservedAt = saved.lastObservedAt;
    memory.clock = Math.max(saved.lastObservedAt, saved.firingAt ?? -Infinity, saved.clearSince ?? -Infinity);
    memory.episodeStarts = [saved.startedAt];
    memory.flapping = saved.flapping;
  }

  private apply(alert: Alert, obs: Observation, at: number, out: ResultBuilder): void {
    alert.lastObservedAt = obs.at;
    out.touch(alert);
    if (!obs.active) {
      if (isClear(obs, this.rules.clearRatio)) alert.clearSince ??= at;
      return;
    }
    alert.clearSince = null; // an active observation during the hold starts it over
    setEvidence(alert, obs);
    if (SEVERITY_RANK[obs.severity] > SEVERITY_RANK[alert.severity]) escalate(alert, obs.severity, at, out);
  }

  private openEpisode(memory: KeyMemory, obs: Observation, at: number, out: ResultBuilder): void {
    if (memory.episodeStarts.at(-1) === at) {
      this.ignored.episodeIdTaken += 1;
      return;
    }
    const { flapEpisodes, flapWindowMs } = this.rules;
    const starts = [...memory.episodeStarts.filter((start) => start > at - flapWindowMs), at];
    memory.episodeStarts = starts.slice(-flapEpisodes);
    if (starts.length >= flapEpisodes) memory.flapping = true;
    const alert: Alert = {
      id: `${memory.key}/${at}`,
      line: obs.line,
      station: obs.station,
      source: obs.source,
      class: obs.class,
      state: 'pending',
      severity: obs.severity,
      startedAt: at,
      firingAt: null,
      resolvedAt: null,
      lastObservedAt: obs.at,
      clearSince: null,
      flapping: memory.flapping,
      muted: false,
      ack: null,
      notifiedSeverity: null,
      ...evidenceOf(obs),
    };
    memory.alert = alert;
    out.transition(alert, null, at, 'condition active');
    if (alert.flapping) {
      const span = seconds(flapWindowMs);
      const reason = `flapping (${flapEpisodes} episodes within ${span}): notifications held back until none starts for ${span}`;
      out.transition(alert, 'pending', at, reason);
    }
  }

  /**
   * Apply the time-based transitions of one key that are due by `until`, earliest first, each stamped at the moment
   * its rule was met (but not before `floor`, nor before the key's clock).
   */
  private advance(memory: KeyMemory, until: number, out: ResultBuilder, floor = -Infinity): void {
    // Each event removes its own cause (firing leaves pending, resolving closes the episode, the flap ends), so
    // this loop runs at most three times.
    for (let due = nextDue(memory, this.rules); due !== null && due.at <= until; due = nextDue(memory, this.rules)) {
      const at = stamp(memory, Math.max(due.at, floor));
      if (due.event === 'flap-end') {
        memory.flapping = false;
        const reason = `stopped flapping: no new episode for ${seconds(this.rules.flapWindowMs)}`;
        if (memory.alert?.flapping === true) stopFlapping(memory.alert, at, reason, out);
        continue;
      }
      const alert = due.alert;
      if (due.event === 'fire') {
        const forMs = forMsOf(alert, this.rules);
        const forDuration = isWaferLevel(alert) ? 'wafer verdict: no for-duration' : forMs === 0 ? 'no for-duration' : `for-duration ${seconds(forMs)} elapsed`;
        fire(alert, at, forDuration, out);
      } else {
        const hold = `clear for ${seconds(this.rules.clearHoldMs)}`;
        resolve(alert, at, alert.state === 'pending' ? `cleared before firing: ${hold}` : hold, out);
        memory.alert = null;
        memory.lastResolvedId = alert.id;
      }
    }
  }

  /**
   * Record a station's equipment state; on a change, re-judge the muting of each of its open alerts (except the
   * unmuting of `observed`, whose caller does that after applying its observation).
   */
  private noteEquipment(report: EquipmentReport, out: ResultBuilder, observed?: KeyMemory): void {
    const id = stationId(report);
    const known = this.stations.get(id);
    if (known !== undefined && known.at > report.at) {
      this.ignored.staleEquipment += 1;
      return;
    }
    this.stations.set(id, { state: report.state, at: report.at });
    if (known?.state === report.state) return;
    const ofStation = (m: KeyMemory): boolean => m.alert !== null && m.line === report.line && m.station === report.station;
    for (const memory of this.sortedKeys(ofStation)) {
      this.advance(memory, report.at, out);
      this.judgeMuting(memory, report.state, report.at, out, memory !== observed);
    }
  }

  /**
   * Mute or unmute the key's open alert as its station's equipment state demands; a wafer-level alert as the state
   * its wafer ran in demands.
   */
  private judgeMuting(memory: KeyMemory, stationState: EquipmentState, at: number, out: ResultBuilder, unmuting = true): void {
    const alert = memory.alert;
    if (alert === null) return;
    const state = isWaferLevel(alert) ? alert.equipmentState : stationState;
    const muting = muteReason(alert.class, state);
    if (muting !== null && !alert.muted) mute(alert, muting, stamp(memory, at), out);
    if (muting === null && alert.muted && unmuting) unmute(alert, `station ${state}`, stamp(memory, at), out);
  }

  private memoryOf(k: AlertKey): KeyMemory {
    const key = alertKey(k);
    const known = this.keys.get(key);
    if (known !== undefined) return known;
    const memory = newKeyMemory(k);
    this.keys.set(key, memory);
    return memory;
  }

  /** Keys in a fixed order, so one call's output does not depend on the order keys were first seen. */
  private sortedKeys(keep: (memory: KeyMemory) => boolean): KeyMemory[] {
    return [...this.keys.values()].filter(keep).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

function stationId(s: { line: string; station: string }): string {
  return `${s.line}/${s.station}`;
}

function requireTime(at: number, what: string): void {
  if (!Number.isFinite(at)) throw new Error(`${what} must be a finite epoch ms`, { cause: { at } });
}
