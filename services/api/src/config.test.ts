import { describe, expect, it } from 'vitest';
import { loadApiConfig, redactConfig } from './config.js';

describe('loadApiConfig', () => {
  it('has a default for every key', () => {
    const config = loadApiConfig({});
    expect(config).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', LINE: 'fab1', STALE_AFTER_MS: 10_000, RECENT_ANOMALIES: 200 });
    expect(config.DASHBOARD_DIR).toMatch(/dashboard[/\\]dist$/);
    expect(config.MQTT_CLIENT_ID).toMatch(/^linewatch-api-/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem at once', () => {
    let message = '';
    try {
      loadApiConfig({ PORT: 'eighty', LINE: 'bad line!', MQTT_URL: 'http://x', STALE_AFTER_MS: '5' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const key of ['PORT', 'LINE', 'MQTT_URL', 'STALE_AFTER_MS']) expect(message).toContain(key);
  });

  it('redacts secrets for logs', () => {
    const shown = JSON.stringify(redactConfig(loadApiConfig({ MQTT_PASSWORD: 's3cret', INFLUX_PASSWORD: 'other-s3cret' })));
    expect(shown).not.toContain('s3cret');
  });
});
