import type { RecordingEntry } from '@linewatch/recording';
import { SamplePeriod } from './sample-period.js';

/** `original` keeps the recorded times; `shifted` moves the whole run so that its first entry happens now. */
export type TimestampMode = 'original' | 'shifted';

/** Times faster than the data clock, or `max`: as fast as the broker acknowledges. */
export type ReplaySpeed = number | 'max';

export interface TimelineOptions {
  timestamps: TimestampMode;
  speed: ReplaySpeed;
  /** Wall-clock epoch ms the replay starts at: the first entry is due then, and `shifted` maps it to this time. */
  startWall: number;
  /** Replay into this line id instead of the recorded one(s). */
  line?: string | undefined;
}

/** One entry as it goes out: times shifted, seq continued, marked replayed, and when it is due on the wall clock. */
export interface PlacedEntry {
  entry: RecordingEntry;
  /** Wall-clock epoch ms to publish at; undefined at speed `max` (publish at once). */
  dueWall: number | undefined;
}

/** A segment is one recording (or one store range) in one pass. */
interface Segment {
  pass: number;
  /** Data shift applied to every time of the segment, ms. */
  shiftMs: number;
  /** Recorded `at` of its first entry; pacing is relative to it. */
  firstAt: number;
  /** Largest recorded `at` so far (entries may go backwards; the span is measured to the furthest). */
  maxAt: number;
  /** Wall time its first entry is due. */
  anchorWall: number;
  /** Whether its times and seqs continue the previous segment's (loop passes; every file after the first when shifted). */
  continues: boolean;
  period: SamplePeriod;
  /** Seq offset per output station, fixed at the station's first telemetry in the segment. */
  seqOffset: Map<string, number>;
}

/**
 * The replay's clock, pure (no I/O, no wall clock of its own). It decides, entry by entry, which times and
 * seq a replayed message carries and when it is due, so that:
 * - pacing never drifts: an entry is due at `anchor + (at - firstAt) / speed`, computed from the segment's start,
 *   never by adding up sleeps; an entry whose `at` goes backwards is due in the past, i.e. at once;
 * - `shifted` moves every time (telemetry ts, state since, truth start/end) by one offset, so the run starts now;
 * - a later segment (a loop pass, or the next file of a folder when shifted) starts one sample period after the
 *   previous one ended, on the data clock and on the wall clock, and each station's seq carries on from its
 *   last one, so the detector sees neither duplicates nor a reset;
 * - every message is marked `replay: true`.
 *
 * In `original` mode the files of a folder keep their own times; each one starts one sample period (at the
 * replay's speed) after the previous one ended on the wall clock, so a gap of days between two recordings is
 * not waited out, and an earlier file is not flooded out at once.
 */
export class Timeline {
  private segment: Segment | undefined;
  private previous: Segment | undefined;
  private pendingPass = 0;
  private started = false;
  /** Largest data time sent so far (after shifting); a continuing segment starts one period after it. */
  private lastOutAt = Number.NEGATIVE_INFINITY;
  /** Last seq sent per output station (`line/station`). */
  private readonly lastSeq = new Map<string, number>();

  constructor(private readonly options: TimelineOptions) {
    if (options.speed !== 'max' && !(options.speed > 0)) throw new Error(`replay speed must be positive or 'max', got ${options.speed}`);
  }

  /** Call before the first entry of every recording of every pass. */
  beginSegment(pass: number): void {
    if (this.segment) this.previous = this.segment;
    this.segment = undefined;
    this.pendingPass = pass;
  }

  /** Data time (shifted) of the latest entry placed, for progress. */
  get dataAt(): number | undefined {
    return Number.isFinite(this.lastOutAt) ? this.lastOutAt : undefined;
  }

  place(entry: RecordingEntry): PlacedEntry {
    const segment = this.segment ?? this.openSegment(entry.at);
    if (entry.at > segment.maxAt) segment.maxAt = entry.at;
    const out = this.transform(entry, segment);
    if (out.at > this.lastOutAt) this.lastOutAt = out.at;
    const { speed } = this.options;
    return { entry: out, dueWall: speed === 'max' ? undefined : segment.anchorWall + (entry.at - segment.firstAt) / speed };
  }

  private openSegment(firstAt: number): Segment {
    const prev = this.previous;
    const pass = this.pendingPass;
    const { timestamps, startWall, speed } = this.options;
    const continues = this.started && (timestamps === 'shifted' || pass > 0);
    let shiftMs = 0;
    let anchorWall = startWall;
    if (prev) {
      const gap = prev.period.estimate();
      shiftMs = continues ? Math.round(this.lastOutAt + gap - firstAt) : 0;
      anchorWall = speed === 'max' ? startWall : prev.anchorWall + (prev.maxAt - prev.firstAt + gap) / speed;
    } else if (timestamps === 'shifted') {
      shiftMs = startWall - firstAt;
    }
    this.started = true;
    this.segment = { pass, shiftMs, firstAt, maxAt: firstAt, anchorWall, continues, period: new SamplePeriod(), seqOffset: new Map() };
    return this.segment;
  }

  private transform(entry: RecordingEntry, segment: Segment): RecordingEntry {
    const line = this.options.line ?? entry.line;
    const shift = segment.shiftMs;
    const at = entry.at + shift;
    switch (entry.kind) {
      case 'telemetry': {
        segment.period.observe(`${entry.line}/${entry.station}`, entry.msg.ts);
        const seq = this.continueSeq(`${line}/${entry.station}`, entry.msg.seq, segment);
        return { ...entry, at, line, msg: { ...entry.msg, ts: entry.msg.ts + shift, seq, replay: true } };
      }
      case 'state':
        return { ...entry, at, line, msg: { ...entry.msg, since: Math.max(0, entry.msg.since + shift), replay: true } };
      case 'meta':
        return { ...entry, at, line, msg: { ...entry.msg, line, replay: true } };
      case 'truth': {
        const { start, end, id } = entry.msg;
        return {
          ...entry, at, line,
          msg: { ...entry.msg, line, id: passId(id, segment.pass), start: Math.max(0, start + shift), end: end === null ? null : Math.max(0, end + shift), replay: true },
        };
      }
    }
  }

  /**
   * Seq per station is kept as recorded within a segment (gaps and all). A continuing segment adds one offset
   * per station, fixed at its first snapshot there, so the station's seq goes on from the last one sent.
   */
  private continueSeq(key: string, seq: number, segment: Segment): number {
    let offset = segment.seqOffset.get(key);
    if (offset === undefined) {
      const last = this.lastSeq.get(key);
      offset = segment.continues && last !== undefined ? Math.max(0, last + 1 - seq) : 0;
      segment.seqOffset.set(key, offset);
    }
    const out = seq + offset;
    this.lastSeq.set(key, Math.max(out, this.lastSeq.get(key) ?? out));
    return out;
  }
}

const MAX_ID = 200;

/** Truth ids stay unique across loop passes: the backtest and alerts key fault windows on them. */
function passId(id: string, pass: number): string {
  if (pass === 0) return id;
  const suffix = `@pass${pass}`;
  return `${id.slice(0, MAX_ID - suffix.length)}${suffix}`;
}
