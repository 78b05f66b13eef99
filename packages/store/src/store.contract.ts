import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly, WaferVerdict } from '@linewatch/protocol';
import { equipmentStatesContract } from './store-states.contract.js';
import type { AlertEventPoint, ReadingPoint, ScorePoint, Store } from './types.js';

/**
 * The behaviour every Store must have, run against each backend (sqlite-store.test.ts, influx-store.int.test.ts).
 * Timestamps sit half an hour back, inside any raw retention, and on a minute boundary so buckets are predictable.
 */
export function storeContract(name: string, make: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    const line = `ct${Math.random().toString(36).slice(2, 8)}`;
    const otherLine = `${line}x`;
    const station = 'etch-01';
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
    const end = t0 + 100_000;
    const context = { recipe: 'ETCH-AL-01', step: 'main_etch', lot: 'L0001', wafer: 'L0001-03' };
    // `step` collides with a tag key of the Influx schema: the store must still round-trip it as a sensor.
    const reading = (i: number, at = station, onLine = line): ReadingPoint => ({
      line: onLine,
      station: at,
      ts: t0 + i * 10_000,
      seq: 1000 + i,
      values: { rf_power: 100 + i, chamber_pressure: 30 + i / 2, step: i },
      context,
    });
    const score = (i: number): ScorePoint => ({
      line,
      station,
      ts: t0 + i * 10_000,
      seq: 1000 + i,
      score: i * 0.15,
      threshold: 1,
      t2: i,
      spe: i / 10,
      anomalous: i * 0.15 > 1,
      health: i * 0.15 > 1 ? 'ALARM' : 'OK',
      modelVersion: 'etch@1',
    });
    const anomaly = (i: number, at = station, severity: Anomaly['severity'] = 'warning'): Anomaly => ({
      id: `${line}/${at}/${t0 + i * 10_000}`,
      line,
      station: at,
      ts: t0 + i * 10_000,
      seq: 1000 + i,
      score: 1 + i / 10,
      threshold: 1,
      t2: 40 + i,
      t2Limit: 30,
      spe: 2.5,
      speLimit: 3,
      modelVersion: 'etch@1',
      severity,
      contributors: [
        { sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.71 },
        { sensor: 'chamber_pressure', value: 35.5, expected: 35.1, contribution: 0.2 },
      ],
      context,
    });
    const range = { line, station, from: t0, to: end };
    let store: Store;

    beforeAll(async () => {
      store = await make();
      await store.init();
      await store.write({
        readings: [
          ...Array.from({ length: 10 }, (_, i) => reading(i)),
          ...[0, 1, 2].map((i) => reading(i, 'cmp-02')),
          ...[0, 1].map((i) => reading(i, station, otherLine)),
        ],
        scores: Array.from({ length: 10 }, (_, i) => score(i)),
        anomalies: [anomaly(5), anomaly(7, station, 'critical'), anomaly(9, station, 'critical'), anomaly(6, 'cmp-02')],
      });
    });

    afterAll(async () => {
      await store?.close();
    });

    it('init is idempotent', async () => {
      await expect(store.init()).resolves.toBeUndefined();
      expect(await store.countReadings({ line, station, from: t0, to: end })).toBe(10);
    });

    it('reads back readings with values, seq and context in [from, to), oldest first', async () => {
      const rows = await store.readings(range);
      expect(rows.map((r) => r.ts)).toEqual(Array.from({ length: 10 }, (_, i) => t0 + i * 10_000));
      expect(rows[3]).toEqual({ ts: t0 + 30_000, seq: 1003, values: { rf_power: 103, chamber_pressure: 31.5, step: 3 }, context });
      const window = await store.readings({ ...range, from: t0 + 10_000, to: t0 + 30_000 });
      expect(window.map((r) => r.seq)).toEqual([1001, 1002]);
    });

    it('limit keeps the newest', async () => {
      expect((await store.readings({ ...range, limit: 3 })).map((r) => r.seq)).toEqual([1007, 1008, 1009]);
      expect((await store.scores({ ...range, limit: 2 })).map((r) => r.ts)).toEqual([t0 + 80_000, t0 + 90_000]);
    });

    it('reads back scores', async () => {
      const rows = await store.scores({ ...range, to: t0 + 90_000 });
      expect(rows).toHaveLength(9);
      expect(rows[8]).toEqual({ ts: t0 + 80_000, score: 1.2, threshold: 1, t2: 8, spe: 0.8, anomalous: true, health: 'ALARM', modelVersion: 'etch@1' });
      expect(rows[0]?.anomalous).toBe(false);
    });

    it('stores a score and an anomaly of a model without T²/SPE outputs, with those left null', async () => {
      const at = 'byom-01';
      const byomLine = `${line}b`;
      const ts = t0 + 5_000;
      await store.write({
        readings: [],
        scores: [{ ...score(3), line: byomLine, station: at, ts, t2: null, spe: null }],
        anomalies: [{ ...anomaly(3, at), line: byomLine, ts, id: `${byomLine}/${at}/${ts}`, t2: null, spe: null }],
      });
      const [row] = await store.scores({ line: byomLine, station: at, from: t0, to: end });
      expect(row).toMatchObject({ ts, t2: null, spe: null });
      expect(row?.score).toBeCloseTo(0.45);
      const [decision] = await store.anomalies({ line: byomLine, station: at });
      expect(decision).toMatchObject({ id: `${byomLine}/${at}/${ts}`, t2: null, spe: null, t2Limit: 30 });
    });

    it('aggregates readings and scores into buckets', async () => {
      const buckets = await store.readings({ ...range, bucketMs: 60_000 });
      expect(buckets.map((b) => b.ts)).toEqual([t0, t0 + 60_000]);
      // Points 0..5 fall in the first minute, 6..9 in the second; seq is the bucket's last point.
      expect(buckets[0]?.values.rf_power).toBeCloseTo(102.5, 9);
      expect(buckets[1]?.values.chamber_pressure).toBeCloseTo(33.75, 9);
      expect(buckets[1]?.values.step).toBeCloseTo(7.5, 9);
      expect(buckets.map((b) => b.seq)).toEqual([1005, 1009]);
      expect((await store.readings({ ...range, bucketMs: 60_000, limit: 1 })).map((b) => b.ts)).toEqual([t0 + 60_000]);
      const scores = await store.scores({ ...range, bucketMs: 60_000 });
      expect(scores.map((s) => [s.ts, s.anomalous])).toEqual([
        [t0, false],
        [t0 + 60_000, true],
      ]);
      expect(scores[0]?.score).toBeCloseTo(0.75, 9);
      expect(scores[1]?.score).toBeCloseTo(1.35, 9);
      expect(scores[1]?.t2).toBe(9);
    });

    it('returns anomalies newest first, filtered, with contributors intact', async () => {
      const all = await store.anomalies({ line });
      expect(all.map((a) => a.ts)).toEqual([9, 7, 6, 5].map((i) => t0 + i * 10_000));
      expect(all[0]).toEqual(anomaly(9, station, 'critical'));
      expect((await store.anomalies({ line, station })).map((a) => a.station)).toEqual([station, station, station]);
      expect((await store.anomalies({ line, station: 'cmp-02' }))[0]).toEqual(anomaly(6, 'cmp-02'));
      expect((await store.anomalies({ line, from: t0 + 60_000, to: t0 + 90_000 })).map((a) => a.seq)).toEqual([1007, 1006]);
      expect((await store.anomalies({ line, limit: 1 })).map((a) => a.seq)).toEqual([1009]);
      expect(await store.anomalies({ line: otherLine })).toEqual([]);
    });

    it('keeps wafer verdicts: by station and time range of their end, newest first, limited, one per id', async () => {
      const waferLine = `${line}w`;
      const verdict = (i: number, at = station, patch: Partial<WaferVerdict> = {}): WaferVerdict => {
        const wafer = `L0001-${String(i).padStart(2, '0')}`;
        const start = t0 + i * 10_000;
        return {
          id: `${waferLine}/${at}/${wafer}/main_etch/${start}`, line: waferLine, station: at, wafer, lot: 'L0001', recipe: 'ETCH-AL-01',
          step: 'main_etch', start, end: start + 8_000, samples: 8, verdict: 'ok', score: 0.2 + i / 100, threshold: 1, t2: 3 + i, spe: 0.5,
          modelVersion: 'wafer-etch@1', baseline: 'b3', contributors: [], ...patch,
        };
      };
      const fault = verdict(4, station, {
        verdict: 'fault', score: 2.5, t2: null, spe: 7.25, lot: undefined, recipe: undefined,
        contributors: [{ sensor: 'rf_power', value: 1620, expected: 1500, contribution: 0.8, stat: 'mean' }],
      });
      delete fault.lot;
      delete fault.recipe;
      const replayed = verdict(2, 'cmp-02', { verdict: 'baselining', replay: true });
      const mine = [0, 1, 2, 3, 5].map((i) => verdict(i)).concat(fault);
      await store.write({ readings: [], scores: [], anomalies: [], wafers: [...mine.slice(0, 3), replayed] });
      // The rest in a later batch, one of the first again: QoS 1 redelivers and a detector may write a verdict twice.
      expect(await store.write({ readings: [], scores: [], anomalies: [], wafers: [...mine.slice(3), mine[1] as WaferVerdict] })).toBeUndefined();

      const got = await store.waferVerdicts({ line: waferLine, station });
      expect(got.map((v) => v.wafer)).toEqual(['L0001-05', 'L0001-04', 'L0001-03', 'L0001-02', 'L0001-01', 'L0001-00']);
      expect(got[0]).toEqual(verdict(5));
      expect(got[1]).toEqual(fault);
      // [from, to) on the end of the step: verdict i ends at t0 + i * 10 s + 8 s.
      const window = await store.waferVerdicts({ line: waferLine, station, from: t0 + 18_000, to: t0 + 38_000 });
      expect(window.map((v) => v.wafer)).toEqual(['L0001-02', 'L0001-01']);
      expect((await store.waferVerdicts({ line: waferLine, station, limit: 2 })).map((v) => v.wafer)).toEqual(['L0001-05', 'L0001-04']);
      expect((await store.waferVerdicts({ line: waferLine, station, from: t0 + 48_000 })).map((v) => v.wafer)).toEqual(['L0001-05', 'L0001-04']);
      expect((await store.waferVerdicts({ line: waferLine, to: t0 + 18_000 })).map((v) => v.wafer)).toEqual(['L0001-00']);
      // The whole line, other stations and replayed verdicts included; nothing of another line.
      const all = await store.waferVerdicts({ line: waferLine });
      expect(all).toHaveLength(7);
      expect(all.find((v) => v.station === 'cmp-02')).toEqual(replayed);
      expect(await store.waferVerdicts({ line: `${waferLine}x` })).toEqual([]);
      expect(await store.waferVerdicts({ line: waferLine, station: 'etch-99' })).toEqual([]);
    });

    it('counts readings by line, station and time', async () => {
      expect(await store.countReadings({ line, station, from: t0, to: end })).toBe(10);
      expect(await store.countReadings({ line, from: t0, to: end })).toBe(13);
      expect(await store.countReadings({ station, from: t0, to: end })).toBe(12);
      expect(await store.countReadings({ line, station, from: t0 + 50_000, to: end })).toBe(5);
    });

    it('lists the stations of a line with readings in a time range', async () => {
      expect(await store.stations({ line, from: t0, to: end })).toEqual(['cmp-02', station].sort());
      // cmp-02 has readings 0-2 only.
      expect(await store.stations({ line, from: t0 + 50_000, to: end })).toEqual([station]);
      expect(await store.stations({ line: otherLine, from: t0, to: end })).toEqual([station]);
      expect(await store.stations({ line: `${line}-none`, from: t0, to: end })).toEqual([]);
    });

    it('keeps alert transitions as events, oldest first, and a repeat overwrites itself', async () => {
      const id = `${line}/${station}/model/${t0}`;
      const event = (i: number, from: string | null, to: string): AlertEventPoint => ({
        alertId: id, line, station, source: 'model', class: 'process', from, to, severity: i > 1 ? 'critical' : 'warning',
        at: t0 + i * 1_000, reason: `step ${i}`, replay: false,
      });
      // pending and firing in the same millisecond (a zero for-duration) are two events, not one.
      const events = [event(0, null, 'pending'), event(0, 'pending', 'firing'), event(2, 'firing', 'acknowledged'), event(5, 'acknowledged', 'resolved')];
      expect(await store.writeAlertEvents(events)).toEqual({ refused: 0 });
      await store.writeAlertEvents([events[3] as AlertEventPoint]);
      const got = await store.alertEvents({ line, from: t0, to: end });
      // Oldest first; two events of one millisecond may come in either order.
      expect(got.map((e) => e.at - t0)).toEqual([0, 0, 2_000, 5_000]);
      expect(got.map((e) => e.to).sort()).toEqual(['acknowledged', 'firing', 'pending', 'resolved']);
      expect(got.find((e) => e.to === 'resolved')).toEqual(events[3]);
      expect(await store.alertEvents({ line, station: 'cmp-02', from: t0, to: end })).toEqual([]);
      expect(await store.alertEvents({ line, from: t0 + 1_000, to: t0 + 5_000 })).toHaveLength(1);
    });

    it('a redelivered reading overwrites itself instead of counting twice', async () => {
      const at = 'dep-03';
      await store.write({ readings: [reading(0, at), reading(1, at)], scores: [], anomalies: [] });
      await store.write({ readings: [reading(1, at), { ...reading(0, at), values: { rf_power: 999, chamber_pressure: 1, step: 0 } }], scores: [], anomalies: [] });
      expect(await store.countReadings({ line, station: at, from: t0, to: end })).toBe(2);
      expect((await store.readings({ line, station: at, from: t0, to: end }))[0]?.values.rf_power).toBe(999);
      await store.write({ readings: [], scores: [], anomalies: [anomaly(5)] });
      expect(await store.anomalies({ line, station })).toHaveLength(3);
    });

    it('does not return readings of another station or line', async () => {
      const cmp = await store.readings({ ...range, station: 'cmp-02' });
      expect(cmp.map((r) => r.seq)).toEqual([1000, 1001, 1002]);
      const other = await store.readings({ ...range, line: otherLine });
      expect(other.map((r) => r.seq)).toEqual([1000, 1001]);
      expect(await store.readings({ ...range, station: 'etch-99' })).toEqual([]);
    });

    it('rejects or safely escapes hostile station names', async () => {
      const hostile = [
        `${station}' OR station =~ /.*/ OR station = '`,
        `${station}"; DROP DATABASE x; --`,
        `${station}' ; DROP MEASUREMENT reading ; SELECT * FROM reading WHERE station = '`,
        '/.*/',
        '.*',
        `${station}\\`,
        '',
      ];
      for (const evil of hostile) {
        const outcome = (p: Promise<unknown>) => p.then((value) => value, () => 'rejected');
        expect([[], 'rejected']).toContainEqual(await outcome(store.readings({ ...range, station: evil })));
        expect([[], 'rejected']).toContainEqual(await outcome(store.scores({ ...range, station: evil, bucketMs: 60_000 })));
        expect([[], 'rejected']).toContainEqual(await outcome(store.anomalies({ line, station: evil })));
        expect([[], 'rejected']).toContainEqual(await outcome(store.waferVerdicts({ line, station: evil })));
        expect([0, 'rejected']).toContainEqual(await outcome(store.countReadings({ line, station: evil, from: t0, to: end })));
        expect([[], 'rejected']).toContainEqual(await outcome(store.readings({ ...range, line: evil })));
        expect([[], 'rejected']).toContainEqual(await outcome(store.equipmentStates({ ...range, station: evil })));
        expect([[], 'rejected']).toContainEqual(await outcome(store.equipmentStates({ ...range, line: evil })));
      }
      // Nothing was dropped or widened by the attempts.
      expect(await store.countReadings({ line, station, from: t0, to: end })).toBe(10);
    });

    equipmentStatesContract(() => store, line, t0);

    it('answers ping and closes', async () => {
      expect(await store.ping()).toBe(true);
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}
