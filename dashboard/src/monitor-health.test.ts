import { describe, expect, it } from 'vitest';
import type { Health, LineSnapshot, ServiceHealth, StationView } from '@linewatch/protocol';
import { monitorTrouble, summarizeLine, type MonitorTrouble } from './health.js';
import { initialState, reduce } from './line-store.js';

const NOW = 1_800_000_000_000;
const STALE_MS = 10_000;
const NONE: MonitorTrouble = { offline: [], degraded: [] };
const NO_ALERTS = { open: 0, critical: 0 };

function view(station: string, health: Health, replay = false): StationView {
  return {
    meta: { line: 'fab1', station, type: 'etch', name: station, order: 0, sensors: [{ name: 'rf_power', unit: 'W', min: 0, max: 1 }] },
    state: null,
    status: { line: 'fab1', station, health, since: 0, ts: NOW - 1_000, score: 0.1, threshold: 1, modelVersion: 'm', contributors: [], ...(replay ? { replay } : {}) },
    lastSeen: NOW - 1_000,
  };
}

function service(instance: string, state: ServiceHealth['state'], storage?: Partial<NonNullable<ServiceHealth['storage']>>): ServiceHealth {
  return {
    service: 'detector',
    instance,
    line: 'fab1',
    state,
    ts: NOW - 5_000,
    ...(storage ? { storage: { state: 'degraded', failing: false, buffered: 0, journalBytes: 0, journalPoints: 0, droppedJournalFull: 0, ...storage } } : {}),
  };
}

const allOk = [view('a', 'OK'), view('b', 'OK')];

describe('monitorTrouble', () => {
  it('sorts detectors into offline and degraded, and leaves healthy ones out', () => {
    const down = service('det-1', 'offline');
    const slow = service('det-2', 'degraded', { failing: true, journalPoints: 42 });
    const fine = service('det-3', 'ok');
    expect(monitorTrouble([fine, down, slow])).toEqual({ offline: [down], degraded: [slow] });
  });

  it('finds no trouble without services or with every one ok', () => {
    expect(monitorTrouble([])).toEqual(NONE);
    expect(monitorTrouble([service('det-1', 'ok'), service('det-2', 'ok')])).toEqual(NONE);
  });
});

describe('summarizeLine with the detectors’ own health', () => {
  it('runs unmanned with every station OK and the detectors ok', () => {
    expect(summarizeLine(allOk, NOW, STALE_MS, true, false, NO_ALERTS, monitorTrouble([service('det-1', 'ok')]))).toEqual({ word: 'RUNNING UNMANNED', healthy: 2, total: 2 });
  });

  it('asks for attention when a detector is offline, though every station reports OK', () => {
    const monitor = monitorTrouble([service('det-1', 'ok'), service('det-2', 'offline')]);
    expect(summarizeLine(allOk, NOW, STALE_MS, true, false, NO_ALERTS, monitor)).toEqual({ word: 'ATTENTION', healthy: 2, total: 2 });
  });

  it('asks for attention when a detector’s storage is degraded, though every station reports OK', () => {
    const monitor = monitorTrouble([service('det-1', 'degraded', { failing: true, journalPoints: 900 })]);
    expect(summarizeLine(allOk, NOW, STALE_MS, true, false, NO_ALERTS, monitor)).toEqual({ word: 'ATTENTION', healthy: 2, total: 2 });
  });

  it('lets ALARM win over a detector in trouble, from a station or a critical alert', () => {
    const monitor = monitorTrouble([service('det-1', 'offline'), service('det-2', 'degraded', { failing: true })]);
    expect(summarizeLine([view('a', 'OK'), view('b', 'ALARM')], NOW, STALE_MS, true, false, NO_ALERTS, monitor).word).toBe('ALARM');
    expect(summarizeLine(allOk, NOW, STALE_MS, true, false, { open: 1, critical: 1 }, monitor).word).toBe('ALARM');
  });

  it('still says DISCONNECTED and NO DATA first', () => {
    const monitor = monitorTrouble([service('det-1', 'offline')]);
    expect(summarizeLine(allOk, NOW, STALE_MS, false, false, NO_ALERTS, monitor).word).toBe('DISCONNECTED');
    expect(summarizeLine([], NOW, STALE_MS, true, false, NO_ALERTS, monitor).word).toBe('NO DATA');
  });

  it('leaves the replay view alone, which passes an empty monitor (the detectors’ health is about the live line)', () => {
    const replayed = [view('a', 'OK', true), view('b', 'OK', true)];
    // What main.ts passes in the replay view, whatever the detectors report.
    expect(summarizeLine(replayed, NOW, Number.POSITIVE_INFINITY, true, true, NO_ALERTS, NONE)).toEqual({ word: 'RUNNING UNMANNED', healthy: 2, total: 2 });
    // Were the live line's trouble passed, the replay line would be flagged for a reason that is not its own.
    const monitor = monitorTrouble([service('det-1', 'offline')]);
    expect(summarizeLine(replayed, NOW, Number.POSITIVE_INFINITY, true, true, NO_ALERTS, monitor).word).toBe('ATTENTION');
  });

  it('defaults to no trouble for callers that pass no monitor', () => {
    expect(summarizeLine(allOk, NOW, STALE_MS, true).word).toBe('RUNNING UNMANNED');
  });
});

describe('line-store services', () => {
  const snap = (services?: ServiceHealth[]): LineSnapshot => ({
    line: 'fab1',
    stations: [],
    anomalies: [],
    wafers: [],
    serverTime: NOW,
    brokerConnected: true,
    replay: { status: { state: 'idle', line: 'fab1-replay', run: null }, stations: [], anomalies: [], wafers: [] },
    ...(services ? { services } : {}),
  });

  it('starts with no services', () => {
    expect(initialState().services).toEqual([]);
  });

  it('replaces the whole list on a services event, so a cleared detector goes away', () => {
    const down = service('det-1', 'offline');
    const slow = service('det-2', 'degraded', { journalPoints: 3 });
    let s = reduce.services(initialState(), [down, slow]);
    expect(s.services).toEqual([down, slow]);
    s = reduce.services(s, [slow]);
    expect(s.services).toEqual([slow]);
    expect(monitorTrouble(s.services)).toEqual({ offline: [], degraded: [slow] });
  });

  it('takes services from the snapshot, an empty list included, and keeps its own when the snapshot has none', () => {
    const down = service('det-1', 'offline');
    let s = reduce.snapshot(initialState(), snap([down]), NOW);
    expect(s.services).toEqual([down]);
    // An API without the field (an older one) says nothing about the detectors: keep what the page knows.
    expect(reduce.snapshot(s, snap(), NOW).services).toEqual([down]);
    // After a reconnect, a snapshot with no services means the trouble went away while the page was gone.
    s = reduce.snapshot(s, snap([]), NOW);
    expect(s.services).toEqual([]);
  });
});
