import type { RecordingEntry } from '@linewatch/recording';

/**
 * One stretch of line data played in one go: a recording file, or a store range. `read()` may be called again
 * for every loop pass and starts from the beginning each time.
 */
export interface ReplaySegment {
  /** Shown in progress: the file name, or the store and range. */
  readonly name: string;
  /** Entries `read()` yields. */
  readonly entries: number;
  /** Data-clock range of those entries, when known without reading them all (paced ETA uses it). */
  readonly start?: number | undefined;
  readonly end?: number | undefined;
  read(): AsyncIterable<RecordingEntry>;
}

/** What a replay plays: file recording(s) or a store range. The Replayer does not care which. */
export interface ReplaySource {
  /** For logs and the recording header of whoever records the replay, e.g. `recording runs/a.jsonl.gz`. */
  readonly description: string;
  /** The segments in play order; may read headers or count rows, so it is async and may throw a clear Error. */
  segments(): Promise<ReplaySegment[]>;
}
