import type { RecordingEntry } from '@linewatch/recording';
import { describe, expect, it } from 'vitest';
import { Timeline, type TimelineOptions } from './timeline.js';

const T0 = 1_764_400_000_000;
const WALL = 1_800_000_000_000;

function reading(at: number, seq: number, station = 'etch-01'): RecordingEntry {
  return { at, line: 'fab1', station, kind: 'telemetry', msg: { ts: at, seq, values: { rf_power: seq } } };
}

/** A small run: meta and state at the start, 10 snapshots 100 ms apart, a fault window in the middle. */
function run(): RecordingEntry[] {
  return [
    { at: T0, line: 'fab1', station: 'etch-01', kind: 'meta', msg: { line: 'fab1', station: 'etch-01', type: 'etch', name: 'Etch', order: 3, sensors: [{ name: 'rf_power', unit: 'W', min: 0, max: 9 }] } },
    { at: T0, line: 'fab1', station: 'etch-01', kind: 'state', msg: { state: 'PRODUCTIVE', since: T0 - 5_000 } },
    ...Array.from({ length: 4 }, (_, i) => reading(T0 + i * 100, 10 + i)),
    { at: T0 + 300, line: 'fab1', station: 'etch-01', kind: 'truth', msg: { id: 'etch-01:step:1', line: 'fab1', station: 'etch-01', fault: 'step', sensors: ['rf_power'], start: T0 + 400, end: null } },
    ...Array.from({ length: 6 }, (_, i) => reading(T0 + (i + 4) * 100, 14 + i)),
    { at: T0 + 900, line: 'fab1', station: 'etch-01', kind: 'truth', msg: { id: 'etch-01:step:1', line: 'fab1', station: 'etch-01', fault: 'step', sensors: ['rf_power'], start: T0 + 400, end: T0 + 800 } },
  ];
}

function play(options: Partial<TimelineOptions>, segments: { pass: number; entries: RecordingEntry[] }[]) {
  const timeline = new Timeline({ timestamps: 'original', speed: 1, startWall: WALL, ...options });
  return segments.flatMap(({ pass, entries }) => {
    timeline.beginSegment(pass);
    return entries.map((e) => timeline.place(e));
  });
}

const telemetry = (placed: ReturnType<typeof play>) => placed.flatMap((p) => (p.entry.kind === 'telemetry' ? [p.entry.msg] : []));

