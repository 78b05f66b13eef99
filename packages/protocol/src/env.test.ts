import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MqttUrlSchema, parseEnv } from './env.js';

const Schema = z.object({
  /** a port */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  MQTT_URL: MqttUrlSchema.default('mqtt://127.0.0.1:1883'),
  LINE: z.string().regex(/^[a-z0-9]+$/).default('fab1'),
});

describe('parseEnv', () => {
  it('applies defaults, treats empty strings as unset and reads only its own keys', () => {
    expect(parseEnv(Schema, { PORT: '', LINE: 'fab2', PATH: '/usr/bin' }, 'svc')).toEqual({ PORT: 8080, MQTT_URL: 'mqtt://127.0.0.1:1883', LINE: 'fab2' });
  });

  it('reports every problem at once, naming the service and each key', () => {
    let message = '';
    try {
      parseEnv(Schema, { PORT: '99999', MQTT_URL: 'http://broker', LINE: 'Fab 1' }, 'detector');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^detector: invalid configuration:/);
    expect(message).toMatch(/PORT: /);
    expect(message).toMatch(/MQTT_URL: must be an mqtt:\/\//);
    expect(message).toMatch(/LINE: /);
  });

  it('reads an unset secret from its _FILE twin (docker secrets), and only secrets', () => {
    const Secrets = z.object({ MQTT_PASSWORD: z.string().default(''), API_TOKEN: z.string().default(''), LINE: z.string().default('fab1') });
    const files: Record<string, string> = { '/run/secrets/mqtt': 'hunter2\n', '/run/secrets/line': 'fab9' };
    const read = (path: string) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text;
    };
    const env = { MQTT_PASSWORD_FILE: '/run/secrets/mqtt', API_TOKEN: 'from-env', API_TOKEN_FILE: '/run/secrets/mqtt', LINE_FILE: '/run/secrets/line' };
    expect(parseEnv(Secrets, env, 'api', read)).toEqual({ MQTT_PASSWORD: 'hunter2', API_TOKEN: 'from-env', LINE: 'fab1' });
    expect(() => parseEnv(Secrets, { API_TOKEN_FILE: '/run/secrets/missing' }, 'api', read)).toThrow(/API_TOKEN_FILE: cannot read \/run\/secrets\/missing \(ENOENT\)/);
    // Without a reader (the browser), _FILE is ignored.
    expect(parseEnv(Secrets, { MQTT_PASSWORD_FILE: '/run/secrets/mqtt' }, 'page')).toMatchObject({ MQTT_PASSWORD: '' });
  });
});
