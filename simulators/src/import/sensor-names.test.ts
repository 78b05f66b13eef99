import { SensorNameSchema } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { nameSensors, toSensorName } from './sensor-names.js';

describe('toSensorName', () => {
  it.each([
    ['rf_power', 'rf_power'],
    ['RFPower', 'RFPower'],
    ['RF Btm Pwr', 'rf_btm_pwr'],
    ['BCl3 Flow', 'bcl3_flow'],
    ['Pressure (mTorr)', 'pressure_mtorr'],
    ['  He-Press. ', 'he_press'],
    ['Température °C', 'temperature_c'],
    ['2nd stage', 's_2nd_stage'],
    ['°', 'column_4'],
    ['', 'column_4'],
    ['x'.repeat(80), 'x'.repeat(64)],
    [`${'a '.repeat(32)}b`, `${'a_'.repeat(31)}a`],
  ])('maps %j to %j', (header, expected) => {
    const name = toSensorName(header, 4);
    expect(name).toBe(expected);
    expect(SensorNameSchema.safeParse(name).success).toBe(true);
  });
});

describe('nameSensors', () => {
  it('names every column and keeps their order', () => {
    expect(nameSensors([{ index: 2, column: 'RF Pwr' }, { index: 5, column: 'pressure' }])).toEqual([
      { index: 2, column: 'RF Pwr', name: 'rf_pwr' },
      { index: 5, column: 'pressure', name: 'pressure' },
    ]);
  });

  it('refuses two columns that would share a name, naming both', () => {
    expect(() => nameSensors([{ index: 0, column: 'RF Pwr' }, { index: 1, column: 'rf_pwr' }, { index: 2, column: 'x' }]))
      .toThrow("'RF Pwr' (column 1) and 'rf_pwr' (column 2) both become sensor 'rf_pwr'");
    expect(() => nameSensors([{ index: 0, column: 'a' }, { index: 3, column: 'a' }])).toThrow(/collision/);
  });
});
