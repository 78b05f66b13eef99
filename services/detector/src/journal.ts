import { mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { WriteBatch } from '@linewatch/store';

export interface JournalOptions {
  /** This writer's own folder: two detectors must never share one. */
  dir: string;
  /** Disk budget: an append that would pass it is refused (the caller counts what it then drops). */
  maxBytes: number;
  /** A segment is closed, and a new one begun, past this size; a replayed segment is deleted as a whole. */
  segmentBytes?: number;
}

/** One journal line: the point count first, so opening a journal counts points without parsing every batch. */
interface JournalRecord {
  n: number;
  b: WriteBatch;
}

export interface JournalEntry {
  batch: WriteBatch;
  points: number;
}

const SEGMENT = /^(\d{12})\.jsonl$/;
const COUNT_PREFIX = /^\{"n":(\d+),/;

/** Batches in order as one: the store keys every point, so the merge changes nothing but the number of writes. */
function merge(parts: WriteBatch[]): WriteBatch {
  if (parts.length === 1) return parts[0]!;
  const states = parts.flatMap((p) => p.states ?? []);
  return {
    readings: parts.flatMap((p) => p.readings),
    scores: parts.flatMap((p) => p.scores),
    anomalies: parts.flatMap((p) => p.anomalies),
    wafers: parts.flatMap((p) => p.wafers ?? []),
    ...(states.length > 0 ? { states } : {}),
  };
}

function fail(message: string): never {
  throw new Error(message);
}

export function pointsIn(batch: WriteBatch): number {
  return batch.readings.length + batch.scores.length + batch.anomalies.length + (batch.wafers?.length ?? 0) + (batch.states?.length ?? 0);
}

/**
 * An append-only, fsynced, size-capped on-disk queue of write batches, in segment files replayed oldest first.
 *
 * A batch is durable once `append` resolves (written and fdatasync'd), so what the journal holds survives a
 * kill -9 or a power cut. A crash mid-append leaves at most one partial last line, which was never reported
 * durable; reading skips it. A line that does not parse is counted in `corrupt` and skipped, never replayed
 * half. Replay is at-least-once: a crash between a store write and `advance` replays the batch again, which the
 * store's keys (series + timestamp) make harmless.
 *
 * Not safe for concurrent calls: the caller runs one operation at a time.
 */
export class Journal {
  private segments: { id: number; bytes: number }[] = [];
  private active: { id: number; handle: FileHandle } | undefined;
  /** The oldest segment's records, loaded for replay, and how many of them are done. */
  private loaded: { id: number; entries: JournalEntry[]; next: number } | undefined;
  private totalBytes = 0;
  private totalPoints = 0;
  private opened = false;
  /** Lines skipped because they did not parse: a torn write or a damaged disk. */
  corrupt = 0;
  private readonly segmentBytes: number;

  constructor(private readonly options: JournalOptions) {
    this.segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Points waiting for replay. */
  get points(): number {
    return this.totalPoints;
  }

  get empty(): boolean {
    return this.totalPoints === 0 && this.segments.every((s) => s.bytes === 0);
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Finds what an earlier run left (it is replayed first) and counts its points. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    // The folder is made by the first append: a detector whose store never failed leaves nothing on disk.
    const names = (await readdir(this.options.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    })).filter((n) => SEGMENT.test(n)).sort();
    for (const name of names) {
      const file = path.join(this.options.dir, name);
      const bytes = (await stat(file)).size;
      this.segments.push({ id: Number(SEGMENT.exec(name)?.[1]), bytes });
      this.totalBytes += bytes;
      const lines = (await readFile(file, 'utf8')).split('\n');
      // Whatever follows the last newline is a torn append: never reported durable, never replayed, not counted.
      lines.pop();
      for (const line of lines) {
        const m = COUNT_PREFIX.exec(line);
        if (m) this.totalPoints += Number(m[1]);
      }
    }
  }

  /**
   * Appends one batch and makes it durable. Returns false, writing nothing, when it would pass the disk budget.
   */
  async append(batch: WriteBatch): Promise<boolean> {
    const points = pointsIn(batch);
    if (points === 0) return true;
    const line = Buffer.from(`${JSON.stringify({ n: points, b: batch } satisfies JournalRecord)}\n`);
    if (this.totalBytes + line.length > this.options.maxBytes) return false;
    await this.open();
    const active = await this.activeSegment(line.length);
    const seg = this.segments[this.segments.length - 1]!;
    try {
      // FileHandle.write may write less than asked (a full disk); the rest follows, or the append fails.
      for (let off = 0; off < line.length; ) off += (await active.handle.write(line, off, line.length - off)).bytesWritten || fail('no bytes written');
      await active.handle.datasync();
    } catch (err) {
      // Nothing of a failed append may stay: cut the segment back to its last whole line and start the next append
      // in a new file, so a later record never merges with a fragment of this one.
      await active.handle.truncate(seg.bytes).catch(() => undefined);
      await this.closeActive().catch(() => undefined);
      throw err;
    }
    seg.bytes += line.length;
    this.totalBytes += line.length;
    this.totalPoints += points;
    return true;
  }

  /** The oldest batch not yet replayed, or undefined when the journal is empty. */
  async head(): Promise<JournalEntry | undefined> {
    for (;;) {
      if (this.loaded && this.loaded.next < this.loaded.entries.length) return this.loaded.entries[this.loaded.next];
      if (this.loaded) await this.finishLoaded();
      const oldest = this.segments[0];
      if (!oldest) {
        // Every segment is replayed: nothing can be waiting, whatever the counts said (a torn or damaged line).
        this.totalPoints = 0;
        return undefined;
      }
      // The segment being appended is closed first: a loaded segment never grows under the reader.
      if (this.active?.id === oldest.id) await this.closeActive();
      this.loaded = { id: oldest.id, entries: await this.readSegment(oldest.id), next: 0 };
    }
  }

  /**
   * The oldest batches not yet replayed, merged into one of at most `maxPoints` points (at least one batch, however
   * large), and how many batches it holds; undefined when the journal is empty. Replaying many small batches
   * (a live line's ack groups) one store write each would never catch up with the line.
   */
  async take(maxPoints: number): Promise<{ batch: WriteBatch; points: number; entries: number } | undefined> {
    const first = await this.head();
    if (!first) return undefined;
    const loaded = this.loaded!;
    const parts: WriteBatch[] = [first.batch];
    let points = first.points;
    let i = loaded.next + 1;
    for (; i < loaded.entries.length; i++) {
      const next = loaded.entries[i]!;
      if (points + next.points > maxPoints) break;
      parts.push(next.batch);
      points += next.points;
    }
    return { batch: merge(parts), points, entries: i - loaded.next };
  }

  /** Marks the `entries` oldest batches (from `head` or `take`) as stored. */
  async advance(entries = 1): Promise<void> {
    const loaded = this.loaded;
    if (!loaded) return;
    for (let k = 0; k < entries && loaded.next < loaded.entries.length; k++) {
      this.totalPoints -= loaded.entries[loaded.next]!.points;
      loaded.next++;
    }
    if (loaded.next === loaded.entries.length) await this.finishLoaded();
  }

  async close(): Promise<void> {
    await this.closeActive();
  }

  private async finishLoaded(): Promise<void> {
    const loaded = this.loaded;
    if (!loaded) return;
    this.loaded = undefined;
    const i = this.segments.findIndex((s) => s.id === loaded.id);
    if (i < 0) return;
    const [seg] = this.segments.splice(i, 1);
    this.totalBytes -= seg!.bytes;
    // Entries skipped as corrupt hold no points; those never counted in totalPoints need no correction.
    await unlink(this.file(loaded.id)).catch(() => undefined);
  }

  private async readSegment(id: number): Promise<JournalEntry[]> {
    // A read that fails (EMFILE, EIO) throws: the segment stays, and the caller retries later. Only a segment that
    // is gone (deleted by hand) reads as empty.
    const text = await readFile(this.file(id), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const lines = text.split('\n');
    // Whatever follows the last newline is a torn append: never fsynced, so never reported durable.
    lines.pop();
    const entries: JournalEntry[] = [];
    for (const line of lines) {
      if (line === '') continue;
      try {
        const record = JSON.parse(line) as JournalRecord;
        if (typeof record.n !== 'number' || !record.b || !Array.isArray(record.b.readings)) throw new Error('not a journal record');
        entries.push({ batch: record.b, points: record.n });
      } catch {
        this.corrupt++;
        // Its points were counted at open() from the prefix, if it had one; they will never be replayed.
        const m = COUNT_PREFIX.exec(line);
        if (m) this.totalPoints -= Number(m[1]);
      }
    }
    return entries;
  }

  private async activeSegment(nextBytes: number): Promise<{ id: number; handle: FileHandle }> {
    const last = this.segments[this.segments.length - 1];
    if (this.active && last && last.id === this.active.id && last.bytes + nextBytes <= this.segmentBytes) return this.active;
    if (this.active && last && last.bytes + nextBytes > this.segmentBytes) await this.closeActive();
    if (!this.active) {
      await mkdir(this.options.dir, { recursive: true });
      const id = (this.segments[this.segments.length - 1]?.id ?? 0) + 1;
      const handle = await open(this.file(id), 'a');
      this.active = { id, handle };
      this.segments.push({ id, bytes: 0 });
    }
    return this.active;
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    await active?.handle.close();
  }

  private file(id: number): string {
    return path.join(this.options.dir, `${String(id).padStart(12, '0')}.jsonl`);
  }
}
