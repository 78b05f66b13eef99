import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingWriter, type RecordingEntry } from '@linewatch/recording';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingFileSource } from './file-source.js';
import { windowEntries } from './window.js';

const T0 = 1_764_400_000_000;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-replay-src-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const meta = (at: number, name = 'Etch'): RecordingEntry => ({
  at, line: 'fab1', station: 'etch-01', kind: 'meta', msg: { line: 'fab1', station: 'etch-01', type: 'etch', name, order: 3, sensors: [{ name: 'a', unit: 'W', min: 0, max: 9 }] },
});
const state = (at: number, s: 'PRODUCTIVE' | 'STANDBY'): RecordingEntry => ({ at, line: 'fab1', station: 'etch-01', kind: 'state', msg: { state: s, since: at } });
const truth = (at: number, id: string, end: number | null): RecordingEntry => ({
  at, line: 'fab1', station: 'etch-01', kind: 'truth', msg: { id, line: 'fab1', station: 'etch-01', fault: 'step', sensors: ['a'], start: T0, end },
});
const reading = (s: number): RecordingEntry => ({ at: T0 + s * 1000, line: 'fab1', station: 'etch-01', kind: 'telemetry', msg: { ts: T0 + s * 1000, seq: s, values: { a: s } } });

/** 0..99 s: meta, state changes at 0 and 30 s, a fault open from 20 s to 70 s and one closed at 15 s. */
function run(): RecordingEntry[] {
  const out: RecordingEntry[] = [meta(T0), state(T0, 'PRODUCTIVE')];
  for (let s = 0; s < 100; s++) {
    if (s === 10) out.push(truth(T0 + 10_000, 'early', null));
    if (s === 15) out.push(truth(T0 + 15_000, 'early', T0 + 15_000));
    if (s === 20) out.push(truth(T0 + 20_000, 'open', null));
    if (s === 30) out.push(state(T0 + 30_000, 'STANDBY'), meta(T0 + 30_000, 'Etch renamed'));
    if (s === 70) out.push(truth(T0 + 70_000, 'open', T0 + 70_000));
    out.push(reading(s));
  }
  return out;
}

async function write(name: string, entries: RecordingEntry[]): Promise<string> {
  const path = join(dir, name);
  const w = await RecordingWriter.create(path, { source: { kind: 'simulator', detail: 'test' } });
  for (const e of entries) w.write(e);
  await w.close();
  return path;
}

async function collect(iterable: AsyncIterable<RecordingEntry>): Promise<RecordingEntry[]> {
  const out: RecordingEntry[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

async function* from(entries: RecordingEntry[]): AsyncGenerator<RecordingEntry> {
  yield* entries;
}

describe('windowEntries', () => {
  it('passes everything through without bounds', async () => {
    expect(await collect(windowEntries(from(run()), {}))).toEqual(run());
  });

  it('starts mid-run with the latest meta and state and the faults still open, at the first entry of the window', async () => {
    const out = await collect(windowEntries(from(run()), { from: T0 + 40_000, to: T0 + 50_000 }));
    const carried = out.slice(0, 3);
    expect(carried.map((e) => [e.kind, e.at])).toEqual([['meta', T0 + 40_000], ['state', T0 + 40_000], ['truth', T0 + 40_000]]);
    expect(carried[0]!.kind === 'meta' && carried[0]!.msg.name).toBe('Etch renamed');
    expect(carried[1]!.kind === 'state' && carried[1]!.msg.state).toBe('STANDBY');
    expect(carried[2]!.kind === 'truth' && carried[2]!.msg.id).toBe('open');
    expect(out.slice(3).map((e) => e.kind === 'telemetry' && e.msg.seq)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
  });

  it('stops reading a minute of data past the window', async () => {
    async function* endless(): AsyncGenerator<RecordingEntry> {
      for (let s = 0; ; s++) {
        if (s > 200) throw new Error('read too far');
        yield reading(s);
      }
    }
    const out = await collect(windowEntries(endless(), { from: T0 + 10_000, to: T0 + 20_000 }));
    expect(out).toHaveLength(10);
  });

  it('skips late entries that fall before the window once it has begun', async () => {
    const out = await collect(windowEntries(from([reading(5), reading(6), reading(2), reading(7)]), { from: T0 + 5_000 }));
    expect(out.map((e) => e.kind === 'telemetry' && e.msg.seq)).toEqual([5, 6, 7]);
  });
});

describe('RecordingFileSource', () => {
  it('one file: one segment with the header counts and range', async () => {
    const path = await write('a.jsonl.gz', run());
    const [segment, ...rest] = await new RecordingFileSource(path).segments();
    expect(rest).toEqual([]);
    expect(segment).toMatchObject({ name: 'a.jsonl.gz', entries: run().length, start: T0, end: T0 + 99_000 });
    expect(await collect(segment!.read())).toEqual(run());
  });

  it('offsets in seconds from the recording start, with an exact count for progress', async () => {
    const path = await write('a.jsonl.gz', run());
    const [segment] = await new RecordingFileSource(path, { fromS: 60, toS: 65 }).segments();
    const entries = await collect(segment!.read());
    expect(segment!.entries).toBe(entries.length);
    expect(entries.filter((e) => e.kind === 'telemetry').map((e) => e.at - T0)).toEqual([60_000, 61_000, 62_000, 63_000, 64_000]);
    expect(segment).toMatchObject({ start: T0 + 60_000, end: T0 + 64_000 });
  });

  it('a folder: every recording in name order, read again on every call', async () => {
    await write('b.jsonl.gz', run().slice(0, 5));
    await write('a.jsonl.gz', run());
    const segments = await new RecordingFileSource(dir).segments();
    expect(segments.map((s) => [s.name, s.entries])).toEqual([['a.jsonl.gz', run().length], ['b.jsonl.gz', 5]]);
    expect(await collect(segments[1]!.read())).toEqual(await collect(segments[1]!.read()));
  });

  it('refuses offsets that select nothing, and a path that is not there', async () => {
    expect(() => new RecordingFileSource(dir, { fromS: 10, toS: 5 })).toThrow(/after the from offset/);
    await expect(new RecordingFileSource(join(dir, 'missing.jsonl.gz')).segments()).rejects.toThrow(/no such recording/);
  });
});
