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
});
