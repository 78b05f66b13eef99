import { basename } from 'node:path';
import { listRecordings, readEntries, readHeader } from '@linewatch/recording';
import type { ReplaySegment, ReplaySource } from './source.js';
import { windowEntries, windowFromOffsets } from './window.js';

export interface FileSourceOptions {
  /** Start this many seconds after each recording's start (its header `start`). */
  fromS?: number | undefined;
  /** Stop this many seconds after each recording's start (exclusive). */
  toS?: number | undefined;
}

/**
 * A recording file, or every recording of a folder played one after another (sorted by name). Entries are
 * streamed from disk and checked against the schema as they are read; a bad line stops the replay with its
 * file and line number rather than playing a recording with a hole in it.
 *
 * @example
 * const source = new RecordingFileSource('runs/', { fromS: 60, toS: 120 });
 */
export class RecordingFileSource implements ReplaySource {
  constructor(
    readonly path: string,
    private readonly options: FileSourceOptions = {},
  ) {
    const { fromS, toS } = options;
    if (fromS !== undefined && !(fromS >= 0)) throw new Error(`from offset must be >= 0 seconds, got ${fromS}`);
    if (toS !== undefined && !(toS > (fromS ?? 0))) throw new Error(`to offset must be after the from offset, got ${toS}`);
  }

  get description(): string {
    return `recording ${this.path}`;
  }

  async segments(): Promise<ReplaySegment[]> {
    const files = await listRecordings(this.path);
    const segments: ReplaySegment[] = [];
    for (const file of files) segments.push(await this.segment(file));
    return segments;
  }

  private async segment(file: string): Promise<ReplaySegment> {
    const header = await readHeader(file);
    const name = basename(file);
    const { fromS, toS } = this.options;
    if (fromS === undefined && toS === undefined) {
      const { telemetry, state, meta, truth } = header.counts;
      return { name, entries: telemetry + state + meta + truth, start: header.start, end: header.end, read: () => readEntries(file) };
    }
    const window = windowFromOffsets(header.start, fromS, toS);
    // The header counts the whole file; an exact total for the window (progress, ETA) takes one quick pass.
    let entries = 0;
    let start = Number.POSITIVE_INFINITY;
    let end = Number.NEGATIVE_INFINITY;
    for await (const e of windowEntries(readEntries(file, { validate: false }), window)) {
      entries++;
      if (e.at < start) start = e.at;
      if (e.at > end) end = e.at;
    }
    return {
      name: `${name} [${fromS ?? 0}s..${toS === undefined ? 'end' : `${toS}s`}]`,
      entries,
      ...(entries > 0 ? { start, end } : {}),
      read: () => windowEntries(readEntries(file), window),
    };
  }
}
