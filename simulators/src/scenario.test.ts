import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAULT_TYPES } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LINE } from './line.js';
import { DEFAULT_SCENARIO, loadScenario, parseScenario, ScenarioSchema } from './scenario.js';
import { LineSimulator } from './simulator.js';

const scenarios = fileURLToPath(new URL('../scenarios/', import.meta.url));
const simulate = (scenario = DEFAULT_SCENARIO) => new LineSimulator({ line: DEFAULT_LINE, scenario, seed: 1, rateHz: 1, startTs: 0 });

describe('scenarios', () => {
  it('loads the shipped YAML scenarios, and they run on the default line', () => {
    const step = loadScenario(join(scenarios, 'step-etch.yaml'));
    expect(step.faults).toEqual([{ station: 'etch-01', type: 'step', sensors: ['chamber_pressure'], at: 60, duration: 120, magnitude: 10 }]);
    const demo = loadScenario(join(scenarios, 'demo.yaml'));
    expect(demo.repeatEvery).toBe(1980);
    expect(new Set(demo.faults.map((f) => f.type))).toEqual(new Set(FAULT_TYPES));
    expect(() => simulate(step)).not.toThrow();
    expect(() => simulate(demo)).not.toThrow();
  });

  it('loads JSON too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-scenario-'));
    const file = join(dir, 's.json');
    writeFileSync(file, JSON.stringify({ faults: [{ station: 'cmp-01', type: 'tool_down', at: 5, duration: 10 }] }));
    expect(loadScenario(file).faults[0]).toEqual({ station: 'cmp-01', type: 'tool_down', at: 5, duration: 10 });
  });

  it('reports every problem of a bad scenario with its path', () => {
    const bad = 'faults:\n  - { station: etch-01, type: melt, at: -1, duration: 10 }\n  - { station: etch-01, type: step, at: 1, duration: 0, colour: red }\n';
    expect(() => parseScenario(bad, 'bad.yaml')).toThrow(/^bad\.yaml: invalid scenario: .*faults\.0\.type.*faults\.0\.at.*faults\.1\.duration.*colour/);
    expect(() => parseScenario('faults: [\n', 'broken.yaml')).toThrow(/broken\.yaml: not valid YAML/);
    expect(() => loadScenario('/nonexistent/x.yaml')).toThrow(/cannot read scenario \/nonexistent\/x\.yaml/);
    expect(() => parseScenario('repeatEvery: 30\nfaults: [{ station: a, type: step, at: 20, duration: 20 }]')).toThrow(/after repeatEvery 30s/);
  });

  it('an empty file is a scenario without faults', () => {
    expect(parseScenario('')).toEqual({ faults: [] });
  });

  it('the default scenario loops through every fault type and every station', () => {
    ScenarioSchema.parse(DEFAULT_SCENARIO);
    expect(new Set(DEFAULT_SCENARIO.faults.map((f) => f.type))).toEqual(new Set(FAULT_TYPES));
    expect(new Set(DEFAULT_SCENARIO.faults.map((f) => f.station))).toEqual(new Set(DEFAULT_LINE.stations.map((s) => s.id)));
    const gaps = DEFAULT_SCENARIO.faults.map((f, i, all) => (i === 0 ? f.at : f.at - all[i - 1]!.at));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(300);
    expect(DEFAULT_SCENARIO.repeatEvery).toBeDefined();
    expect(() => simulate()).not.toThrow();
  });
});
