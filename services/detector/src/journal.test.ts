import type { FileHandle } from 'node:fs/promises';
import { appendFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WriteBatch } from '@linewatch/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Journal, pointsIn } from './journal.js';
import { reading, stateChange, verdict } from './store-writer.test-support.js';

/**
 * A disk that fills up mid-write cannot be made on cue, so the journal's `open` hands out file handles whose next
 * write can be told to fail: 'tear' writes half the buffer and then throws ENOSPC; 'short' writes half and reports
 * it (a short write(2), which FileHandle.write passes on without retrying). Everything else is the real fs.
 */
const fault = vi.hoisted(() => ({ next: 'none' as 'none' | 'tear' | 'short' }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = async (...args: Parameters<typeof real.open>): Promise<FileHandle> => {
    const handle = await real.open(...args);
    const write = handle.write.bind(handle) as (buffer: Uint8Array, offset?: number, length?: number) => Promise<{ bytesWritten: number; buffer: Uint8Array }>;
    Object.assign(handle, {
      write: async (buffer: Uint8Array, offset = 0, length = buffer.length - offset) => {
        const mode = fault.next;
        fault.next = 'none';
        if (mode === 'none') return write(buffer, offset, length);
        const written = await write(buffer, offset, Math.floor(length / 2));
        if (mode === 'short') return { bytesWritten: written.bytesWritten, buffer };
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    });
    return handle;
  };
  return { ...real, open, default: { ...real, open } };
});

/** A batch of readings with these sequence numbers: replay order shows as the order of the seqs. */
const batch = (...seqs: number[]): WriteBatch => ({ readings: seqs.map(reading), scores: [], anomalies: [] });

const SEGMENT = /^\d{12}\.jsonl$/;

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => SEGMENT.test(n)).sort();
}

