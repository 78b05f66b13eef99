import { parseEnv } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { StoreEnvSchema, storeConfigFromEnv } from './env.js';

describe('storeConfigFromEnv', () => {
  it('defaults to the embedded SQLite file under the root', () => {
    expect(storeConfigFromEnv(parseEnv(StoreEnvSchema, {}, 'test'), '/srv/linewatch')).toEqual({
      influx: undefined,
      sqlitePath: '/srv/linewatch/.data/linewatch.db',
    });
  });

  it('uses InfluxDB when INFLUX_URL is set, with credentials only when given', () => {
    const env = parseEnv(StoreEnvSchema, { INFLUX_URL: 'http://influx:8086', INFLUX_USERNAME: 'lw', INFLUX_PASSWORD: 'pw', INFLUX_DATABASE: 'plant' }, 'test');
    expect(storeConfigFromEnv(env, '/r').influx).toEqual({ url: 'http://influx:8086', database: 'plant', username: 'lw', password: 'pw' });
    expect(storeConfigFromEnv(parseEnv(StoreEnvSchema, { INFLUX_URL: 'http://influx:8086' }, 'test'), '/r').influx).toEqual({
      url: 'http://influx:8086',
      database: 'linewatch',
    });
  });

  it('rejects a database name InfluxQL would need to quote', () => {
    expect(() => parseEnv(StoreEnvSchema, { INFLUX_DATABASE: 'x; DROP' }, 'api')).toThrow(/INFLUX_DATABASE/);
  });
});
