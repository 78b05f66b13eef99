import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync, type Gzip } from 'node:zlib';
import {
  RECORDING_FORMAT,
  RECORDING_VERSION,
  type RecordedStation,
  type RecordingEntry,
  type RecordingHeader,
  type RecordingSource,
} from './format.js';

export interface RecordingWriterOptions {
  source: RecordingSource;
  scenario?: string | undefined;
  run?: string | undefined;
  /** Defaults to now; an import passes a fixed time so the same CSV gives the same file. */
  createdAt?: number | undefined;
  /** gzip level; 6 (zlib's default) keeps up with well over 50k snapshots/s on one core. */
  level?: number;
}

/** Body text is handed to gzip in chunks of about this many characters, not a write per entry. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Streams a recording to disk: body lines go through gzip into `{path}.body` as they come; `close()` computes
 * the header from what was written and writes the file as two gzip members (header, then the body bytes as they
 * are, not compressed again), then renames it into place. A reader sees the whole file or none of it.
 *
 * @example
 * const w = await RecordingWriter.create('runs/a.jsonl.gz', { source: { kind: 'simulator', detail: 'seed 7' } });
 * w.write(entry); if (w.needsDrain) await w.drain();
 * const header = await w.close();
 */
export class RecordingWriter {
  private chunk = '';
  private readonly stations = new Map<string, RecordedStation & { sensorSet: Set<string> }>();
  private readonly lines = new Set<string>();
  private readonly counts = { telemetry: 0, state: 0, meta: 0, truth: 0, labelled: 0 };
  private start = Number.POSITIVE_INFINITY;
  private end = Number.NEGATIVE_INFINITY;
  private closed = false;
  private failure: unknown;
  private readonly done: Promise<void>;

  private constructor(
    readonly path: string,
    private readonly options: RecordingWriterOptions,
    private readonly gzip: Gzip,
    file: WriteStream,
  ) {
    this.done = pipeline(gzip, file);
    // pipeline() rejects on error; keep the rejection observed until close() or drain() reports it.
    this.done.catch((err: unknown) => {
      this.failure = err;
    });
  }

  static async create(path: string, options: RecordingWriterOptions): Promise<RecordingWriter> {
    await mkdir(dirname(path), { recursive: true });
    const gzip = createGzip({ level: options.level ?? 6 });
    return new RecordingWriter(path, options, gzip, createWriteStream(`${path}.body`));
  }

  /** Entries written so far. */
  get count(): number {
    return this.counts.telemetry + this.counts.state + this.counts.meta + this.counts.truth;
  }

  /** True when gzip holds more than its buffer; await `drain()` before writing on. */
  get needsDrain(): boolean {
    return this.gzip.writableNeedDrain;
  }

  /** Resolves when gzip takes data again; rejects when the file cannot be written (a full disk), never hangs. */
  drain(): Promise<void> {
    if (!this.gzip.writableNeedDrain) return Promise.resolve();
    const drained = new Promise<void>((resolve) => this.gzip.once('drain', resolve));
    const failed = (cause: unknown): never => {
      throw new Error(`recording ${this.path} cannot be written`, { cause });
    };
    return Promise.race([drained, this.done]).then(() => {
      if (this.failure) failed(this.failure);
    }, failed);
  }

  write(entry: RecordingEntry): void {
    if (this.closed) throw new Error(`recording ${this.path} is closed`);
    this.account(entry);
    this.chunk += `${JSON.stringify(entry)}\n`;
    if (this.chunk.length >= CHUNK_CHARS) this.flushChunk();
  }

  private flushChunk(): void {
    if (this.chunk.length === 0) return;
    this.gzip.write(this.chunk);
    this.chunk = '';
  }

  private account(entry: RecordingEntry): void {
    this.counts[entry.kind]++;
    this.lines.add(entry.line);
    if (entry.at < this.start) this.start = entry.at;
    if (entry.at > this.end) this.end = entry.at;
    const key = `${entry.line}/${entry.station}`;
    let station = this.stations.get(key);
    if (!station) {
      station = { line: entry.line, station: entry.station, sensors: [], sensorSet: new Set(), telemetry: 0 };
      this.stations.set(key, station);
    }
    if (entry.kind === 'telemetry') {
      station.telemetry++;
      if (entry.label !== undefined) this.counts.labelled++;
      for (const sensor in entry.msg.values) {
        if (!station.sensorSet.has(sensor)) {
          station.sensorSet.add(sensor);
          station.sensors.push(sensor);
        }
      }
    } else if (entry.kind === 'meta') {
      station.type = entry.msg.type;
    }
  }

  /** Finishes the file and returns its header. */
  async close(): Promise<RecordingHeader> {
    if (this.closed) throw new Error(`recording ${this.path} is already closed`);
    this.closed = true;
    this.flushChunk();
    this.gzip.end();
    await this.done;
    const header = this.header();
    const tmp = `${this.path}.tmp`;
    try {
      await writeFile(tmp, gzipSync(`${JSON.stringify(header)}\n`));
      await pipeline(createReadStream(`${this.path}.body`), createWriteStream(tmp, { flags: 'a' }));
      await rename(tmp, this.path);
    } finally {
      await rm(`${this.path}.body`, { force: true });
      await rm(tmp, { force: true });
    }
    return header;
  }

  /** Stops without leaving a file behind. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.gzip.end();
      await this.done.catch(() => undefined);
    }
    await rm(`${this.path}.body`, { force: true });
  }

  private header(): RecordingHeader {
    const { labelled, truth } = this.counts;
    const labels = truth > 0 && labelled > 0 ? 'both' : truth > 0 ? 'truth' : labelled > 0 ? 'points' : 'none';
    return {
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      createdAt: this.options.createdAt ?? Date.now(),
      source: this.options.source,
      ...(this.options.scenario !== undefined ? { scenario: this.options.scenario } : {}),
      ...(this.options.run !== undefined ? { run: this.options.run } : {}),
      lines: [...this.lines].sort(),
      stations: [...this.stations.values()].map((s) => ({
        line: s.line, station: s.station, ...(s.type !== undefined ? { type: s.type } : {}), sensors: s.sensors, telemetry: s.telemetry,
      })),
      start: this.count > 0 ? this.start : 0,
      end: this.count > 0 ? this.end : 0,
      counts: { ...this.counts },
      labels,
    };
  }
}
