/**
 * Wafer verdicts across an API restart, on real Mosquitto and a real SQLite file: verdicts are events, not
 * retained on the broker, so after a restart only the store (written by the detector) can bring them back. The
 * API loads the newest of them at start, and serves older ones with `from`/`to` from the store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WaferVerdict } from '@linewatch/protocol';
import { SqliteStore } from '@linewatch/store';
import { TEST_MQTT_URL, requireServices } from '../../../test/support/services.js';
import { until } from '../../../test/support/until.js';
import { createApi, loadApiConfig, type Api } from './app.js';
import { TestPublisher, meta, state, status, uniqueLine, waferVerdict } from './testing/fixtures.js';

const ok = await requireServices('mosquitto');
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

describe.skipIf(!ok)('wafer verdicts after an API restart', () => {
  const line = uniqueLine('wafer-history');
  const station = 'etch-01';
  /** Has verdicts but no retained meta: after the restart, only the store knows it. */
  const quiet = 'etch-02';
  const t = Date.now();
  // Six wafers of etch-01, a minute apart, the last ending 10 minutes ago; one of etch-02, before them.
  const verdicts = Array.from({ length: 6 }, (_, i) =>
    waferVerdict(line, station, `W0${i}`, t - (15 - i) * 60_000, i === 3 ? {} : { verdict: 'ok', score: 0.3, contributors: [] }),
  );
  const quietVerdict = waferVerdict(line, quiet, 'W09', t - 20 * 60_000, { verdict: 'ok', score: 0.2, contributors: [] });
  let dir = '';
  let pub: TestPublisher;
  let api: Api | undefined;
  let store: SqliteStore | undefined;
  let url = '';

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };
  const wafers = (list: WaferVerdict[]) => list.map((v) => v.wafer);

  /** A fresh store on the same file and a fresh API on it: what a restart of the process gives. */
  async function startApi(recentWafers: number, run: number): Promise<void> {
    store = new SqliteStore({ path: join(dir, 'linewatch.db') }, logger);
    await store.init();
    const config = loadApiConfig({
      PORT: '0', MQTT_URL: TEST_MQTT_URL, LINE: line, DASHBOARD_DIR: '/nonexistent', ALERTS_DB_PATH: ':memory:',
      RECENT_WAFERS: String(recentWafers), MQTT_CLIENT_ID: `lw-wafer-history-${process.pid}-${run}`,
    });
    api = createApi(config, { store, logger });
    ({ url } = await api.start());
  }

  async function stopApi(): Promise<void> {
    await api?.stop();
    await store?.close();
    api = undefined;
    store = undefined;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lw-wafer-history-'));
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    await pub.publish(line, station, 'meta', meta(line, station, 0, 'Metal etch'));
    await pub.publish(line, station, 'state', state());
    await pub.publish(line, station, 'status', status(line, station));
    await startApi(500, 1);
  }, 30_000);

  afterAll(async () => {
    await stopApi();
    await pub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the verdicts published before a restart after it, from the store', async () => {
    // What the detector does with each verdict: publish it, and write it to the store.
    for (const v of [...verdicts, quietVerdict]) await pub.publish(line, v.station, 'wafer', v);
    await store?.write({ readings: [], scores: [], anomalies: [], wafers: [...verdicts, quietVerdict] });
    const before = await until('six verdicts in the running API', async () => {
      const got = (await get<WaferVerdict[]>(`/api/stations/${station}/wafers`)).body;
      return got.length === 6 ? got : undefined;
    });
    expect(wafers(before)).toEqual(['W05', 'W04', 'W03', 'W02', 'W01', 'W00']);

    await stopApi();
    // The new API keeps only the newest 4 verdicts of the line in memory.
    await startApi(4, 2);
    const after = await get<WaferVerdict[]>(`/api/stations/${station}/wafers`);
    expect(after.status).toBe(200);
    // The line's newest four are W05..W02 of etch-01 (etch-02's W09 ended earlier); nothing came from the broker.
    expect(after.body).toEqual([...verdicts].reverse().slice(0, 4));
    expect((await get<WaferVerdict[]>(`/api/stations/${quiet}/wafers`)).status).toBe(404);
  });

  it('goes back in time with from/to (epoch ms or ISO), beyond what the API keeps in memory', async () => {
    const all = await get<WaferVerdict[]>(`/api/stations/${station}/wafers?from=${t - 3_600_000}`);
    expect(all.status).toBe(200);
    expect(wafers(all.body)).toEqual(['W05', 'W04', 'W03', 'W02', 'W01', 'W00']);
    expect(all.body.find((v) => v.wafer === 'W03')).toEqual(verdicts[3]);
    // [from, to) on the end of the step: W01 ends at t - 14 min, W03 at t - 12 min (excluded).
    const from = new Date(t - 14 * 60_000).toISOString();
    const window = await get<WaferVerdict[]>(`/api/stations/${station}/wafers?from=${from}&to=${t - 12 * 60_000}`);
    expect(wafers(window.body)).toEqual(['W02', 'W01']);
    expect(wafers((await get<WaferVerdict[]>(`/api/stations/${station}/wafers?to=${t - 13 * 60_000}&limit=1`)).body)).toEqual(['W01']);
    // A station only the store knows is found by a time range.
    expect(wafers((await get<WaferVerdict[]>(`/api/stations/${quiet}/wafers?from=0`)).body)).toEqual(['W09']);
  });

  it('adds the newest verdicts the detector has published but not yet stored', async () => {
    const fresh = waferVerdict(line, station, 'W06', t - 60_000, { verdict: 'ok', score: 0.3, contributors: [] });
    await pub.publish(line, station, 'wafer', fresh);
    const got = await until('the fresh verdict with the stored ones', async () => {
      const list = (await get<WaferVerdict[]>(`/api/stations/${station}/wafers?from=${t - 3_600_000}`)).body;
      return list.length === 7 ? list : undefined;
    });
    expect(wafers(got)).toEqual(['W06', 'W05', 'W04', 'W03', 'W02', 'W01', 'W00']);
  });

  it('says what is wrong with a bad range or an unknown station', async () => {
    const reversed = await get<{ error: { message: string } }>(`/api/stations/${station}/wafers?from=${t}&to=${t - 1}`);
    expect(reversed.status).toBe(400);
    expect(JSON.stringify(reversed.body)).toContain('to must be after from');
    expect((await get(`/api/stations/${station}/wafers?from=yesterday`)).status).toBe(400);
    expect((await get(`/api/stations/nowhere-01/wafers?from=0`)).status).toBe(404);
  });
});
