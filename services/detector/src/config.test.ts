import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDetectorConfig } from './config.js';

describe('loadDetectorConfig', () => {
  it('gives working defaults with an empty env', () => {
    const c = loadDetectorConfig({});
    expect(c.mqtt).toMatchObject({ url: 'mqtt://127.0.0.1:1883', clientId: 'linewatch-detector-0', protocolVersion: 4 });
    expect(c.partition).toEqual({ index: 0, count: 1 });
    expect(c).toMatchObject({ line: '+', subscriptionMode: 'partition', batchMax: 64, writeBufferMax: 200_000, alarmAfter: 3, clearAfter: 5, httpPort: 9464 });
    expect(path.isAbsolute(c.modelsDir)).toBe(true);
    expect(c.modelsDir.endsWith(`${path.sep}models`)).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
    expect(c.quality).toEqual({ stuckAfter: 5, clearAfter: 10, maxClockSkewMs: 5000 });
    expect(c.warmupMs).toBe(30_000);
  });

  it('parses the data-quality and warm-up keys, and refuses a stuck run shorter than 2', () => {
    const c = loadDetectorConfig({ STUCK_AFTER: '4', QUALITY_CLEAR_AFTER: '3', MAX_CLOCK_SKEW_MS: '2000', WARMUP_MS: '0' });
    expect(c.quality).toEqual({ stuckAfter: 4, clearAfter: 3, maxClockSkewMs: 2000 });
    expect(c.warmupMs).toBe(0);
    expect(Object.isFrozen(c.quality)).toBe(true);
    expect(() => loadDetectorConfig({ STUCK_AFTER: '1' })).toThrow(/STUCK_AFTER/);
  });

  it('parses numbers, partition and HTTP_PORT=-1, and treats empty strings as unset', () => {
    const c = loadDetectorConfig({ BATCH_MAX: '8', DETECTOR_PARTITION: '2/3', HTTP_PORT: '-1', LINE: '', MQTT_PROTOCOL_VERSION: '5' });
    expect(c.batchMax).toBe(8);
    expect(c.partition).toEqual({ index: 2, count: 3 });
    expect(c.httpPort).toBe(-1);
    expect(c.line).toBe('+');
    expect(c.mqtt.protocolVersion).toBe(5);
  });

  it('reports every problem at once', () => {
    let message = '';
    try {
      loadDetectorConfig({ BATCH_MAX: '0', DETECTOR_PARTITION: '3/3', SUBSCRIPTION_MODE: 'random', MQTT_URL: 'http://broker', HTTP_PORT: '70000' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const key of ['BATCH_MAX', 'DETECTOR_PARTITION', 'SUBSCRIPTION_MODE', 'MQTT_URL', 'HTTP_PORT']) expect(message).toContain(key);
  });

  it('refuses shared mode without MQTT 5', () => {
    expect(() => loadDetectorConfig({ SUBSCRIPTION_MODE: 'shared' })).toThrow(/MQTT_PROTOCOL_VERSION=5/);
    expect(loadDetectorConfig({ SUBSCRIPTION_MODE: 'shared', MQTT_PROTOCOL_VERSION: '5' }).subscriptionMode).toBe('shared');
  });
});
