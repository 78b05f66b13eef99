/**
 * InfluxDB outage under the real detector process (issue #7): with the line streaming at a steady rate, influxd is
 * stopped for 60 s and started again, and every reading sent ends up stored exactly once, counted by query. The
 * detector must stay up, say so on /readyz while the store is gone, and keep its memory bounded. influxd here is a
 * private instance (OwnInfluxd) on free ports; the shared one on 8086 is never stopped.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@linewatch/protocol';
import { LineSimulator, type LineDef, type SimMessage } from '@linewatch/simulators';
import { REPO_ROOT, detectorMetrics, sampleRss, sleep } from '../bench/children.js';
import { OwnInfluxd } from '../support/own-influxd.js';
import { TEST_MQTT_URL, requireServices } from '../support/services.js';
import { until } from '../support/until.js';
import { killIfRunning, spawnDetector, terminate, type DetectorChild } from './detector-process.js';

// InfluxDB up on 8086 means influxd is installed; this test stops and starts an influxd of its own, never that one.
const ok = await requireServices('mosquitto', 'influxdb');
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const lineId = `outage-${runId}`;
const database = `lwtest_outage_${runId}`;
const clientId = `lw-outage-detector-${runId}`;
/** The second case: a kill -9 while the journal holds the outage. */
const crashLineId = `outage-kill-${runId}`;
const crashClientId = `lw-outage-kill-detector-${runId}`;
/** The third: a kill -9 while a store write hangs. */
const hangLineId = `outage-hang-${runId}`;
const hangClientId = `lw-outage-hang-detector-${runId}`;

const RATE_HZ = 20;
const HEALTHY_MS = 15_000;
const DOWN_MS = 60_000;
const AFTER_MS = 15_000;
/** Longest wait, once publishing stops, for the store to hold every reading sent. */
const DRAIN_TIMEOUT_MS = 60_000;
/** Generous: the whole outage's backlog (≈ 3600 readings plus their scores) is far below this. */
const RSS_BOUND_MIB = 600;
const line: LineDef = {
  line: lineId,
  stations: ['etch-01', 'etch-02', 'etch-03'].map((id, order) => ({ id, type: 'etch', name: id, order })),
};

interface ReadyBody { ready?: boolean; checks?: { broker?: boolean; store?: boolean; storage?: string }; journal?: { bytes?: number; points?: number } }
interface ReadySample { atMs: number; status: number; body: ReadyBody | undefined }

