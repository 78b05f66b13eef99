import { describe, expect, it } from 'vitest';
import type { SensorSpec } from '@linewatch/protocol';
import { groupSensors } from './sensor-groups.js';

const sensor = (name: string, unit: string): SensorSpec => ({ name, unit, min: 0, max: 1 });

describe('groupSensors', () => {
  it('puts sensors of one unit on one chart, in the order the station lists the units', () => {
    const groups = groupSensors([sensor('rf_fwd', 'W'), sensor('pressure', 'mTorr'), sensor('rf_ref', 'W')]);
    expect(groups.map((g) => [g.id, g.sensors.map((s) => s.name)])).toEqual([
      ['W#0', ['rf_fwd', 'rf_ref']],
      ['mTorr#0', ['pressure']],
    ]);
  });

  it('splits a crowded unit into even charts', () => {
    const temps = Array.from({ length: 9 }, (_, i) => sensor(`t${i}`, '°C'));
    const groups = groupSensors(temps, 4);
    expect(groups.map((g) => g.sensors.length)).toEqual([3, 3, 3]);
    expect(groups.flatMap((g) => g.sensors.map((s) => s.name))).toEqual(temps.map((s) => s.name));
    expect(new Set(groups.map((g) => g.id)).size).toBe(3);
  });

  it('treats units that differ only by spaces as one', () => {
    expect(groupSensors([sensor('a', 'sccm'), sensor('b', ' sccm ')])).toHaveLength(1);
  });
});