describe('Timeline', () => {
  it('paces against the start instant: due = start + (at - firstAt) / speed', () => {
    const placed = play({ speed: 10 }, [{ pass: 0, entries: run() }]);
    expect(placed.map((p) => p.dueWall! - WALL)).toEqual([0, 0, 0, 10, 20, 30, 30, 40, 50, 60, 70, 80, 90, 90]);
  });

  it('sends an entry whose at goes backwards at once (due in the past), without moving the schedule', () => {
    const entries = [reading(T0, 1), reading(T0 + 1_000, 2), reading(T0 + 500, 3), reading(T0 + 2_000, 4)];
    const placed = play({ speed: 2 }, [{ pass: 0, entries }]);
    expect(placed.map((p) => p.dueWall! - WALL)).toEqual([0, 500, 250, 1_000]);
  });

  it('has no due time at speed max', () => {
    expect(play({ speed: 'max' }, [{ pass: 0, entries: run() }]).every((p) => p.dueWall === undefined)).toBe(true);
  });

  it('keeps original times, and marks every message replayed', () => {
    const input = run();
    const placed = play({}, [{ pass: 0, entries: input }]);
    expect(telemetry(placed).map((t) => [t.ts, t.seq])).toEqual(input.flatMap((e) => (e.kind === 'telemetry' ? [[e.msg.ts, e.msg.seq]] : [])));
    expect(placed.every((p) => p.entry.msg.replay === true)).toBe(true);
    expect(input.every((e) => e.msg.replay === undefined)).toBe(true);
  });

  it('shifts telemetry ts, state since and truth start/end by one offset so the run starts now', () => {
    const placed = play({ timestamps: 'shifted' }, [{ pass: 0, entries: run() }]);
    const shift = WALL - T0;
    expect(telemetry(placed)[0]!.ts).toBe(WALL);
    expect(placed.map((p) => p.entry.at)).toEqual(run().map((e) => e.at + shift));
    const state = placed.find((p) => p.entry.kind === 'state')!.entry;
    expect(state.kind === 'state' && state.msg.since).toBe(T0 - 5_000 + shift);
    const truths = placed.flatMap((p) => (p.entry.kind === 'truth' ? [p.entry.msg] : []));
    expect(truths.map((t) => [t.start, t.end])).toEqual([[T0 + 400 + shift, null], [T0 + 400 + shift, T0 + 800 + shift]]);
  });

  it('loops: each pass starts one sample period after the last, ts and seq carry on, truth ids stay unique', () => {
    const placed = play({ speed: 10 }, [0, 1, 2].map((pass) => ({ pass, entries: run() })));
    const t = telemetry(placed);
    expect(t).toHaveLength(30);
    // Pass length is 900 ms of data plus one 100 ms period: every pass is 1 000 ms later.
    expect(t.map((m) => m.ts - T0)).toEqual([0, 1, 2].flatMap((p) => Array.from({ length: 10 }, (_, i) => p * 1_000 + i * 100)));
    expect(t.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i));
    const ids = placed.flatMap((p) => (p.entry.kind === 'truth' && p.entry.msg.end === null ? [p.entry.msg.id] : []));
    expect(ids).toEqual(['etch-01:step:1', 'etch-01:step:1@pass1', 'etch-01:step:1@pass2']);
    // The wall clock follows the data clock across passes: pass 2 starts 2 000 ms of data / 10 later.
    const firstOfPass2 = placed.find((p) => p.entry.kind === 'telemetry' && p.entry.msg.seq === 30)!;
    expect(firstOfPass2.dueWall! - WALL).toBe(200);
  });

  it('keeps seq gaps within a pass and never goes back across passes', () => {
    const entries = [reading(T0, 5), reading(T0 + 100, 9), reading(T0 + 200, 7, 'cmp-01'), reading(T0 + 300, 8, 'cmp-01')];
    const t = telemetry(play({}, [{ pass: 0, entries }, { pass: 1, entries }]));
    expect(t.map((m) => m.seq)).toEqual([5, 9, 7, 8, 10, 14, 9, 10]);
  });

  it('plays the files of a folder after one another: original times kept, the wall clock continues', () => {
    const later = run().map((e) => ({ ...e, at: e.at + 86_400_000, ...(e.kind === 'telemetry' ? { msg: { ...e.msg, ts: e.msg.ts + 86_400_000 } } : {}) }) as RecordingEntry);
    const placed = play({ speed: 2 }, [{ pass: 0, entries: run() }, { pass: 0, entries: later }]);
    const t = telemetry(placed);
    expect(t[10]!.ts).toBe(T0 + 86_400_000);
    expect(t[10]!.seq).toBe(10);
    // The day between the files is not waited out: file 2 is due one period after file 1 ends.
    expect(placed[14]!.dueWall! - WALL).toBe((900 + 100) / 2);
  });

  it('shifted: the next file continues the data clock and each station seq', () => {
    const placed = play({ timestamps: 'shifted' }, [{ pass: 0, entries: run() }, { pass: 0, entries: run() }]);
    const t = telemetry(placed);
    expect(t[10]!.ts).toBe(WALL + 1_000);
    expect(t[10]!.seq).toBe(20);
  });

  it('replays into another line: entries, meta and truth name it', () => {
    const placed = play({ line: 'fab1-replay' }, [{ pass: 0, entries: run() }]);
    expect(new Set(placed.map((p) => p.entry.line))).toEqual(new Set(['fab1-replay']));
    for (const { entry } of placed) if (entry.kind === 'meta' || entry.kind === 'truth') expect(entry.msg.line).toBe('fab1-replay');
  });

  it('refuses a speed that is not positive', () => {
    expect(() => new Timeline({ timestamps: 'original', speed: 0, startWall: WALL })).toThrow(/speed/);
  });
});
