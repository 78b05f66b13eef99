import { RecordingWriter, type RecordingEntry } from '@linewatch/recording';
import { LineSimulator, recordSimulation, type LineDef, type Scenario } from '@linewatch/simulators';

/** A line of one etch chamber: wafer-level tests need hours of one tool, not of eight. */
export const ETCH_LINE: LineDef = { line: 'fab1', stations: [{ id: 'etch-01', type: 'etch', name: 'Metal etch', order: 0 }] };

export interface SimulatedRun {
  seed: number;
  durationMs: number;
  startTs: number;
  scenario?: Scenario;
  line?: LineDef;
}

/** The entries a 1 Hz simulated run records, in memory, so a test can edit them before writing the file. */
export async function simulateEntries(run: SimulatedRun): Promise<RecordingEntry[]> {
  const entries: RecordingEntry[] = [];
  const simulator = new LineSimulator({ line: run.line ?? ETCH_LINE, scenario: run.scenario ?? { faults: [] }, seed: run.seed, rateHz: 1, startTs: run.startTs });
  const sink = { needsDrain: false, write: (e: RecordingEntry) => void entries.push(e), drain: async () => undefined };
  await recordSimulation({ simulator, durationMs: run.durationMs, sink });
  return entries;
}

/** Writes entries as a recording (header computed by the writer, as `npm run record` does). */
export async function writeRecording(file: string, entries: Iterable<RecordingEntry>, detail: string, scenario?: string): Promise<void> {
  const first = entries[Symbol.iterator]().next();
  const writer = await RecordingWriter.create(file, {
    source: { kind: 'simulator', detail }, scenario, createdAt: first.done ? 0 : first.value.at,
  });
  for (const entry of entries) {
    writer.write(entry);
    if (writer.needsDrain) await writer.drain();
  }
  await writer.close();
}

export interface PmEdit {
  /** The PM takes place in the idle before this lot's first wafer (a PM between lots). */
  beforeLot: string;
  /** How long the tool is SCHEDULED_DOWN: every later entry moves this much later. */
  downMs: number;
  /** Added to these sensors in every snapshot after the PM: the tool's new normal (a new chamber part). */
  offsets: Readonly<Record<string, number>>;
}

/**
 * A PM put into a simulated run of one station: at the idle before `beforeLot`, the tool goes SCHEDULED_DOWN for
 * `downMs` (no snapshots, as a tool under maintenance sends none), comes back STANDBY, and from then on reads
 * `offsets` higher. No truth is added: the shift is the tool's new normal, not a fault. Returns the new entries
 * and the time the tool came back.
 */
export function insertPm(entries: readonly RecordingEntry[], edit: PmEdit): { entries: RecordingEntry[]; backAt: number } {
  const firstOfLot = entries.findIndex((e) => e.kind === 'telemetry' && e.msg.context?.lot === edit.beforeLot);
  if (firstOfLot < 0) throw new Error(`the run has no lot ${edit.beforeLot}`);
  // The tool's first idle snapshot after the last lot's last wafer: every step of that wafer has ended (a step ends
  // with the station's next snapshot), and the new lot's first wafer has not started.
  const standby = entries.slice(0, firstOfLot).findLastIndex((e) => e.kind === 'state' && e.msg.state === 'STANDBY');
  const idle = entries.findIndex((e, i) => i > standby && e.kind === 'telemetry');
  const last = entries[idle];
  if (standby < 0 || last?.kind !== 'telemetry' || idle >= firstOfLot) throw new Error(`no idle before lot ${edit.beforeLot}`);
  const { line, station } = last;
  const downAt = last.msg.ts;
  const backAt = downAt + edit.downMs;
  const out: RecordingEntry[] = entries.slice(0, idle + 1);
  out.push({ at: last.at, line, station, kind: 'state', msg: { state: 'SCHEDULED_DOWN', since: downAt } });
  out.push({ at: backAt, line, station, kind: 'state', msg: { state: 'STANDBY', since: backAt } });
  for (const e of entries.slice(idle + 1)) {
    const at = e.at + edit.downMs;
    switch (e.kind) {
      case 'telemetry': {
        const values = { ...e.msg.values };
        for (const [sensor, offset] of Object.entries(edit.offsets)) {
          const value = values[sensor];
          if (value !== undefined) values[sensor] = value + offset;
        }
        out.push({ ...e, at, msg: { ...e.msg, ts: e.msg.ts + edit.downMs, values } });
        break;
      }
      case 'state':
        out.push({ ...e, at, msg: { ...e.msg, since: e.msg.since + edit.downMs } });
        break;
      case 'meta':
        out.push({ ...e, at });
        break;
      case 'truth':
        throw new Error('insertPm edits fault-free runs only');
    }
  }
  return { entries: out, backAt };
}
