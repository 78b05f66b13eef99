import type { SensorSpec } from '@linewatch/protocol';

/** One chart of the station view: sensors that share a unit, so they share an axis and compare at a glance. */
export interface SensorGroup {
  /** Stable across renders: the unit and the chart's place among that unit's charts. */
  id: string;
  unit: string;
  sensors: SensorSpec[];
}

/** More lines than this on one chart stop being readable on a wall screen. */
export const MAX_SENSORS_PER_CHART = 4;

/**
 * Groups a station's sensors by unit (RF powers together, gas flows together, pressures together), in the order
 * the station lists them, splitting a unit with many sensors into several charts.
 *
 * @example
 * groupSensors([{ name: 'rf_fwd', unit: 'W' }, { name: 'pressure', unit: 'mTorr' }, { name: 'rf_ref', unit: 'W' }])
 * // [{ id: 'W#0', unit: 'W', sensors: [rf_fwd, rf_ref] }, { id: 'mTorr#0', unit: 'mTorr', sensors: [pressure] }]
 */
export function groupSensors(sensors: readonly SensorSpec[], maxPerChart = MAX_SENSORS_PER_CHART): SensorGroup[] {
  const byUnit = new Map<string, SensorSpec[]>();
  for (const sensor of sensors) {
    const unit = sensor.unit.trim();
    const list = byUnit.get(unit);
    if (list) list.push(sensor);
    else byUnit.set(unit, [sensor]);
  }
  const groups: SensorGroup[] = [];
  for (const [unit, list] of byUnit) {
    // Even parts rather than 4+4+1, so no chart is a lonely line.
    const parts = Math.ceil(list.length / maxPerChart);
    const size = Math.ceil(list.length / parts);
    for (let i = 0; i < parts; i++) groups.push({ id: `${unit}#${i}`, unit, sensors: list.slice(i * size, (i + 1) * size) });
  }
  return groups;
}
