import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { REPO_ROOT, loadApiConfig, redactConfig } from './config.js';

describe('loadApiConfig', () => {
  it('has a default for every key', () => {
    const config = loadApiConfig({});
    expect(config).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', LINE: 'fab1', STALE_AFTER_MS: 10_000, RECENT_ANOMALIES: 200 });
    expect(config.DASHBOARD_DIR).toMatch(/dashboard[/\\]dist$/);
    expect(config.MQTT_CLIENT_ID).toMatch(/^linewatch-api-/);
    expect(Object.isFrozen(config)).toBe(true);
    expect(config).toMatchObject({ REPLAY_LINE: 'fab1-replay', API_TOKEN: '' });
    expect(config.RECORDINGS_DIR).toBe(path.join(REPO_ROOT, 'recordings'));
  });

  it('resolves the recordings folder against the repo root and derives the replay line from LINE', () => {
    expect(loadApiConfig({ RECORDINGS_DIR: 'runs/a', LINE: 'fab7' })).toMatchObject({ RECORDINGS_DIR: path.join(REPO_ROOT, 'runs', 'a'), REPLAY_LINE: 'fab7-replay' });
    expect(loadApiConfig({ RECORDINGS_DIR: '/srv/recordings', REPLAY_LINE: 'sandbox' })).toMatchObject({ RECORDINGS_DIR: '/srv/recordings', REPLAY_LINE: 'sandbox' });
  });

  it('never lets replays play into the live line, and refuses a guessable token', () => {
    expect(() => loadApiConfig({ LINE: 'fab1', REPLAY_LINE: 'fab1' })).toThrow(/REPLAY_LINE: must differ from LINE/);
    expect(() => loadApiConfig({ API_TOKEN: 'short' })).toThrow(/API_TOKEN: must be at least 16 characters/);
    expect(() => loadApiConfig({ LINE: 'a'.repeat(60) })).toThrow(/set REPLAY_LINE/);
    expect(loadApiConfig({ LINE: 'a'.repeat(60), REPLAY_LINE: 'r' }).REPLAY_LINE).toBe('r');
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
    const shown = JSON.stringify(redactConfig(loadApiConfig({ MQTT_PASSWORD: 's3cret', INFLUX_PASSWORD: 'other-s3cret', API_TOKEN: 'token-s3cret-0123456789' })));
    expect(shown).not.toContain('s3cret');
    expect(shown).toContain('"API_TOKEN":"[redacted]"');
  });
});
