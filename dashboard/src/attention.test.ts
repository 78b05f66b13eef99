import { describe, expect, it } from 'vitest';
import type { AlertView } from '@linewatch/protocol';
import { lastCall, openAlerts } from './attention.js';

const alert = (over: Partial<AlertView>): AlertView => ({
  id: 'a', line: 'fab1', station: 'etch-01', source: 'model', class: 'process', state: 'resolved', severity: 'critical',
  startedAt: 100, firingAt: 200, resolvedAt: 900, flapping: false, muted: false, ack: null,
  score: 3, threshold: 1, modelVersion: 'v1', contributors: [], equipmentState: 'PRODUCTIVE', replay: false, ...over,
});

describe('when a person last had to act', () => {
  it('is now while an alert fires unacknowledged', () => {
    expect(lastCall([alert({ state: 'firing', resolvedAt: null }), alert({ id: 'b' })], 'fab1')).toEqual({ kind: 'now', firing: 1 });
  });

  it('is "on it" since the first acknowledgement while all open alerts are acknowledged', () => {
    const acked = alert({ state: 'acknowledged', resolvedAt: null, ack: { by: 'kim', at: 400, comment: '' } });
    expect(lastCall([acked, alert({ id: 'b', state: 'acknowledged', resolvedAt: null, ack: { by: 'lee', at: 300, comment: '' } })], 'fab1')).toEqual({ kind: 'onIt', since: 300 });
  });

  it('counts from the latest firing, acknowledgement or resolution otherwise', () => {
    expect(lastCall([alert({ resolvedAt: 900 }), alert({ id: 'b', firingAt: 1_000, resolvedAt: 1_500 })], 'fab1')).toEqual({ kind: 'since', at: 1_500 });
  });

  it('ignores replayed, muted, never-fired and other lines’ alerts', () => {
    const ignored = [
      alert({ state: 'firing', replay: true, resolvedAt: null }),
      alert({ state: 'firing', muted: true, resolvedAt: null }),
      alert({ state: 'pending', firingAt: null, resolvedAt: null }),
      alert({ state: 'firing', line: 'fab2', resolvedAt: null }),
    ];
    expect(lastCall(ignored, 'fab1')).toEqual({ kind: 'never' });
  });
});

describe('open alerts', () => {
  it('counts firing and acknowledged alerts of the live line, and the unacknowledged and critical ones; muted ones call nobody', () => {
    const list = [
      alert({ state: 'firing', resolvedAt: null }),
      alert({ state: 'firing', severity: 'warning', resolvedAt: null }),
      alert({ state: 'acknowledged', resolvedAt: null }),
      alert({ state: 'pending' }),
      alert({ state: 'resolved' }),
      alert({ state: 'firing', replay: true }),
      alert({ state: 'firing', muted: true, resolvedAt: null }),
    ];
    expect(openAlerts(list, 'fab1')).toEqual({ open: 3, unacked: 2, critical: 1 });
  });
});
