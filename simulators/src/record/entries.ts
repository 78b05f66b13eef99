import type { StateMessage, StationMeta, Telemetry, Truth } from '@linewatch/protocol';
import type { RecordingEntry } from '@linewatch/recording';

/** A validated message of one of the four recorded kinds, with the line and station of its topic. */
export type StationMessage =
  | { kind: 'telemetry'; line: string; station: string; msg: Telemetry }
  | { kind: 'state'; line: string; station: string; msg: StateMessage }
  | { kind: 'meta'; line: string; station: string; msg: StationMeta }
  | { kind: 'truth'; line: string; station: string; msg: Truth };

/** The kinds a recording holds, in the order a recorder subscribes to them. */
export const RECORDED_KINDS = ['telemetry', 'state', 'meta', 'truth'] as const;

/** The message's own time, used for `at` when its line has sent no telemetry yet; meta has none. */
export function ownTime(message: StationMessage): number | undefined {
  switch (message.kind) {
    case 'telemetry':
      return message.msg.ts;
    case 'state':
      return message.msg.since;
    case 'truth':
      return message.msg.end ?? message.msg.start;
    case 'meta':
      return undefined;
  }
}

/**
 * The recording's data clock: a snapshot sits at its own `ts`; anything else sits at the latest snapshot time
 * seen on its line, i.e. where it arrived in the flow of data. Per line, because two lines need not share a clock.
 */
export class DataClock {
  private readonly latest = new Map<string, number>();

  /** Notes a snapshot and returns its `at`. */
  telemetry(line: string, ts: number): number {
    const seen = this.latest.get(line);
    if (seen === undefined || ts > seen) this.latest.set(line, ts);
    return ts;
  }

  /** The latest snapshot time on the line, or undefined before its first snapshot. */
  latestOn(line: string): number | undefined {
    return this.latest.get(line);
  }

  /** The latest snapshot time on any line, or undefined before any. */
  latestAnywhere(): number | undefined {
    let best: number | undefined;
    for (const ts of this.latest.values()) if (best === undefined || ts > best) best = ts;
    return best;
  }
}

/** A recording entry for a validated message at a place on the data clock. */
export function toEntry(message: StationMessage, at: number): RecordingEntry {
  // One branch per kind keeps the discriminated union intact for the type checker.
  switch (message.kind) {
    case 'telemetry':
      return { at, line: message.line, station: message.station, kind: 'telemetry', msg: message.msg };
    case 'state':
      return { at, line: message.line, station: message.station, kind: 'state', msg: message.msg };
    case 'meta':
      return { at, line: message.line, station: message.station, kind: 'meta', msg: message.msg };
    case 'truth':
      return { at, line: message.line, station: message.station, kind: 'truth', msg: message.msg };
  }
}