describe.skipIf(!ok)('an InfluxDB outage under the real detector (issue #7)', () => {
  const influxd = new OwnInfluxd();
  const tempDirs: string[] = [];
  let modelsDir: string;
  let journalDir: string;
  let publisher: MqttClient | undefined;
  let detector: DetectorChild | undefined;

  /** Plain HTTP rather than the `influx` client: its host backoff would keep a query failing after influxd is back. */
  async function influxQuery(q: string, db = database): Promise<{ tags?: Record<string, string>; values: unknown[][] }[]> {
    const res = await fetch(`${influxd.url}/query?db=${db}&q=${encodeURIComponent(q)}`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { results?: { error?: string; series?: { tags?: Record<string, string>; values: unknown[][] }[] }[]; error?: string };
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!res.ok || error) throw new Error(`influx query failed (${res.status}): ${error ?? ''}: ${q}`);
    return body.results?.flatMap((r) => r.series ?? []) ?? [];
  }

  /** Readings per station in InfluxDB: all points, and distinct seq (equal unless one reading landed twice). */
  async function storedCounts(forLine = lineId, db = database): Promise<Map<string, { count: number; distinct: number }>> {
    const series = await influxQuery(`SELECT COUNT(seq), COUNT(DISTINCT(seq)) FROM reading WHERE line = '${forLine}' GROUP BY station`, db);
    return new Map(series.map((s) => [s.tags?.station ?? '', { count: Number(s.values[0]?.[1] ?? 0), distinct: Number(s.values[0]?.[2] ?? 0) }]));
  }

  const storedTotal = async (forLine = lineId, db = database): Promise<number> => [...(await storedCounts(forLine, db)).values()].reduce((a, b) => a + b.count, 0);

  /** Stored readings of each station with seq at most `upTo` of that station: the backlog of the outage, once it equals what was sent. */
  async function storedUpTo(upTo: Map<string, number>): Promise<number> {
    let n = 0;
    for (const [station, seq] of upTo) {
      const [series] = await influxQuery(`SELECT COUNT(seq) FROM reading WHERE line = '${lineId}' AND station = '${station}' AND seq <= ${seq}`);
      n += Number(series?.values[0]?.[1] ?? 0);
    }
    return n;
  }

  async function readyz(port: number): Promise<Omit<ReadySample, 'atMs'>> {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as ReadyBody | undefined };
    } catch {
      return { status: 0, body: undefined };
    }
  }

  beforeAll(async () => {
    await influxd.start();
    await influxQuery(`CREATE DATABASE ${database}`);
    // Only the model this line needs: the detector starts faster than with every model of the repo.
    modelsDir = await mkdtemp(path.join(tmpdir(), 'lw-outage-models-'));
    journalDir = await mkdtemp(path.join(tmpdir(), 'lw-outage-journal-'));
    tempDirs.push(modelsDir, journalDir);
    await copyFile(path.join(REPO_ROOT, 'models', 'etch.onnx'), path.join(modelsDir, 'etch.onnx'));
    publisher = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-outage-pub-${runId}`, clean: true });
  });

  afterAll(async () => {
    await killIfRunning(detector);
    // Clear what this run retained, and end the detector's persistent session, so the shared broker forgets the run.
    if (publisher) {
      for (const l of [lineId, crashLineId, hangLineId]) {
        for (const s of line.stations) {
          for (const kind of ['status', 'meta', 'state'] as const) await publisher.publishAsync(topics[kind](l, s.id), '', { retain: true, qos: 1 }).catch(() => undefined);
        }
      }
      await publisher.endAsync();
    }
    for (const id of [clientId, crashClientId, hangClientId]) {
      const cleaner = ok ? await mqtt.connectAsync(TEST_MQTT_URL, { clientId: id, clean: true }).catch(() => undefined) : undefined;
      await cleaner?.publishAsync(topics.health('detector', id), '', { retain: true, qos: 1 }).catch(() => undefined);
      await cleaner?.endAsync();
    }
    await influxd.dispose();
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });

  it('stores every reading exactly once across 60 s without influxd, and the detector stays up', { timeout: 300_000 }, async () => {
    const d = await spawnDetector({
      MQTT_URL: TEST_MQTT_URL,
      MQTT_CLIENT_ID: clientId,
      LINE: lineId,
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: database,
      MODELS_DIR: modelsDir,
      MODEL_RELOAD_MS: '0',
      WARMUP_MS: '0',
      JOURNAL_DIR: journalDir,
      LOG_LEVEL: 'info',
    });
    detector = d;
    let stoppedOnPurpose = false;
    let unexpectedExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void d.exited.then((e) => {
      if (!stoppedOnPurpose) unexpectedExit = e;
    });
    const rss = sampleRss(d.child.pid!, 250);
    // What the detector tells the line about itself (the API and the page show it): its retained health topic.
    const healthSeen: { atMs: number; state: string }[] = [];
    const watcher = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `lw-outage-health-${runId}`, clean: true });
    watcher.on('message', (_topic, payload) => {
      if (payload.length > 0) healthSeen.push({ atMs: Date.now(), state: (JSON.parse(payload.toString()) as { state: string }).state });
    });
    await watcher.subscribeAsync(topics.health('detector', clientId), { qos: 1 });

    const sim = new LineSimulator({ line, scenario: { faults: [] }, seed: 11, rateHz: RATE_HZ, startTs: Date.now() });
    /** Per station: every telemetry seq published. */
    const sent = new Map<string, Set<number>>(line.stations.map((s) => [s.id, new Set()]));
    const acks: Promise<unknown>[] = [];
    const send = (m: SimMessage): void => {
      acks.push(publisher!.publishAsync(m.topic, JSON.stringify(m.payload), { qos: 1, retain: m.retain }));
      const station = m.topic.split('/').at(-2)!;
      if (m.topic === topics.telemetry(lineId, station)) sent.get(station)!.add((m.payload as { seq: number }).seq);
    };
    const sentTotal = (): number => [...sent.values()].reduce((a, b) => a + b.size, 0);
    for (const m of sim.initialMessages()) send(m);

    // The stream runs on its own clock while influxd goes away and comes back; the hard cap only guards a hang.
    let publishing = true;
    const began = Date.now();
    const hardStop = began + HEALTHY_MS + DOWN_MS + AFTER_MS + 60_000;
    const streaming = (async () => {
      for (let tick = 1; publishing && Date.now() < hardStop; tick++) {
        for (const m of sim.tick()) if (!m.topic.endsWith('/truth')) send(m);
        await sleep(Math.max(0, began + tick * (1000 / RATE_HZ) - Date.now()));
      }
    })();

    await sleep(HEALTHY_MS);
    const storedBeforeOutage = await storedTotal();
    await influxd.stop();
    const downAt = Date.now();
    // While influxd is gone: /readyz, the write buffer and the journal, once a second.
    const whileDown: ReadySample[] = [];
    let bufferPeak = 0;
    /** Points in the on-disk journal at its fullest; stays undefined while the detector has no journal gauge. */
    let journalPeak: number | undefined;
    while (Date.now() - downAt < DOWN_MS) {
      whileDown.push({ atMs: Date.now() - downAt, ...(await readyz(d.port)) });
      const sampled = await detectorMetrics(d.port).catch(() => new Map<string, number>());
      bufferPeak = Math.max(bufferPeak, sampled.get('linewatch_write_buffer_points') ?? 0);
      const journaled = sampled.get('linewatch_journal_points');
      if (journaled !== undefined) journalPeak = Math.max(journalPeak ?? 0, journaled);
      await sleep(Math.min(1_000, Math.max(0, downAt + DOWN_MS - Date.now())));
    }
    const backlog = new Map([...sent].map(([station, seqs]) => [station, Math.max(-1, ...seqs)]));
    const backlogSize = [...sent.values()].reduce((a, b) => a + b.size, 0);
    const upAt = Date.now();
    await influxd.start();
    const downMs = Date.now() - downAt;
    // Recovered once every reading published before influxd came back is stored; the live stream goes on meanwhile.
    let recoverMs: number | undefined;
    let backlogStored = 0;
    await until('the outage backlog stored', async () => (backlogStored = await storedUpTo(backlog)) >= backlogSize, {
      timeoutMs: AFTER_MS + DRAIN_TIMEOUT_MS, intervalMs: 250, progress: () => ({ backlogStored, backlogSize }),
    }).then(() => (recoverMs = Date.now() - upAt), () => undefined);

    await sleep(Math.max(0, upAt + AFTER_MS - Date.now()));
    publishing = false;
    await streaming;
    const stoppedPublishingAt = Date.now();
    const acked = await Promise.race([Promise.all(acks).then(() => true), sleep(30_000).then(() => false)]);
    const total = sentTotal();
    let stored = 0;
    await until('every reading sent stored', async () => (stored = await storedTotal()) >= total, {
      timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: 500, progress: () => ({ stored, total }),
    }).catch(() => undefined);
    const drainAfterStopMs = Date.now() - stoppedPublishingAt;

    // Back to ready once the store is reachable and the backlog written.
    let afterRecovery: Omit<ReadySample, 'atMs'> = { status: 0, body: undefined };
    await until('/readyz 200 with storage ok', async () => {
      afterRecovery = await readyz(d.port);
      return afterRecovery.status === 200 && afterRecovery.body?.checks?.storage === 'ok';
    }, { timeoutMs: 30_000, intervalMs: 250 }).catch(() => undefined);

    const metrics = await detectorMetrics(d.port);
    const healthBeforeStop = healthSeen.at(-1)?.state;
    const aliveAtEnd = d.child.exitCode === null && d.child.signalCode === null && unexpectedExit === undefined;
    stoppedOnPurpose = true;
    const stop = await terminate(d);
    const rssPeakMiB = Math.round(Math.max(...rss.stop()));
    await until('the stopped detector says offline', async () => healthSeen.at(-1)?.state === 'offline', { timeoutMs: 5_000, intervalMs: 50 }).catch(() => undefined);
    await watcher.endAsync();
    const healthWhileDown = healthSeen.filter((h) => h.atMs >= downAt + 5_000 && h.atMs < upAt).map((h) => h.state);

    const counts = await storedCounts();
    const storedSum = [...counts.values()].reduce((a, b) => a + b.count, 0);
    const duplicates = [...counts.values()].reduce((a, b) => a + b.count - b.distinct, 0);
    const lastDown = whileDown.at(-1);
    const report = {
      fault: 'influxd stopped',
      downMs,
      sent: total,
      stored: storedSum,
      duplicates,
      recoverMs: recoverMs ?? null,
      drainAfterStopMs,
      rssPeakMiB,
      // null: the detector has no journal counters (yet).
      spilled: metrics.get('linewatch_journal_spilled_points_total') ?? null,
      replayed: metrics.get('linewatch_journal_replayed_points_total') ?? null,
      dropped: metrics.get('linewatch_points_dropped_total') ?? 0,
      writeErrors: metrics.get('linewatch_store_write_errors_total') ?? 0,
      writeBufferPeak: bufferPeak,
      journalPeak: journalPeak ?? null,
      storedBeforeOutage,
      backlog: backlogSize,
      readyzWhileDown: lastDown ? { status: lastDown.status, storage: lastDown.body?.checks?.storage, journal: lastDown.body?.journal } : undefined,
      readyzAfter: { status: afterRecovery.status, storage: afterRecovery.body?.checks?.storage },
    };
    console.log(`[influx-outage] readyz while down: ${JSON.stringify(whileDown.map((s) => [s.atMs, s.status, s.body?.checks?.storage ?? null]))}`);
    console.log(`RELIABILITY ${JSON.stringify(report)}`);

    // /readyz: not ready, with storage degraded, while influxd is gone; ready again with storage ok after the drain.
    // Soft: a failure here still lets the data and process checks below run and report.
    // The health topic says the same: degraded during the outage (republished every few seconds), ok after, then
    // offline once the detector stops.
    expect.soft(healthWhileDown.length, 'health messages while influxd was down').toBeGreaterThan(3);
    expect.soft(new Set(healthWhileDown), 'health states while influxd was down').toEqual(new Set(['degraded']));
    expect.soft(healthBeforeStop, 'health after recovery').toBe('ok');
    expect.soft(healthSeen.at(-1)?.state, 'health after SIGTERM').toBe('offline');
    // Memory: the journal, not the heap, held the outage.
    expect.soft(report.spilled ?? 0, 'points spilled to the journal').toBeGreaterThan(1_000);
    expect.soft(report.replayed, 'points replayed from the journal').toBe(report.spilled);
    expect.soft(bufferPeak, 'write buffer peak (points) while influxd was down').toBeLessThan(1_000);
    expect.soft(whileDown.filter((s) => s.atMs >= 5_000).map((s) => s.status), 'readyz status while down (after 5 s)').toEqual(
      whileDown.filter((s) => s.atMs >= 5_000).map(() => 503),
    );
    expect.soft(lastDown?.body?.checks?.storage, 'readyz checks.storage while down').toBe('degraded');
    expect.soft(afterRecovery.status, 'readyz status after recovery').toBe(200);
    expect.soft(afterRecovery.body?.checks?.storage, 'readyz checks.storage after recovery').toBe('ok');

    // The data: every reading sent is stored, once, per station.
    expect(acked, 'the broker acknowledged every publish').toBe(true);
    expect(total).toBeGreaterThan(RATE_HZ * line.stations.length * (HEALTHY_MS + DOWN_MS) / 1000);
    expect(storedBeforeOutage, 'the detector stored readings before the outage').toBeGreaterThan(0);
    for (const [station, seqs] of sent) {
      expect(counts.get(station)?.count, `${station}: COUNT(seq)`).toBe(seqs.size);
      expect(counts.get(station)?.distinct, `${station}: COUNT(DISTINCT(seq))`).toBe(seqs.size);
    }
    expect(recoverMs, 'the outage backlog was stored').toBeDefined();
    expect(report.dropped, 'linewatch_points_dropped_total').toBe(0);
    // The process: up throughout, memory bounded, and a clean SIGTERM at the end.
    expect(unexpectedExit, 'the detector exited during the run').toBeUndefined();
    expect(aliveAtEnd).toBe(true);
    expect(rssPeakMiB).toBeLessThan(RSS_BOUND_MIB);
    expect(stop.code).toBe(0);
    expect(stop.stats?.dropped).toBe(0);
  });

  /**
   * A line publishing on its own clock at RATE_HZ per station (QoS 1), and what it sent, per station. Its telemetry
   * starts once the detector on `port` has taken the line's retained meta and state: it is subscribed by then, so
   * its persistent session holds everything after.
   */
  async function streamLine(lineName: string, seed: number, port: number) {
    const sim = new LineSimulator({ line: { ...line, line: lineName }, scenario: { faults: [] }, seed, rateHz: RATE_HZ, startTs: Date.now() });
    const sent = new Map<string, Set<number>>(line.stations.map((s) => [s.id, new Set()]));
    const acks: Promise<unknown>[] = [];
    const send = (m: SimMessage): void => {
      acks.push(publisher!.publishAsync(m.topic, JSON.stringify(m.payload), { qos: 1, retain: m.retain }));
      const station = m.topic.split('/').at(-2)!;
      if (m.topic === topics.telemetry(lineName, station)) sent.get(station)!.add((m.payload as { seq: number }).seq);
    };
    for (const m of sim.initialMessages()) send(m);
    await until('the detector subscribed (it took the retained meta and state)', async () => ((await detectorMetrics(port)).get('linewatch_messages_valid_total') ?? 0) >= 2 * line.stations.length, {
      timeoutMs: 20_000, intervalMs: 100,
    });
    let publishing = true;
    const began = Date.now();
    const streaming = (async () => {
      for (let tick = 1; publishing && Date.now() - began < 60_000; tick++) {
        for (const m of sim.tick()) if (!m.topic.endsWith('/truth')) send(m);
        await sleep(Math.max(0, began + tick * (1000 / RATE_HZ) - Date.now()));
      }
    })();
    return {
      sent,
      async stop(): Promise<number> {
        publishing = false;
        await streaming;
        await Promise.all(acks);
        return [...sent.values()].reduce((a, b) => a + b.size, 0);
      },
    };
  }

  /** Waits (bounded) until `db` holds every reading sent on `lineName`, then checks it per station: all there, none twice. */
  async function expectAllStored(db: string, lineName: string, sent: Map<string, Set<number>>, total: number): Promise<{ stored: number; waitedMs: number }> {
    const began = Date.now();
    let stored = 0;
    await until('every reading sent stored', async () => (stored = await storedTotal(lineName, db).catch(() => 0)) >= total, {
      timeoutMs: 60_000, intervalMs: 250, progress: () => ({ stored, total }),
    }).catch(() => undefined);
    const counts = await storedCounts(lineName, db);
    for (const [station, seqs] of sent) {
      expect(counts.get(station)?.count, `${station}: COUNT(seq)`).toBe(seqs.size);
      expect(counts.get(station)?.distinct, `${station}: COUNT(DISTINCT(seq))`).toBe(seqs.size);
    }
    return { stored, waitedMs: Date.now() - began };
  }

  it('loses nothing when a detector started while influxd is down is killed (-9) with an outage in its journal, on a database not yet made', { timeout: 180_000 }, async () => {
    const journal = await mkdtemp(path.join(tmpdir(), 'lw-outage-kill-journal-'));
    tempDirs.push(journal);
    // A database nobody has made: the detector must make it, with its retention policies, once influxd answers.
    const fresh = `${database}_fresh`;
    const env = {
      MQTT_URL: TEST_MQTT_URL, MQTT_CLIENT_ID: crashClientId, LINE: crashLineId, INFLUX_URL: influxd.url, INFLUX_DATABASE: fresh,
      MODELS_DIR: modelsDir, MODEL_RELOAD_MS: '0', WARMUP_MS: '0', JOURNAL_DIR: journal, LOG_LEVEL: 'warn',
    };
    await influxd.stop();
    // Started with influxd down: live (it scores and journals), not ready.
    const first = await spawnDetector(env, { until: 'live' });
    detector = first;
    const rss = [sampleRss(first.child.pid!, 250)];
    const stream = await streamLine(crashLineId, 12, first.port);
    await until('points in the journal', async () => ((await detectorMetrics(first.port)).get('linewatch_journal_points') ?? 0) > 500, { timeoutMs: 30_000, intervalMs: 200 });
    const journaledAtKill = (await detectorMetrics(first.port)).get('linewatch_journal_points') ?? 0;
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // The restart finds the journal and keeps journaling; once influxd is back it sets the store up and replays.
    const second = await spawnDetector(env, { until: 'live' });
    detector = second;
    rss.push(sampleRss(second.child.pid!, 250));
    await sleep(3_000);
    const upAt = Date.now();
    await influxd.start();
    await sleep(3_000);
    const total = await stream.stop();
    const { stored } = await expectAllStored(fresh, crashLineId, stream.sent, total);
    const recoverMs = Date.now() - upAt;
    const metrics = await detectorMetrics(second.port);
    const stop = await terminate(second);
    const rps = (await influxQuery('SHOW RETENTION POLICIES', fresh)).flatMap((series) => series.values.map((v) => v[0]));
    const report = {
      fault: 'kill -9 of the detector while influxd was down (started down, fresh database)', sent: total, stored, journaledAtKill,
      replayedByRestart: metrics.get('linewatch_journal_replayed_points_total') ?? 0, recoverMs, dropped: metrics.get('linewatch_points_dropped_total') ?? 0,
      rssPeakMiB: Math.round(Math.max(...rss.flatMap((r) => r.stop()))),
    };
    console.log(`RELIABILITY ${JSON.stringify(report)}`);
    // The restart replayed what the killed run had journaled, not only what it journaled itself.
    expect(report.replayedByRestart).toBeGreaterThanOrEqual(journaledAtKill);
    expect(report.dropped).toBe(0);
    expect(rps, 'retention policies the detector made').toEqual(expect.arrayContaining(['raw', 'rollup']));
    expect(stop.code).toBe(0);
  });

  it('loses nothing when the detector is killed (-9) while a store write hangs (influxd stopped with SIGSTOP)', { timeout: 180_000 }, async () => {
    const env = {
      MQTT_URL: TEST_MQTT_URL, MQTT_CLIENT_ID: hangClientId, LINE: hangLineId, INFLUX_URL: influxd.url, INFLUX_DATABASE: database,
      MODELS_DIR: modelsDir, MODEL_RELOAD_MS: '0', WARMUP_MS: '0', JOURNAL_DIR: await mkdtemp(path.join(tmpdir(), 'lw-outage-hang-journal-')), LOG_LEVEL: 'warn',
    };
    tempDirs.push(env.JOURNAL_DIR);
    const first = await spawnDetector(env);
    detector = first;
    const rss = [sampleRss(first.child.pid!, 250)];
    const stream = await streamLine(hangLineId, 13, first.port);
    await sleep(3_000);
    // influxd takes the connection and answers nothing: the write in flight hangs (WRITE_TIMEOUT_MS is 5 s), and
    // everything that arrives meanwhile waits for it, unacknowledged.
    influxd.pause();
    await sleep(1_500);
    const waitingAtKill = (await detectorMetrics(first.port)).get('linewatch_write_buffer_points') ?? 0;
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    influxd.resume();
    const restartAt = Date.now();
    const second = await spawnDetector(env);
    detector = second;
    rss.push(sampleRss(second.child.pid!, 250));
    await sleep(3_000);
    const total = await stream.stop();
    const { stored } = await expectAllStored(database, hangLineId, stream.sent, total);
    const metrics = await detectorMetrics(second.port);
    const stop = await terminate(second);
    const report = {
      fault: 'kill -9 of the detector while a store write hangs', sent: total, stored, waitingAtKill,
      recoverMs: Date.now() - restartAt, dropped: metrics.get('linewatch_points_dropped_total') ?? 0,
      rssPeakMiB: Math.round(Math.max(...rss.flatMap((r) => r.stop()))),
    };
    console.log(`RELIABILITY ${JSON.stringify(report)}`);
    // The kill came with points accepted and not yet written: the ones a late ack protects.
    expect(waitingAtKill).toBeGreaterThan(0);
    expect(report.dropped).toBe(0);
    expect(stop.code).toBe(0);
  });
});
