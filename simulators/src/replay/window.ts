import type { RecordingEntry } from '@linewatch/recording';

/** Part of a recording on its data clock, epoch ms: `from` inclusive, `to` exclusive; either may be open. */
export interface EntryWindow {
  from?: number | undefined;
  to?: number | undefined;
}

/** A window given as seconds from the recording's start (`--from 60 --to 120`), on that recording's clock. */
export function windowFromOffsets(recordingStart: number, fromS: number | undefined, toS: number | undefined): EntryWindow {
  return {
    from: fromS === undefined ? undefined : recordingStart + Math.round(fromS * 1000),
    to: toS === undefined ? undefined : recordingStart + Math.round(toS * 1000),
  };
}

type Carried = Extract<RecordingEntry, { kind: 'meta' | 'state' | 'truth' }>;

/**
 * Reading stops this far past `to` on the data clock. Recordings are in arrival order, which is time order but
 * for a message arriving a little late; a minute covers that, and a short window of a long recording (a loop of
 * the first minute of a day) does not read the whole day on every pass.
 */
export const LATE_SLACK_MS = 60_000;

/**
 * The entries inside a window. A replay that starts mid-run still needs to know what each station is, what
 * state it is in and which faults are open, so the latest meta and state of every station and the truth
 * windows still open at `from` are carried in: they are sent just before the first entry of the window, with
 * its `at`. Entries outside the window are skipped, including late ones whose `at` went back before `from`;
 * reading ends once entries are LATE_SLACK_MS past `to`.
 */
export async function* windowEntries(entries: AsyncIterable<RecordingEntry>, window: EntryWindow): AsyncGenerator<RecordingEntry> {
  const from = window.from ?? Number.NEGATIVE_INFINITY;
  const to = window.to ?? Number.POSITIVE_INFINITY;
  const meta = new Map<string, Carried>();
  const state = new Map<string, Carried>();
  const openTruth = new Map<string, Carried>();
  let inside = false;
  for await (const entry of entries) {
    if (entry.at < from) {
      if (!inside) remember(entry, meta, state, openTruth);
      continue;
    }
    if (entry.at >= to) {
      if (entry.at >= to + LATE_SLACK_MS) return;
      continue;
    }
    if (!inside) {
      inside = true;
      for (const carried of [...meta.values(), ...state.values(), ...openTruth.values()]) yield { ...carried, at: entry.at };
    }
    yield entry;
  }
}

function remember(entry: RecordingEntry, meta: Map<string, Carried>, state: Map<string, Carried>, openTruth: Map<string, Carried>): void {
  const station = `${entry.line}/${entry.station}`;
  switch (entry.kind) {
    case 'meta':
      meta.set(station, entry);
      return;
    case 'state':
      state.set(station, entry);
      return;
    case 'truth':
      if (entry.msg.end === null) openTruth.set(entry.msg.id, entry);
      else openTruth.delete(entry.msg.id);
      return;
    case 'telemetry':
      return;
  }
}
