import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InfluxDB } from 'influx';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Anomaly, StationHistory, StationView, WaferVerdict } from '@linewatch/protocol';
import { InfluxStore } from '@linewatch/store';
import { createApi, loadApiConfig, type Api } from '../../services/api/src/app.js';
import { TestPublisher, anomaly, meta, uniqueLine, waferVerdict } from '../../services/api/src/testing/fixtures.js';
import { BODIES, INJECTIONS, KEYS, ROUTES, SEGMENTS, VALUES, mulberry32, type Method } from '../../services/api/src/testing/rest-fuzz-corpus.js';
import { TEST_INFLUX_URL, TEST_MQTT_URL, requireServices } from '../support/services.js';

/**
 * Hostile REST input against the real API (real Mosquitto, real InfluxDB on a throwaway database): a seeded fuzz
 * over every route, and InfluxQL injection attempts through every route that reaches the store. The store holds a
 * second line whose data no answer may ever carry.
 */
const ok = await requireServices('mosquitto', 'influxdb');

const TOKEN = 'rest-fuzz-token-0123456789abcdef';
const SECRET_LINE = 'secret-line';
/** Markers only the secret line's data carries; the fuzz inputs never contain them, so no error message echoes them. */
const SECRET_MARKS = ['31337', 'zz-secret-model', 'WSECRET'];
const FUZZ_REQUESTS = 3_200;
const GOOD_EVERY = 40;
const rand = mulberry32(0x5eed7);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;


interface Answer {
  status: number;
  text: string;
  contentType: string;
}

