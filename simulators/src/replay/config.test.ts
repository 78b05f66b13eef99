import { describe, expect, it } from 'vitest';
import { loadReplayConfig } from './config.js';

describe('loadReplayConfig', () => {
  it('a recording: offsets in seconds, --line is the line to replay into', () => {
    expect(loadReplayConfig(['runs/a.jsonl.gz', '--speed', '10', '--from', '60', '--to', '120', '--line', 'fab1-replay', '--loop'], {})).toEqual({
      source: 'file', path: 'runs/a.jsonl.gz', fromS: 60, toS: 120, into: 'fab1-replay', speed: 10, timestamps: 'shifted', loop: true,
      mqttUrl: 'mqtt://127.0.0.1:1883', maxInflight: 500, quiet: false, logLevel: 'warn', mqttTls: {},
    });
    expect(loadReplayConfig(['runs/', '--speed', 'max', '--timestamps', 'original'], { MQTT_URL: 'mqtt://b:1883' })).toMatchObject({ speed: 'max', timestamps: 'original', mqttUrl: 'mqtt://b:1883' });
  });

  it('a store range: --line is the stored line, times are ISO or epoch ms, credentials from env', () => {
    const config = loadReplayConfig(['--influx', 'http://127.0.0.1:8086', '--db', 'linewatch', '--line', 'fab1', '--station', 'etch-01, cmp-01', '--from', '2026-11-20T08:00:00Z', '--to', '1795165200000', '--into', 'fab1-r'], { INFLUX_USERNAME: 'r', INFLUX_PASSWORD: 's' });
    expect(config).toMatchObject({
      source: 'store', influxUrl: 'http://127.0.0.1:8086', database: 'linewatch', line: 'fab1', stations: ['etch-01', 'cmp-01'], from: Date.parse('2026-11-20T08:00:00Z'), to: 1_795_165_200_000,
      into: 'fab1-r', influxUsername: 'r', influxPassword: 's', pageSize: 5_000,
    });
    expect(loadReplayConfig(['--sqlite', '.data/linewatch.db', '--line', 'fab1', '--from', '0', '--to', '10'], {})).toMatchObject({ source: 'store', sqlitePath: '.data/linewatch.db' });
  });

  it('reports every problem at once', () => {
    expect(() => loadReplayConfig(['a.jsonl.gz', '--speed', '500', '--timestamps', 'later', '--max-inflight', '0'], {})).toThrow(/speed[\s\S]*timestamps[\s\S]*maxInflight/);
    expect(() => loadReplayConfig(['a.jsonl.gz', '--from', '9', '--to', '3'], {})).toThrow(/--to must be after --from/);
    expect(() => loadReplayConfig(['a.jsonl.gz', '--speed', '0.5'], {})).toThrow(/speed is 1\.\.100 or max/);
    expect(() => loadReplayConfig(['--influx', 'http://x:8086', '--line', 'fab1', '--from', 'noon', '--to', '2026-11-20'], {})).toThrow(/--influx needs --db[\s\S]*from: not an ISO-8601/);
    expect(() => loadReplayConfig([], {})).toThrow(/give one recording/);
    expect(() => loadReplayConfig(['a.jsonl.gz', 'b.jsonl.gz'], {})).toThrow(/give one recording/);
    expect(() => loadReplayConfig(['a.jsonl.gz', '--station', 'x'], {})).toThrow(/--station only apply to a store range/);
    expect(() => loadReplayConfig(['--sqlite', 'x.db', '--influx', 'http://x', '--line', 'f', '--from', '0', '--to', '1'], {})).toThrow(/either --influx URL --db NAME or --sqlite PATH/);
  });
});
