import { describe, expect, it } from 'vitest';
import { loadSimConfig } from './config.js';

describe('simulator config', () => {
  it('takes flags over env over defaults', () => {
    const config = loadSimConfig(['--rate', '10', '--fast', '--duration', '60'], { SIM_RATE: '5', SIM_SEED: '9' });
    expect(config).toMatchObject({ rateHz: 10, fast: true, durationS: 60, seed: 9, mqttUrl: 'mqtt://127.0.0.1:1883', line: 'fab1' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every invalid setting at once', () => {
    expect(() => loadSimConfig(['--rate=-1', '--mqtt', 'http://x', '--line', 'bad line'], {})).toThrow(/rateHz[\s\S]*mqttUrl|mqttUrl[\s\S]*rateHz/);
    expect(() => loadSimConfig(['--rate=-1', '--mqtt', 'http://x', '--line', 'bad line'], {})).toThrow(/line: ids are/);
    expect(() => loadSimConfig(['--bogus'], {})).toThrow(/Unknown option '--bogus'.*--mqtt/);
  });
});
