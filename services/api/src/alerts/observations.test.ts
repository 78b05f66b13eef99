import type { StationStatus } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { ObservationFeed } from './observations.js';
import type { Observation } from './types.js';

const status = (health: StationStatus['health'], over: Partial<StationStatus> = {}): StationStatus => ({
  line: 'fab1', station: 'etch-01', health, since: 1, ts: 2, score: health === 'ALARM' ? 3 : 0.5, threshold: 1,
  modelVersion: 'etch@1', contributors: [], ...over,
});

function feed() {
  const seen: Observation[] = [];
  let now = 1_000;
  const f = new ObservationFeed({ emit: (o) => seen.push(o), now: () => now++ });
  const by = (source: string) => seen.filter((o) => o.source === source);
  return { f, seen, by };
}

describe('ObservationFeed', () => {
  it('gives one observation per source for every status, active only for its own health', () => {
    const { f, by } = feed();
    f.status(status('ALARM'));
    f.status(status('DATA_QUALITY'));
    f.status(status('OFFLINE'));
    f.status(status('OK'));
    expect(by('model').map((o) => o.active)).toEqual([true, false, false, false]);
    expect(by('data_quality').map((o) => [o.active, o.class])).toEqual([[false, 'data_quality'], [true, 'data_quality'], [false, 'data_quality'], [false, 'data_quality']]);
    expect(by('offline').map((o) => o.active)).toEqual([false, false, true, false]);
    expect(by('model')[0]).toMatchObject({ class: 'process', score: 3, threshold: 1, modelVersion: 'etch@1', replay: false, at: 1_000 });
  });

  it('takes the severity from the anomaly events of the current ALARM, escalating at once and resetting after it', () => {
    const { f, by } = feed();
    f.anomaly({ id: 'a', line: 'fab1', station: 'etch-01', ts: 2, seq: 1, score: 1.5, threshold: 1, t2: null, spe: null, modelVersion: 'm', severity: 'warning', contributors: [] });
    f.status(status('ALARM'));
    f.anomaly({ id: 'b', line: 'fab1', station: 'etch-01', ts: 3, seq: 2, score: 5, threshold: 1, t2: null, spe: null, modelVersion: 'm', severity: 'critical', contributors: [] });
    f.status(status('OK'));
    f.status(status('ALARM'));
    expect(by('model').map((o) => [o.active, o.severity])).toEqual([[true, 'warning'], [true, 'critical'], [false, 'warning'], [true, 'warning']]);
  });

  it("falls back to the anomaly's contributors when the ALARM status carries none, and forgets them after", () => {
    const { f, by } = feed();
    const contributors = [{ sensor: 'rf_power', value: 9, expected: 5, contribution: 0.8 }];
    f.anomaly({ id: 'a', line: 'fab1', station: 'etch-01', ts: 2, seq: 1, score: 1.5, threshold: 1, t2: null, spe: null, modelVersion: 'm', severity: 'warning', contributors });
    f.status(status('ALARM'));
    f.status(status('OK'));
    f.status(status('ALARM'));
    expect(by('model').map((o) => o.contributors)).toEqual([contributors, [], []]);
  });

  it('carries the equipment state and the replay mark, and says nothing for UNMODELLED', () => {
    const { f, seen, by } = feed();
    f.state({ line: 'fab1', station: 'etch-01', state: { state: 'ENGINEERING', since: 0 } });
    f.status(status('UNMODELLED'));
    expect(seen).toEqual([]);
    f.status(status('ALARM', { replay: true }));
    expect(by('model')[0]).toMatchObject({ equipmentState: 'ENGINEERING', replay: true });
  });
});
