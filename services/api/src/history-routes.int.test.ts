import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import type { StationHistory, StationView } from '@linewatch/protocol';
import { SqliteStore, type AlertEventPoint } from '@linewatch/store';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { TestPublisher, anomaly, meta, uniqueLine } from './testing/fixtures.js';

const ok = await requireServices('mosquitto');

describe.skipIf(!ok)('station history for the station view, against real Mosquitto and the embedded store', () => {
  const line = uniqueLine('history');
  const replayLine = `${line}-replay`;
  const store = new SqliteStore({ path: ':memory:' }, pino({ level: 'silent' }));
  const now = Date.now();
  const from = now - 10 * 60_000;
  const to = now;
  let pub: TestPublisher;
  let api: Api;
  let url = '';

  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: await res.json() };
  };
  const alertEvent = (at: number, fromState: string | null, toState: string, patch: Partial<AlertEventPoint> = {}): AlertEventPoint => ({
    alertId: `${line}/etch-01/model/${from + 1_000}`,
    line,
    station: 'etch-01',
    source: 'model',
    class: 'process',
    from: fromState,
    to: toState,
    severity: 'critical',
    at,
    reason: `${fromState ?? 'new'} → ${toState}`,
    replay: false,
    ...patch,
  });

  beforeAll(async () => {
    await store.init();
    await store.write({
      readings: [1, 2].map((i) => ({ line, station: 'etch-01', ts: now - i * 60_000, seq: i, values: { rf_power: 1500 + i }, context: { wafer: `W${i}` } })),
      scores: [],
      anomalies: [
        anomaly(line, 'etch-01', from - 60_000),
        anomaly(line, 'etch-01', now - 3 * 60_000),
        anomaly(line, 'etch-01', now - 60_000),
        anomaly(line, 'clean-01', now - 60_000),
        anomaly(replayLine, 'etch-01', now - 2 * 60_000, { replay: true }),
      ],
      states: [
        { line, station: 'etch-01', ts: from - 3_600_000, state: 'PRODUCTIVE' },
        { line, station: 'etch-01', ts: now - 5 * 60_000, state: 'UNSCHEDULED_DOWN', reason: 'RF generator fault' },
        { line, station: 'etch-01', ts: now - 2 * 60_000, state: 'PRODUCTIVE' },
        { line, station: 'etch-01', ts: now + 60_000, state: 'SCHEDULED_DOWN' },
        { line, station: 'clean-01', ts: now - 60_000, state: 'ENGINEERING' },
        { line: replayLine, station: 'etch-01', ts: now - 4 * 60_000, state: 'STANDBY', replay: true },
      ],
    });
    await store.writeAlertEvents([
      alertEvent(from - 1_000, null, 'pending'),
      alertEvent(now - 4 * 60_000, null, 'pending'),
      alertEvent(now - 4 * 60_000 + 5_000, 'pending', 'firing'),
      alertEvent(now - 60_000, 'firing', 'resolved'),
      alertEvent(now - 60_000, null, 'pending', { station: 'clean-01', alertId: `${line}/clean-01/model/1` }),
    ]);
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    await pub.publish(line, 'etch-01', 'meta', meta(line, 'etch-01', 3));
    await pub.publish(replayLine, 'etch-01', 'meta', meta(replayLine, 'etch-01', 3));
    const config = loadApiConfig({ ALERTS_DB_PATH: ':memory:', PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, DASHBOARD_DIR: '/nonexistent/linewatch-dashboard' });
    api = createApi(config, { store, logger: pino({ level: 'silent' }) });
    url = (await api.start()).url;
    await vi.waitFor(async () => expect(((await get('/api/stations')).body as StationView[]).length).toBe(1));
  });

  afterAll(async () => {
    await api?.stop();
    await pub?.close();
    await store.close();
  });

  it('returns the readings, the equipment states, the anomalies and the alert transitions of the range', async () => {
    const { status, body } = await get(`/api/stations/etch-01/history?from=${from}&to=${to}`);
    expect(status).toBe(200);
    const history = body as StationHistory;
    expect(history).toMatchObject({ line, station: 'etch-01', from, to, bucketMs: null, scores: [] });
    expect(history.readings.map((r) => r.context?.wafer)).toEqual(['W2', 'W1']);
    // The state at `from` first, so the band is filled from the left edge; nothing after `to`, nothing of clean-01.
    expect(history.states).toEqual([
      { ts: from - 3_600_000, state: 'PRODUCTIVE' },
      { ts: now - 5 * 60_000, state: 'UNSCHEDULED_DOWN', reason: 'RF generator fault' },
      { ts: now - 2 * 60_000, state: 'PRODUCTIVE' },
    ]);
    expect(history.anomalies.map((a) => a.ts)).toEqual([now - 60_000, now - 3 * 60_000]);
    expect(history.anomalies.every((a) => a.station === 'etch-01' && a.line === line)).toBe(true);
    expect(history.alerts).toEqual([
      { alertId: `${line}/etch-01/model/${from + 1_000}`, at: now - 4 * 60_000, from: null, to: 'pending', severity: 'critical', source: 'model', reason: 'new → pending' },
      { alertId: `${line}/etch-01/model/${from + 1_000}`, at: now - 4 * 60_000 + 5_000, from: 'pending', to: 'firing', severity: 'critical', source: 'model', reason: 'pending → firing' },
      { alertId: `${line}/etch-01/model/${from + 1_000}`, at: now - 60_000, from: 'firing', to: 'resolved', severity: 'critical', source: 'model', reason: 'firing → resolved' },
    ]);
  });

  it('answers only the scores with ?only=scores, for the tiles’ sparklines', async () => {
    const { status, body } = await get(`/api/stations/etch-01/history?from=${from}&to=${to}&only=scores`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ readings: [], states: [], anomalies: [], alerts: [] });
    expect((await get(`/api/stations/etch-01/history?only=readings`)).status).toBe(400);
  });

  it('serves a replayed station with ?line= the replay line, and its data only', async () => {
    const { status, body } = await get(`/api/stations/etch-01/history?line=${replayLine}&from=${from}&to=${to}`);
    expect(status).toBe(200);
    const history = body as StationHistory;
    expect(history.line).toBe(replayLine);
    expect(history.readings).toEqual([]);
    expect(history.states).toEqual([{ ts: now - 4 * 60_000, state: 'STANDBY' }]);
    expect(history.anomalies.map((a) => [a.line, a.ts])).toEqual([[replayLine, now - 2 * 60_000]]);
    expect(history.alerts).toEqual([]);
  });

  it('answers 400 for a line other than the live and the replay line, 404 for a station the line does not know', async () => {
    for (const bad of ['some-other-line', 'bad%20id']) {
      const res = await get(`/api/stations/etch-01/history?line=${bad}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'bad_request', message: expect.stringContaining('line') } });
    }
    expect((await get(`/api/stations/etch-01/history?line=${line}&line=${replayLine}`)).status).toBe(400);
    const unknown = await get(`/api/stations/clean-01/history?line=${replayLine}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'not_found', message: expect.stringContaining(replayLine) } });
    expect((await get(`/api/stations/etch-01/history?line=${line}`)).status).toBe(200);
  });
});
