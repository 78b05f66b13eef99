import { describe, expect, it } from 'vitest';
import type { Health, StationView } from '@linewatch/protocol';
import { isStale, summarizeLine } from './health.js';

const NOW = 1_800_000_000_000;

function view(station: string, health: Health | null, ageMs = 1_000): StationView {
  return {
    meta: { line: 'fab1', station, type: 'etch', name: station, order: 0, sensors: [{ name: 'rf_power', unit: 'W', min: 0, max: 1 }] },
    state: null,
    status: health
      ? { line: 'fab1', station, health, since: 0, ts: NOW - ageMs, score: 0.1, threshold: 1, modelVersion: 'm', contributors: [] }
      : null,
    lastSeen: health ? NOW - ageMs : null,
  };
}

describe('summarizeLine', () => {
  it('runs unmanned only when every station is OK and fresh', () => {
    expect(summarizeLine([view('a', 'OK'), view('b', 'OK')], NOW, 10_000, true)).toEqual({ word: 'RUNNING UNMANNED', healthy: 2, total: 2 });
  });

  it('asks for attention on WARN, DATA_QUALITY, stale or missing status', () => {
    expect(summarizeLine([view('a', 'OK'), view('b', 'WARN')], NOW, 10_000, true).word).toBe('ATTENTION');
    expect(summarizeLine([view('a', 'DATA_QUALITY')], NOW, 10_000, true).word).toBe('ATTENTION');
    expect(summarizeLine([view('a', 'OK', 11_000)], NOW, 10_000, true)).toEqual({ word: 'ATTENTION', healthy: 0, total: 1 });
    expect(summarizeLine([view('a', null)], NOW, 10_000, true).word).toBe('ATTENTION');
  });

  it('lets ALARM win, and says so plainly when disconnected', () => {
    expect(summarizeLine([view('a', 'WARN'), view('b', 'ALARM')], NOW, 10_000, true).word).toBe('ALARM');
    expect(summarizeLine([view('a', 'OK')], NOW, 10_000, false).word).toBe('DISCONNECTED');
  });
});

describe('summarizeLine with replayed data', () => {
  const replayed = (v: StationView): StationView => ({ ...v, status: v.status ? { ...v.status, replay: true } : null });

  it('never says the live line runs unmanned on replayed data', () => {
    expect(summarizeLine([view('a', 'OK'), replayed(view('b', 'OK'))], NOW, 10_000, true)).toEqual({ word: 'ATTENTION', healthy: 1, total: 2 });
  });

  it('counts replayed stations as healthy on the replay line itself', () => {
    expect(summarizeLine([replayed(view('a', 'OK'))], NOW, 10_000, true, true)).toEqual({ word: 'RUNNING UNMANNED', healthy: 1, total: 1 });
  });
});

describe('isStale', () => {
  it('is stale past the limit or without any status', () => {
    expect(isStale(view('a', 'OK', 9_999), NOW, 10_000)).toBe(false);
    expect(isStale(view('a', 'OK', 10_001), NOW, 10_000)).toBe(true);
    expect(isStale(view('a', null), NOW, 10_000)).toBe(true);
  });

  it('is not unmanned while an alert is open, even with every snapshot OK (a wafer fault, say)', () => {
    const views = [view('a', 'OK'), view('b', 'OK')];
    expect(summarizeLine(views, NOW, 10_000, true, false, { open: 1, critical: 0 }).word).toBe('ATTENTION');
    expect(summarizeLine(views, NOW, 10_000, true, false, { open: 1, critical: 1 }).word).toBe('ALARM');
  });
});