describe.skipIf(!ok)('REST under hostile input, against real Mosquitto and InfluxDB', () => {
  const line = uniqueLine('restfuzz');
  const database = `lwtest_restfuzz_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const influx = new URL(TEST_INFLUX_URL);
  const admin = new InfluxDB({ host: influx.hostname, port: Number(influx.port) });
  const store = new InfluxStore({ url: TEST_INFLUX_URL, database, rawRetention: '30d', rollupRetention: '400d' }, pino({ level: 'silent' }));
  const now = Date.now();
  const byStatus = new Map<number, number>();
  const failures: string[] = [];
  let sent = 0;
  let recordingsDir = '';
  let pub: TestPublisher;
  let api: Api;
  let url = '';

  async function send(method: Method, pathAndQuery: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
    const res = await fetch(`${url}${pathAndQuery}`, { method, headers: init.headers, body: init.body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    sent += 1;
    byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
    return { status: res.status, text, contentType: res.headers.get('content-type') ?? '' };
  }

  /** What every answer to hostile input must satisfy; returns the problem, or undefined. */
  function problem(answer: Answer): string | undefined {
    if (answer.status >= 500) return `status ${answer.status}: ${answer.text.slice(0, 200)}`;
    const leak = SECRET_MARKS.find((mark) => answer.text.includes(mark));
    if (leak) return `answer carries the secret line's data (${leak})`;
    if (answer.status < 400) return undefined;
    if (!answer.contentType.startsWith('application/json')) return `${answer.status} is not JSON: ${answer.contentType}`;
    const body = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string' || body.error.message.length === 0)
      return `${answer.status} without { error: { code, message } }: ${answer.text.slice(0, 200)}`;
    return undefined;
  }

  function check(what: string, answer: Answer): void {
    const p = problem(answer);
    if (p && failures.length < 50) failures.push(`${what} → ${p}`);
  }

  beforeAll(async () => {
    await store.init();
    const readings = (l: string, value: number) =>
      [1, 2, 3].map((i) => ({ line: l, station: 'etch-01', ts: now - i * 60_000, seq: i, values: { rf_power: value + i } }));
    await store.write({
      readings: [...readings(line, 1500), ...readings(SECRET_LINE, 31337)],
      scores: [],
      anomalies: [anomaly(line, 'etch-01', now - 60_000), anomaly(SECRET_LINE, 'etch-01', now - 60_000, { modelVersion: 'zz-secret-model@1' })],
      wafers: [
        waferVerdict(line, 'etch-01', 'W0001', now - 120_000),
        waferVerdict(SECRET_LINE, 'etch-01', 'WSECRET', now - 120_000, { modelVersion: 'zz-secret-model@1' }),
      ],
    });
    pub = await TestPublisher.connect(TEST_MQTT_URL);
    await pub.publish(line, 'etch-01', 'meta', meta(line, 'etch-01', 0, 'Metal etch'));
    // One temporary folder: empty recordings, and a stub dashboard so the page's paths are fuzzed as a built install serves them.
    recordingsDir = await mkdtemp(path.join(tmpdir(), 'lw-restfuzz-'));
    await writeFile(path.join(recordingsDir, 'index.html'), '<!doctype html><title>stub</title>');
    const config = loadApiConfig({
      ALERTS_DB_PATH: ':memory:',
      PORT: '0',
      HOST: '127.0.0.1',
      MQTT_URL: TEST_MQTT_URL,
      LINE: line,
      API_TOKEN: TOKEN,
      RECORDINGS_DIR: recordingsDir,
      DASHBOARD_DIR: recordingsDir,
    });
    api = createApi(config, { store, logger: pino({ level: 'silent' }) });
    url = (await api.start()).url;
    await vi.waitFor(async () => expect((await send('GET', '/api/stations/etch-01')).status).toBe(200), { timeout: 5_000 });
  });

  afterAll(async () => {
    await api?.stop();
    await pub?.close();
    await store.close();
    if (ok) await admin.dropDatabase(database);
    if (recordingsDir) await rm(recordingsDir, { recursive: true, force: true });
    console.info(`rest fuzz: ${sent} requests by status ${JSON.stringify(Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])))}`);
  });

  /** Requests with known answers, interleaved with the fuzz: the API still serves the truth. */
  async function goodRequest(round: number): Promise<void> {
    const kind = round % 4;
    if (kind === 3) {
      const res = await send('POST', '/api/stations/etch-01/baseline', {
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: '{"wafers":3,"reason":"fuzz"}',
      });
      expect(res.status).toBe(202);
      expect(JSON.parse(res.text)).toMatchObject({ type: 'rebaseline', wafers: 3, reason: 'fuzz' });
      return;
    }
    if (kind === 0) {
      const res = await send('GET', `/api/stations/etch-01/history?from=${now - 600_000}&to=${now}`);
      const history = JSON.parse(res.text) as StationHistory;
      expect(res.status).toBe(200);
      expect(history.readings.map((r) => r.values.rf_power).sort()).toEqual([1501, 1502, 1503]);
    } else if (kind === 1) {
      const res = await send('GET', '/api/anomalies?station=etch-01');
      expect(res.status).toBe(200);
      expect((JSON.parse(res.text) as Anomaly[]).map((a) => a.line)).toEqual([line]);
    } else {
      const res = await send('GET', `/api/stations/etch-01/wafers?from=${now - 600_000}`);
      expect(res.status).toBe(200);
      expect((JSON.parse(res.text) as WaferVerdict[]).map((w) => w.wafer)).toEqual(['W0001']);
    }
  }

  function fuzzRequest(): { method: Method; target: string; headers: Record<string, string>; body?: string } {
    const [method, template] = pick(ROUTES);
    const raw = rand() < 0.5;
    const segment = pick(SEGMENTS);
    let target = template.replace(':id', raw ? segment : encodeURIComponent(segment));
    const pairs = Array.from({ length: Math.floor(rand() * 5) }, () => {
      const value = pick(VALUES);
      return `${encodeURIComponent(pick(KEYS))}=${rand() < 0.5 ? value : encodeURIComponent(value)}`;
    });
    if (rand() < 0.2) pairs.push(`from=${now}`, `to=${now - 60_000}`); // reversed
    if (rand() < 0.1) pairs.push('from=0', `to=${now}`); // far too long
    if (rand() < 0.1) pairs.push('limit=1', 'limit=2'); // repeated
    if (pairs.length > 0) target += `?${pairs.join('&')}`;
    const auth = pick(['', `Bearer ${TOKEN}`, `Bearer ${TOKEN}`, 'Bearer wrong-token-wrong-token', `Basic ${TOKEN}`, 'Bearer', `Bearer ${'t'.repeat(4_000)}`]);
    const headers: Record<string, string> = auth ? { authorization: auth } : {};
    if (method === 'GET' || method === 'DELETE' || rand() < 0.1) return { method, target, headers };
    const { body, type } = pick(BODIES);
    headers['content-type'] = type;
    return { method, target, headers, body };
  }

  it(`survives ${FUZZ_REQUESTS} hostile requests over every route and keeps serving the truth`, async () => {
    const started = Date.now();
    // Drawn up front, so the same requests go out whatever order the workers finish in.
    const requests = Array.from({ length: FUZZ_REQUESTS }, fuzzRequest);
    const workers = 6;
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < FUZZ_REQUESTS) {
          const n = next++;
          if (n % GOOD_EVERY === 0) await goodRequest(n / GOOD_EVERY);
          const req = requests[n]!;
          const answer = await send(req.method, req.target, req);
          check(`${req.method} ${req.target.slice(0, 160)} [${req.headers['content-type'] ?? '-'}; ${req.body?.slice(0, 40) ?? ''}]`, answer);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect((await send('GET', '/healthz')).status).toBe(200);
    expect((await send('GET', '/readyz')).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it('answers times and numbers at the edges of what InfluxDB can hold with 200 or 400, never 5xx', async () => {
    const station = '/api/stations/etch-01';
    const edges = [
      '/api/anomalies?from=999999999999999', '/api/anomalies?to=999999999999999', '/api/anomalies?from=%2B275760-09-13T00:00:00Z',
      '/api/anomalies?from=9000000000000&to=9000000000001', '/api/anomalies?from=1&to=2', '/api/anomalies?to=1',
      `${station}/history?from=999999999999000&to=999999999999999`, `${station}/history?from=9223372036854&to=9223372036855`,
      `${station}/history?from=0&to=1&bucket=1s`, `${station}/history?bucket=99999999d`, `${station}/history?from=1&bucket=999999999d`,
      `${station}/wafers?from=999999999999999`, `${station}/wafers?to=999999999999999`, `${station}/wafers?from=0&to=1`,
      `${station}/wafers?to=%2B275760-09-13T00:00:00Z`, '/api/alerts?from=999999999999999999999', '/api/alerts?to=9007199254740993',
    ];
    for (const target of edges) {
      const answer = await send('GET', target);
      expect(problem(answer), target).toBeUndefined();
      expect([200, 400], `${target}: ${answer.text}`).toContain(answer.status);
    }
  });

  it('answers an oversized JSON body with 413 and a clear JSON error', async () => {
    for (const route of ['/api/stations/etch-01/baseline', '/api/replay', '/api/webhooks']) {
      const answer = await send('POST', route, {
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'x'.repeat(200_000) }),
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toEqual({ error: { code: 'payload_too_large', message: expect.stringMatching(/too large/) } });
    }
  });

  it('shrugs off a body cut off mid-stream and a request line of garbage', async () => {
    const { port } = new URL(url);
    const raw = (bytes: string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port: Number(port) }, () => socket.end(bytes));
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('close', () => resolve(answer));
        socket.on('error', () => resolve(answer));
      });
    const cut = `POST /api/stations/etch-01/baseline HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"wafers":`;
    await raw(cut);
    expect(await raw('GARBAGE \u0000 HTTP/9.9\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect((await send('GET', '/healthz')).status).toBe(200);
  });

  it('lets no InfluxQL injection read another line, and the database survives', async () => {
    const targets = (evil: string): [Method, string][] => {
      const e = encodeURIComponent(evil);
      return [
        ['GET', `/api/stations/${e}/history`],
        ['GET', `/api/stations/${e}/history?only=scores&from=${now - 600_000}`],
        ['GET', `/api/stations/etch-01/history?line=${e}`],
        ['GET', `/api/stations/${e}/wafers?from=0`],
        ['GET', `/api/stations/etch-01/wafers?line=${e}&from=0`],
        ['GET', `/api/stations/etch-01/wafers?line=${e}`],
        ['GET', `/api/anomalies?station=${e}`],
        ['GET', `/api/anomalies?station=${e}&from=0&to=${now}`],
        ['GET', `/api/alerts?line=${e}&station=${e}`],
        ['GET', `/api/stations/${e}`],
        ['POST', `/api/stations/${e}/baseline`],
        ['POST', `/api/stations/etch-01/baseline?line=${e}`],
      ];
    };
    for (const evil of [...INJECTIONS, encodeURIComponent("etch-01' OR line='secret-line")]) {
      for (const [method, target] of targets(evil)) {
        const answer = await send(method, target, { headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
        expect(problem(answer), `${method} ${target}`).toBeUndefined();
        // A list route may answer a well-formed id it has nothing for with an empty list; nothing else is fine.
        const lists = target.startsWith('/api/alerts') || target.startsWith('/api/anomalies');
        expect(lists ? [200, 400] : [400, 404], `${method} ${target}: ${answer.text}`).toContain(answer.status);
        if (answer.status === 200) expect(JSON.parse(answer.text)).toEqual([]);
      }
    }
    expect(await admin.getDatabaseNames()).toContain(database);
    expect(await store.countReadings({ line: SECRET_LINE, station: 'etch-01', from: now - 600_000, to: now })).toBe(3);
    const stations = JSON.parse((await send('GET', '/api/stations')).text) as StationView[];
    expect(stations.map((s) => s.meta.station)).toEqual(['etch-01']);
  });
});
