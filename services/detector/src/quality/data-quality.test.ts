import { DataQualityEventSchema, DataQualityIssueSchema, type StationMeta } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { DataQualityMonitor, type QualityChange, type QualitySnapshot } from './data-quality.js';

const META: StationMeta = {
  line: 'l1', station: 'e1', type: 'etch', name: 'e1', order: 0,
  sensors: [{ name: 'p', unit: 'W', min: 0, max: 100 }, { name: 'setpoint', unit: 'W', min: 0, max: 100 }],
};
const RULES = { stuckAfter: 5, clearAfter: 3, maxClockSkewMs: 5000 };

/** Feeds snapshots one a second, arriving when they are stamped, with seq counting up unless told otherwise. */
function feeder(monitor: DataQualityMonitor) {
  let seq = 0;
  const changes: (QualityChange & { seq: number })[] = [];
  const feed = (values: Record<string, number>, over: Partial<QualitySnapshot> = {}) => {
    const ts = 1_000_000 + seq * 1000;
    const snap: QualitySnapshot = { ts, seq, values, receivedAt: ts, missedSeq: 0, ...over };
    for (const c of monitor.check(snap)) changes.push({ ...c, seq: snap.seq });
    seq = snap.seq + 1;
  };
  return { feed, changes, kinds: () => monitor.issues.map((i) => `${i.kind}${i.sensor ? `:${i.sensor}` : ''}`) };
}

/** A sensor that never repeats itself: the usual noisy analogue reading. */
const noisy = (i: number) => 50 + ((i * 7) % 11);

