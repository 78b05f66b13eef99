import { describe, expect, it } from 'vitest';
import { defaultRecordingPath, loadRecordConfig } from './config.js';

describe('loadRecordConfig', () => {
  it('simulator: flags with defaults, --start as ISO or epoch ms', () => {
    expect(loadRecordConfig(['--simulate', '--duration', '60', '--rate', '10', '--start', '2026-11-20T08:00:00Z'], {})).toEqual({
      source: 'simulator', scenario: 'default', seed: 1, rateHz: 10, durationS: 60, line: 'fab1', startTs: Date.parse('2026-11-20T08:00:00Z'), logLevel: 'warn', mqttTls: {},
    });
    expect(loadRecordConfig(['--simulate', '--duration', '1', '--start', '1764400000000'], {})).toMatchObject({ startTs: 1_764_400_000_000 });
  });

  it('broker: URL from the flag or MQTT_URL, secrets from env only', () => {
    const config = loadRecordConfig(['--count', '500', '--line', 'fab2'], { MQTT_URL: 'mqtt://b:1883', MQTT_USERNAME: 'u', MQTT_PASSWORD: 'p' });
    expect(config).toMatchObject({ source: 'mqtt', mqttUrl: 'mqtt://b:1883', line: 'fab2', count: 500, clientId: 'linewatch-recorder', protocolVersion: 4, mqttUsername: 'u', mqttPassword: 'p' });
    expect(loadRecordConfig(['--mqtt', 'mqtt://x:1883'], {})).toMatchObject({ line: '+' });
  });

  it('reports every problem at once, with the usage', () => {
    expect(() => loadRecordConfig(['--simulate', '--rate', '0', '--start', 'yesterday', '--out', 'a.csv'], {})).toThrow(
      /out: must end in \.jsonl\.gz[\s\S]*rateHz[\s\S]*durationS: give --duration[\s\S]*startTs: not an ISO-8601 time[\s\S]*usage/,
    );
    expect(() => loadRecordConfig([], {})).toThrow(/either --simulate or --mqtt URL/);
    expect(() => loadRecordConfig(['--simulate', '--mqtt', 'mqtt://x'], {})).toThrow(/either --simulate or --mqtt URL/);
    expect(() => loadRecordConfig(['--mqtt', 'mqtt://x', '--seed', '3'], {})).toThrow(/--seed only apply with --simulate/);
    expect(() => loadRecordConfig(['--simulate', '--duration', '5', '--count', '3'], {})).toThrow(/--count only apply to --mqtt/);
    expect(() => loadRecordConfig(['--mqtt', 'http://x'], {})).toThrow(/mqttUrl/);
  });

  it('names a default file by source, line and time', () => {
    expect(defaultRecordingPath('mqtt', '+', Date.parse('2026-11-20T08:01:02Z'))).toBe('recordings/mqtt-all-20261120-080102.jsonl.gz');
  });
});
