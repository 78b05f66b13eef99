/** Replays and the API's own lifecycle: no token, no changes; the API's stop() ends a running replay. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseTopic, topics } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { createApi, loadApiConfig } from './app.js';
import { uniqueLine } from './testing/fixtures.js';
import { writeTestRecording } from './testing/recording.js';

const ok = await requireServices('mosquitto');
const TOKEN = `replay-life-token-${Math.random().toString(36).slice(2)}`;
const POLL = { timeoutMs: 30_000, intervalMs: 50 };

describe.skipIf(!ok)('replays and the API lifecycle', () => {
  it('stops a running replay when the API stops', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-replay-stop-'));
    const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
    await store.init();
    await writeTestRecording(path.join(dir, 'slow.jsonl.gz'), { line: 'x', seconds: 120, stations: ['etch-01'] });
    const live = uniqueLine('replaystop');
    const config = loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: live, DASHBOARD_DIR: '/nonexistent', API_TOKEN: TOKEN, RECORDINGS_DIR: dir });
    const api = createApi(config, { store, logger: pino({ level: 'silent' }) });
    const { url } = await api.start();
    const watcher = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-replay-stop-watch-${process.pid}` });
    let telemetry = 0;
    watcher.on('message', (topic) => void (parseTopic(topic)?.kind === 'telemetry' && telemetry++));
    await watcher.subscribeAsync(topics.all('telemetry', config.REPLAY_LINE), { qos: 1 });
    try {
      const res = await fetch(`${url}/api/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ recording: 'slow.jsonl.gz', speed: 2 }),
      });
      expect(res.status).toBe(202);
      await until('replayed telemetry', () => telemetry >= 2, POLL);
      await api.stop();
      const after = telemetry;
      await new Promise((r) => setTimeout(r, 1_500));
      expect(telemetry).toBe(after);
    } finally {
      await watcher.endAsync();
      const cleaner = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-replay-stop-clean-${process.pid}` });
      for (const kind of ['meta', 'state'] as const) await cleaner.publishAsync(topics[kind](config.REPLAY_LINE, 'etch-01'), '', { retain: true, qos: 1 });
      await cleaner.endAsync();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });


  it('refuses every change with 403 and says to set API_TOKEN', async () => {
    const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
    await store.init();
    const api = createApi(loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: uniqueLine('replaynotoken'), DASHBOARD_DIR: '/nonexistent' }), { store, logger: pino({ level: 'silent' }) });
    const { url } = await api.start();
    try {
      for (const [method, token] of [['POST', undefined], ['POST', 'some-token-value-123'], ['DELETE', undefined]] as const) {
        const res = await fetch(`${url}/api/replay`, {
          method,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: method === 'POST' ? JSON.stringify({ recording: 'x.jsonl.gz', speed: 10 }) : null,
        });
        expect(res.status).toBe(403);
        expect(((await res.json()) as { error: { message: string } }).error.message).toContain('set API_TOKEN');
      }
      expect((await fetch(`${url}/api/replay`)).status).toBe(200);
    } finally {
      await api.stop();
      await store.close();
    }
  });
});