async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await segmentFiles(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/** Replays the whole journal (head, advance), as the reading seqs of each batch; bounded so a bug cannot loop forever. */
async function drain(journal: Journal): Promise<number[][]> {
  const replayed: number[][] = [];
  for (let i = 0; i < 1000; i++) {
    const entry = await journal.head();
    if (!entry) return replayed;
    expect(entry.points).toBe(pointsIn(entry.batch));
    replayed.push(entry.batch.readings.map((r) => r.seq));
    await journal.advance();
  }
  throw new Error(`journal still not drained after 1000 batches; replayed so far: ${JSON.stringify(replayed)}`);
}

describe('Journal', () => {
  let dir: string;
  const journals: Journal[] = [];

  /** A journal in the test's own folder, opened; closed after the test. */
  async function openJournal(options: { maxBytes?: number; segmentBytes?: number } = {}): Promise<Journal> {
    const journal = new Journal({ dir, maxBytes: options.maxBytes ?? 1_000_000, ...(options.segmentBytes ? { segmentBytes: options.segmentBytes } : {}) });
    journals.push(journal);
    await journal.open();
    return journal;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linewatch-journal-'));
    fault.next = 'none';
  });

  afterEach(async () => {
    for (const journal of journals.splice(0)) await journal.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('replays appended batches in order, counting points and bytes, and deletes the segment once replayed', async () => {
    const journal = await openJournal();
    expect(journal.empty).toBe(true);
    const mixed: WriteBatch = { ...batch(3), wafers: [verdict(1)], states: [stateChange(2), stateChange(3)] };
    expect(await journal.append(batch(1, 2))).toBe(true);
    expect(await journal.append(mixed)).toBe(true);
    // A batch with no points writes nothing and is not an error.
    expect(await journal.append(batch())).toBe(true);

    expect(journal.points).toBe(2 + 4);
    expect(journal.empty).toBe(false);
    expect(await segmentFiles(dir)).toHaveLength(1);
    expect(journal.bytes).toBe(await diskBytes(dir));

    const first = await journal.head();
    expect(first?.batch).toEqual(batch(1, 2));
    expect(first?.points).toBe(2);
    // head() without advance() gives the same batch again.
    expect((await journal.head())?.batch).toEqual(batch(1, 2));
    await journal.advance();
    expect(journal.points).toBe(4);

    const second = await journal.head();
    expect(second).toEqual({ batch: mixed, points: 4 });
    // The segment stays until its last batch is replayed.
    expect(await segmentFiles(dir)).toHaveLength(1);
    await journal.advance();

    expect(await segmentFiles(dir)).toEqual([]);
    expect(await journal.head()).toBeUndefined();
    expect(journal).toMatchObject({ points: 0, bytes: 0, empty: true, corrupt: 0 });
  });

  it('rotates segments at segmentBytes and replays across them oldest first, deleting each as it is done', async () => {
    const journal = await openJournal({ segmentBytes: 250 });
    for (let seq = 0; seq < 9; seq++) expect(await journal.append(batch(seq))).toBe(true);

    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const name of files) expect((await stat(join(dir, name))).size).toBeLessThanOrEqual(250);
    expect(journal.bytes).toBe(await diskBytes(dir));
    expect(journal.points).toBe(9);

    const replayed: number[] = [];
    for (let i = 0; i < 20; i++) {
      const entry = await journal.head();
      if (!entry) break;
      replayed.push(...entry.batch.readings.map((r) => r.seq));
      await journal.advance();
      // What is left on disk is always the newest segments, and the byte count follows it.
      const left = await segmentFiles(dir);
      expect(files.slice(files.length - left.length)).toEqual(left);
      expect(journal.bytes).toBe(await diskBytes(dir));
      expect(journal.points).toBe(9 - replayed.length);
    }
    expect(replayed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await segmentFiles(dir)).toEqual([]);
    expect(journal.empty).toBe(true);
  });

  it('reopens what an earlier instance left, replays it first, and appends after it in a new segment', async () => {
    const before = await openJournal({ segmentBytes: 250 });
    for (let seq = 0; seq < 5; seq++) await before.append(batch(seq, seq + 100));
    await before.close();
    const oldFiles = await segmentFiles(dir);
    const oldBytes = await diskBytes(dir);

    const after = await openJournal({ segmentBytes: 250 });
    // Points are counted at open, before anything is replayed.
    expect(after).toMatchObject({ points: 10, bytes: oldBytes, empty: false });

    expect(await after.append(batch(7))).toBe(true);
    const files = await segmentFiles(dir);
    expect(files.slice(0, oldFiles.length)).toEqual(oldFiles);
    expect(files).toHaveLength(oldFiles.length + 1);
    // The new segment sorts after the old ones: no old file was appended to.
    expect(files.at(-1)! > oldFiles.at(-1)!).toBe(true);
    expect(after.points).toBe(11);

    expect(await drain(after)).toEqual([[0, 100], [1, 101], [2, 102], [3, 103], [4, 104], [7]]);
    expect(after).toMatchObject({ points: 0, bytes: 0, empty: true });
    expect(await segmentFiles(dir)).toEqual([]);
  });

  it('replays a segment that was only partly replayed before a restart again as a whole (at-least-once)', async () => {
    const before = await openJournal();
    for (let seq = 0; seq < 3; seq++) await before.append(batch(seq));
    await before.head();
    await before.advance();
    await before.close();

    const after = await openJournal();
    expect(after.points).toBe(3);
    expect(await drain(after)).toEqual([[0], [1], [2]]);
    expect(after.empty).toBe(true);
  });

  it('skips a torn last line (an append cut short by a crash), replays the whole lines before it, and ends empty', async () => {
    const before = await openJournal();
    await before.append(batch(1));
    await before.append(batch(2, 3));
    await before.close();
    const [newest] = (await segmentFiles(dir)).slice(-1);
    const file = join(dir, newest!);
    // A crash mid-append leaves the first part of a real record, without its newline.
    const record = (await readFile(file, 'utf8')).split('\n')[1]!;
    const torn = record.slice(0, Math.floor(record.length / 2));
    expect(torn.startsWith('{"n":2,')).toBe(true);
    await appendFile(file, torn);

    const after = await openJournal();
    const pointsAtOpen = after.points;
    expect(after.bytes).toBe(await diskBytes(dir));
    expect(await drain(after)).toEqual([[1], [2, 3]]);
    // The torn line was never reported durable: it is not a point waiting for replay, before or after.
    expect({ pointsAtOpen, pointsAfter: after.points, empty: after.empty }).toEqual({ pointsAtOpen: 3, pointsAfter: 0, empty: true });
    expect(await segmentFiles(dir)).toEqual([]);
  });

  it('skips a torn last line that is too short to name its point count', async () => {
    const before = await openJournal();
    await before.append(batch(1));
    await before.close();
    await appendFile(join(dir, (await segmentFiles(dir))[0]!), '{"n');

    const after = await openJournal();
    expect(after.points).toBe(1);
    expect(await drain(after)).toEqual([[1]]);
    expect(after).toMatchObject({ points: 0, bytes: 0, empty: true });
  });

  it('skips and counts corrupt whole lines, and counts the points of the good ones', async () => {
    const before = await openJournal();
    await before.append(batch(1));
    await before.close();
    const file = join(dir, (await segmentFiles(dir))[0]!);
    await appendFile(file, 'garbage \u0000 not json\n');
    // Damage after the count prefix: counted at open, so it must be taken off again when it fails to parse.
    await appendFile(file, '{"n":4,"b":{"readings":[{"li\u0000\u0000\u0000}\n');
    await appendFile(file, `${JSON.stringify({ n: 2, b: batch(5, 6) })}\n`);
    // Parses, but is not a record.
    await appendFile(file, '{"n":1,"x":true}\n');

    const after = await openJournal();
    expect(await drain(after)).toEqual([[1], [5, 6]]);
    expect(after.corrupt).toBe(3);
    expect(after).toMatchObject({ points: 0, bytes: 0, empty: true });
  });

  it('refuses an append that would pass maxBytes, writing nothing, and takes appends again once replay makes room', async () => {
    const probe = new Journal({ dir: join(dir, 'probe'), maxBytes: 1_000_000 });
    await probe.open();
    await probe.append(batch(1));
    const line = probe.bytes;
    await probe.close();
    await rm(join(dir, 'probe'), { recursive: true });

    const maxBytes = 2 * line + Math.floor(line / 2);
    const journal = await openJournal({ maxBytes });
    expect(await journal.append(batch(1))).toBe(true);
    expect(await journal.append(batch(2))).toBe(true);
    expect(await journal.append(batch(3))).toBe(false);
    expect(journal).toMatchObject({ bytes: 2 * line, points: 2 });
    expect(await diskBytes(dir)).toBe(2 * line);
    expect(journal.bytes).toBeLessThanOrEqual(maxBytes);

    expect(await drain(journal)).toEqual([[1], [2]]);
    expect(await journal.append(batch(4))).toBe(true);
    expect(await drain(journal)).toEqual([[4]]);
    expect(journal.empty).toBe(true);
  });

  it('closes the active segment when the reader reaches it, so appends meanwhile go to a new one: none lost, none twice', async () => {
    const journal = await openJournal();
    const replayed: number[] = [];
    let next = 0;
    const appendNext = async (): Promise<void> => {
      expect(await journal.append(batch(next++))).toBe(true);
    };
    await appendNext();
    await appendNext();
    // Interleave: every replay step is followed by an append, so the reader keeps catching up with the writer.
    for (let i = 0; i < 40 && next < 20; i++) {
      const entry = await journal.head();
      expect(entry).toBeDefined();
      replayed.push(...entry!.batch.readings.map((r) => r.seq));
      await appendNext();
      await journal.advance();
      if (i % 3 === 0) await appendNext();
      expect(journal.points).toBe(next - replayed.length);
      expect(journal.bytes).toBe(await diskBytes(dir));
    }
    for (const seqs of await drain(journal)) replayed.push(...seqs);
    expect(replayed).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(journal).toMatchObject({ points: 0, bytes: 0, empty: true });
    expect(await segmentFiles(dir)).toEqual([]);
  });

  it('keeps a batch reported durable after an earlier append failed mid-write (disk full)', async () => {
    const journal = await openJournal();
    expect(await journal.append(batch(1))).toBe(true);
    fault.next = 'tear';
    await expect(journal.append(batch(2))).rejects.toThrow('ENOSPC');
    // The disk has room again: this append resolves true, so the writer acknowledges its messages.
    expect(await journal.append(batch(3))).toBe(true);

    expect(await drain(journal)).toEqual([[1], [3]]);
    expect(journal.corrupt).toBe(0);
    expect(journal).toMatchObject({ points: 0, empty: true });
  });

  it('does not report durable a batch whose write was short, and keeps the batch after it', async () => {
    const journal = await openJournal();
    expect(await journal.append(batch(1))).toBe(true);
    fault.next = 'short';
    // Either fix will do: write the rest of the line, or refuse (false or a rejection) and leave no partial line.
    const second = await journal.append(batch(2, 2)).catch(() => false);
    expect(await journal.append(batch(3))).toBe(true);

    expect(await drain(journal)).toEqual(second ? [[1], [2, 2], [3]] : [[1], [3]]);
    expect(journal.corrupt).toBe(0);
    expect(journal).toMatchObject({ points: 0, empty: true });
  });
});
