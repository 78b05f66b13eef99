import type { Truth } from '@linewatch/protocol';
import type { RecordingHeader } from '@linewatch/recording';
import type { FaultWindow } from './trace.js';

/** Point labels of one station by seq, with the snapshot's ts so a reused seq cannot pick up a wrong label. */
export type PointLabels = Map<string, Map<number, { ts: number; label: 0 | 1; fault: string | undefined }>>;

/** Joins the truth topic's start and end messages of each injected fault by id. */
export class TruthCollector {
  private readonly faults = new Map<string, Truth>();

  add(truth: Truth): void {
    const known = this.faults.get(truth.id);
    if (!known) {
      this.faults.set(truth.id, truth);
      return;
    }
    this.faults.set(truth.id, {
      ...known,
      start: Math.min(known.start, truth.start),
      end: truth.end ?? known.end,
    });
  }

  all(): Truth[] {
    return [...this.faults.values()];
  }
}

/**
 * The fault windows of one run: every injected fault from the truth topic (a fault still open when the recording
 * ends lasts to its end), then every run of consecutive rows labelled 1 per station. Sorted by station, start.
 */
export function faultWindows(run: string, header: RecordingHeader, truth: TruthCollector, points: PointLabels): FaultWindow[] {
  const windows: FaultWindow[] = truth.all().map((t) => ({
    id: `${run}/${t.id}`,
    run,
    line: t.line,
    station: t.station,
    fault: t.fault,
    start: t.start,
    end: t.end ?? header.end,
    source: 'truth',
  }));
  for (const [stationKey, labels] of points) {
    const [line, station] = stationKey.split('/') as [string, string];
    let open: FaultWindow | undefined;
    for (const { ts, label, fault } of labels.values()) {
      if (label === 1) {
        if (open) open.end = Math.max(open.end, ts);
        else open = { id: `${run}/${station}/${ts}`, run, line, station, fault: fault ?? 'labelled', start: ts, end: ts, source: 'points' };
      } else if (open) {
        windows.push(open);
        open = undefined;
      }
    }
    if (open) windows.push(open);
  }
  return windows.sort((a, b) => a.line.localeCompare(b.line) || a.station.localeCompare(b.station) || a.start - b.start || a.id.localeCompare(b.id));
}
