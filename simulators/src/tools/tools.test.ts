import { SensorSpecSchema } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LINE } from '../line.js';
import { sampleNormal } from '../sample.js';
import { stationSensors, toolModel, TOOL_TYPES } from './index.js';

function corr(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

function column(type: string, count: number) {
  const { features, rows } = sampleNormal(type, count, 42);
  return (name: string) => {
    const j = features.indexOf(name);
    if (j < 0) throw new Error(`no sensor ${name} on ${type}`);
    return rows.map((r) => r[j]!);
  };
}

describe('tool models', () => {
  it('cover every station type of the default line with 6-20 valid, uniquely named sensors', () => {
    expect([...TOOL_TYPES].sort()).toEqual(DEFAULT_LINE.stations.map((s) => s.type).sort());
    for (const type of TOOL_TYPES) {
      const sensors = stationSensors(type);
      expect(sensors.length, type).toBeGreaterThanOrEqual(6);
      expect(sensors.length, type).toBeLessThanOrEqual(20);
      expect(new Set(sensors.map((s) => s.name)).size).toBe(sensors.length);
      for (const s of sensors) {
        SensorSpecSchema.parse(s);
        expect(s.max, `${type}.${s.name}`).toBeGreaterThan(s.min);
      }
      for (const m of toolModel(type).sensors) expect(Object.keys(toolModel(type).latents)).toContain(m.driver);
    }
    expect(() => stationSensors('furnace')).toThrow(/unknown station type 'furnace'/);
  });

  it('sampleNormal returns deterministic rows in feature order, inside the physical range, rarely at its edges', () => {
    for (const type of TOOL_TYPES) {
      const specs = stationSensors(type);
      const { features, rows } = sampleNormal(type, 1500, 1);
      expect(features).toEqual(specs.map((s) => s.name));
      expect(rows).toHaveLength(1500);
      expect(sampleNormal(type, 50, 1).rows).toEqual(rows.slice(0, 50));
      specs.forEach((s, j) => {
        const col = rows.map((r) => r[j]!);
        expect(col.every((v) => v >= s.min && v <= s.max), `${type}.${s.name} in range`).toBe(true);
        // A reading pinned to a range edge looks like a stuck or broken sensor to the detector.
        const pinned = col.filter((v) => v === s.min || v === s.max).length;
        expect(pinned, `${type}.${s.name} pinned`).toBeLessThan(col.length * 0.02);
        expect(new Set(col).size, `${type}.${s.name} varies`).toBeGreaterThan(100);
      });
    }
  });

  it('correlations follow the physics', () => {
    const etch = column('etch', 3000);
    expect(corr(etch('rf_forward_power'), etch('dc_bias'))).toBeGreaterThan(0.8);
    expect(corr(etch('rf_forward_power'), etch('oes_cl_837nm'))).toBeGreaterThan(0.8);
    expect(corr(etch('cl2_flow'), etch('chamber_pressure'))).toBeGreaterThan(0.6);
    // The APC throttle valve closes to hold pressure while gas flows.
    expect(corr(etch('cl2_flow'), etch('throttle_valve_pos'))).toBeLessThan(-0.6);
    const cmp = column('cmp', 3000);
    expect(corr(cmp('platen_motor_current'), cmp('vibration'))).toBeGreaterThan(0.8);
    expect(corr(cmp('downforce'), cmp('pad_temp'))).toBeGreaterThan(0.5);
    const dep = column('deposition', 3000);
    expect(corr(dep('rf_forward_power'), dep('plasma_emission'))).toBeGreaterThan(0.8);
    expect(corr(dep('rf_forward_power'), dep('heater_power'))).toBeLessThan(-0.6);
    const load = column('load', 3000);
    expect(corr(load('robot_motor_current'), load('robot_vibration'))).toBeGreaterThan(0.8);
    const litho = column('litho', 3000);
    expect(corr(litho('stage_speed'), litho('stage_x_error'))).toBeGreaterThan(0.8);
  });

  it('normal data is low-rank: a few latent drivers explain most standardized variance', () => {
    // Power iteration on the correlation matrix: the top 3 components carry most of the variance.
    for (const type of ['etch', 'cmp', 'litho']) {
      const { features, rows } = sampleNormal(type, 2000, 9);
      const f = features.length;
      const mean = features.map((_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
      const std = features.map((_, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / rows.length));
      const z = rows.map((r) => r.map((v, j) => (v - mean[j]!) / std[j]!));
      let c = features.map((_, a) => features.map((_, b) => z.reduce((s, r) => s + r[a]! * r[b]!, 0) / z.length));
      let explained = 0;
      for (let k = 0; k < 3; k++) {
        let v = features.map((_, i) => 1 + i / f);
        let lambda = 0;
        for (let it = 0; it < 200; it++) {
          const w = c.map((row) => row.reduce((s, x, i) => s + x * v[i]!, 0));
          lambda = Math.sqrt(w.reduce((s, x) => s + x * x, 0));
          v = w.map((x) => x / lambda);
        }
        explained += lambda;
        c = c.map((row, a) => row.map((x, b) => x - lambda * v[a]! * v[b]!));
      }
      expect(explained / f, type).toBeGreaterThan(0.8);
    }
  });
});