describe('DataQualityMonitor', () => {
  it('raises stuck on a varying sensor frozen for stuckAfter readings, never on one that is constant by nature, and clears it after clearAfter clean snapshots', () => {
    const m = new DataQualityMonitor(RULES);
    m.setMeta(META);
    const { feed, changes, kinds } = feeder(m);
    // No verdict before 200 readings of history, however long the run.
    for (let i = 0; i < 190; i++) feed({ p: i < 150 ? noisy(i) : 42, setpoint: 40 });
    expect(changes).toEqual([]);
    for (let i = 0; i < 10; i++) feed({ p: noisy(i), setpoint: 40 });
    // Its longest run so far was 40 (the hold above): not stuck before 80.
    for (let i = 0; i < 79; i++) feed({ p: 42, setpoint: 40 });
    expect(kinds()).toEqual([]);
    feed({ p: 42, setpoint: 40 });
    expect(changes).toEqual([{ state: 'raised', seq: 279, issue: { kind: 'stuck', sensor: 'p', since: 1_279_000, detail: '80 identical readings of 42 in a row' } }]);
    expect(DataQualityIssueSchema.parse(changes[0]?.issue)).toBeTruthy();
    // Still stuck: raised once only.
    for (let i = 0; i < 10; i++) feed({ p: 42, setpoint: 40 });
    expect(changes).toHaveLength(1);
    feed({ p: 43, setpoint: 40 });
    feed({ p: 44, setpoint: 40 });
    expect(kinds()).toEqual(['stuck:p']);
    feed({ p: 45, setpoint: 40 });
    expect(changes.map((c) => [c.state, c.seq])).toEqual([['raised', 279], ['cleared', 292]]);
    expect(kinds()).toEqual([]);
  });

  it('learns how often a sensor repeats: a quantised one needs a longer run, and a model that saw it constant vetoes', () => {
    const m = new DataQualityMonitor(RULES);
    const { feed, changes } = feeder(m);
    // Repeats every value once (runs of 2): a run of 5 is a 1-in-16 event, no sign of a fault.
    for (let i = 0; i < 200; i++) feed({ q: Math.floor(i / 2) % 2, p: noisy(i) });
    for (let i = 0; i < 8; i++) feed({ q: 7, p: noisy(i) });
    expect(changes).toEqual([]);
    // 1 + log(1e-6) / log(0.5) = 20.9: stuck at its 21st identical reading.
    for (let i = 8; i < 20; i++) feed({ q: 7, p: noisy(i) });
    expect(changes).toEqual([]);
    feed({ q: 7, p: noisy(20) });
    expect(changes.map((c) => `${c.issue.kind}:${c.issue.sensor}`)).toEqual(['stuck:q']);
    // p freezes, but the model scoring these snapshots was trained on a context where p does not move.
    const model = { features: ['p', 'q'], mean: [42, 0], std: [1e-6 * 42, 1] };
    for (let i = 0; i < 10; i++) feed({ q: i % 2, p: 42 }, { model });
    expect(changes.map((c) => `${c.state}:${c.issue.kind}:${c.issue.sensor}`)).toEqual(['raised:stuck:q', 'cleared:stuck:q']);
  });

  it('calls a repeating model feature suspect before it can call it stuck', () => {
    const m = new DataQualityMonitor(RULES);
    const { feed } = feeder(m);
    const model = { features: ['p'], mean: [50], std: [3] };
    for (let i = 0; i < 200; i++) feed({ p: noisy(i) }, { model });
    expect(m.suspect).toBe(false);
    feed({ p: 99 }, { model });
    expect(m.suspect).toBe(false);
    feed({ p: 99 }, { model });
    expect(m.suspect).toBe(true);
    feed({ p: 98 }, { model });
    expect(m.suspect).toBe(false);
  });

  it('raises out_of_range against the meta range, missing_sensor for a declared, required or habitual sensor, and seq_gap', () => {
    const m = new DataQualityMonitor(RULES);
    const { feed, changes, kinds } = feeder(m);
    for (let i = 0; i < 12; i++) feed({ p: 120, extra: i });
    // No meta yet: no range to check, and p is always there.
    expect(changes).toEqual([]);
    m.setMeta(META);
    feed({ p: 120, setpoint: 40, extra: 20 });
    expect(kinds()).toEqual(['out_of_range:p']);
    expect(changes[0]?.issue.detail).toBe('120 W outside 0..100 W');
    // 'extra' was in 12 snapshots in a row: the station normally sends it. 'q' is only required by the model.
    feed({ p: 50 }, { model: { features: ['p', 'q'], mean: [0, 0], std: [1, 1] } });
    expect(kinds()).toEqual(['out_of_range:p', 'missing_sensor:setpoint', 'missing_sensor:q', 'missing_sensor:extra']);
    feed({ p: 50, setpoint: 40, extra: 21 }, { seq: 20, missedSeq: 5 });
    expect(kinds()).toContain('seq_gap');
    expect(changes.at(-1)?.issue).toMatchObject({ kind: 'seq_gap', detail: '5 snapshot(s) missing before seq 20' });
    expect(changes.at(-1)?.issue.sensor).toBeUndefined();
    for (let i = 0; i < 3; i++) feed({ p: 50, setpoint: 40, extra: 22 + i });
    expect(kinds()).toEqual([]);
    // Each was raised once and cleared once.
    const raised = changes.filter((c) => c.state === 'raised').map((c) => c.issue);
    const cleared = changes.filter((c) => c.state === 'cleared').map((c) => c.issue);
    expect(cleared).toHaveLength(raised.length);
    expect(new Set(cleared)).toEqual(new Set(raised));
  });

  it('stops expecting a habitual sensor the station has not sent for 1000 snapshots, unless the meta declares it', () => {
    const m = new DataQualityMonitor(RULES);
    m.setMeta(META);
    const { feed, changes } = feeder(m);
    for (let i = 0; i < 10; i++) feed({ p: noisy(i), extra: i });
    for (let i = 0; i < 1004; i++) feed({ p: noisy(i) });
    // Last seen at seq 9; no longer expected from seq 1010, cleared after three clean snapshots.
    expect(changes.map((c) => `${c.state}:${c.issue.sensor}@${c.seq}`)).toEqual(['raised:setpoint@0', 'raised:extra@10', 'cleared:extra@1012']);
    expect(m.issues.map((i) => i.sensor)).toEqual(['setpoint']);
  });

  it('does not flap on an intermittent fault: a new occurrence before clearAfter keeps the issue open', () => {
    const m = new DataQualityMonitor(RULES);
    m.setMeta(META);
    const { feed, changes } = feeder(m);
    for (let i = 0; i < 20; i++) feed(i % 2 === 0 ? { p: 50, setpoint: 1 } : { setpoint: 1 });
    expect(changes.map((c) => c.state)).toEqual(['raised']);
  });

  it('raises clock_skew for a clock ahead, one steadily behind, and ts going back; not for a backlog or a replay', () => {
    const m = new DataQualityMonitor(RULES);
    const { feed, changes } = feeder(m);
    const skews = () => changes.filter((c) => c.issue.kind === 'clock_skew').map((c) => `${c.state}@${c.seq}`);
    // A backlog drained after a restart: readings a minute old, arriving 100 per second.
    for (let i = 0; i < 30; i++) feed({ p: noisy(i) }, { receivedAt: 1_000_000 + 60_000 + i * 10 });
    expect(skews()).toEqual([]);
    // A replay: timestamps from another day.
    for (let i = 0; i < 12; i++) feed({ p: noisy(i) }, { receivedAt: 5_000_000_000, replay: true });
    expect(skews()).toEqual([]);
    // The tool's clock runs 8 s ahead: a reading stamped after it arrived is skewed at once.
    feed({ p: 1 }, { receivedAt: 1_000_000 + 42 * 1000 - 8000 });
    expect(skews()).toEqual(['raised@42']);
    for (let i = 0; i < 3; i++) feed({ p: noisy(i) });
    expect(skews()).toEqual(['raised@42', 'cleared@45']);
    // The clock runs 8 s behind, and readings keep arriving at their own pace: after 10 of them.
    for (let i = 0; i < 10; i++) feed({ p: noisy(i) }, { receivedAt: 1_000_000 + (46 + i) * 1000 + 8000 });
    expect(skews()).toEqual(['raised@42', 'cleared@45', 'raised@55']);
    for (let i = 0; i < 3; i++) feed({ p: noisy(i) });
    // Seq advances but ts goes back (here in a replay, which still must keep its order).
    const back = 1_000_000 + 59 * 1000 - 30_000;
    feed({ p: 1 }, { ts: back, replay: true });
    expect(skews()).toEqual(['raised@42', 'cleared@45', 'raised@55', 'cleared@58', 'raised@59']);
    expect(changes.at(-1)?.issue.detail).toBe('ts went back 29000 ms while seq advanced');
    // Every change makes a valid event once the tracker adds where and when.
    for (const c of changes) expect(DataQualityEventSchema.safeParse({ ...c.issue, line: 'l1', station: 'e1', ts: c.issue.since, state: c.state }).success).toBe(true);
  });

  it('does not call a clock behind on less than maxClockSkewMs of readings, however steadily they arrive', () => {
    const m = new DataQualityMonitor(RULES);
    // A test publisher's readings: 1 ms apart, stamped in 1970, arriving 2 ms apart.
    for (let seq = 0; seq < 50; seq++) m.check({ ts: 1000 + seq, seq, values: { x: seq }, receivedAt: 1_764_400_000_000 + 2 * seq, missedSeq: 0 });
    expect(m.issues).toEqual([]);
  });

  it('keeps at most 48 sensor issues, so a station with hundreds of broken sensors fits its status', () => {
    const m = new DataQualityMonitor(RULES);
    const sensors = Array.from({ length: 100 }, (_, i) => ({ name: `s${i}`, unit: '', min: 0, max: 1 }));
    m.setMeta({ ...META, sensors });
    const { feed } = feeder(m);
    feed(Object.fromEntries(sensors.map((s) => [s.name, 5])), { missedSeq: 3, seq: 4 });
    expect(m.issues).toHaveLength(49);
    expect(m.issues.filter((i) => i.sensor === undefined).map((i) => i.kind)).toEqual(['seq_gap']);
  });
});
