import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { StationMetaSchema, type Telemetry } from '@linewatch/protocol';
import { RecordingWriter, type RecordingEntry, type RecordingHeader } from '@linewatch/recording';
import { isBlank } from './csv-parser.js';
import { CsvSource } from './csv-source.js';
import type { ImportOptions } from './options.js';
import { RowReader, type Reading } from './rows.js';
import type { FilePlan, RunPlan } from './scan.js';

/**
 * Every recording of an import says it was created at the epoch. The same CSV then gives byte-identical files
 * wherever and whenever it is imported; the file's mtime would not (a copy or a git checkout changes it). What
 * the data is, is in the source detail instead: the CSV's name and SHA-256.
 */
export const IMPORT_CREATED_AT = 0;

/** One written recording. */
export interface WrittenRecording {
  path: string;
  run: RunPlan;
  header: RecordingHeader;
}

/** Station type when `--type` is not given: `etch-01` → `etch`. */
export function stationType(station: string): string {
  return station.replace(/-\d+$/, '') || station;
}

function metaEntry(plan: FilePlan, run: RunPlan, station: string, options: ImportOptions): RecordingEntry {
  const ranges = run.stations.get(station)?.ranges ?? new Map<string, { min: number; max: number }>();
  const sensors = plan.columns.sensors.flatMap(({ name }) => {
    const range = ranges.get(name);
    return range ? [{ name, unit: '', min: range.min, max: range.max }] : [];
  });
  const msg = StationMetaSchema.parse({
    line: options.line, station, type: options.type ?? stationType(station), name: station, order: plan.stations.indexOf(station), sensors,
  });
  return { at: run.firstTime + run.shift, line: options.line, station, kind: 'meta', msg };
}

function telemetryEntry(reading: Reading, seq: number, shift: number, line: string): RecordingEntry {
  const ts = reading.time + shift;
  const msg: Telemetry = { ts, seq, values: reading.values };
  if (reading.context) msg.context = reading.context;
  return {
    at: ts, line, station: reading.station, kind: 'telemetry', msg,
    ...(reading.label !== undefined ? { label: reading.label } : {}),
    ...(reading.fault !== undefined ? { fault: reading.fault } : {}),
  };
}

/** One open output recording: its writer and the next `seq` of each station. */
interface OpenRun {
  run: RunPlan;
  writer: RecordingWriter;
  seq: Map<string, number>;
  rows: number;
}

/**
 * Second read of a scanned file: writes one recording per run with at least one good row, each starting with
 * one meta message per station. Bad rows were reported by the scan and are left out here. If anything goes
 * wrong, including the file changing since the scan, the recordings this call wrote are removed again.
 */
export async function writeRecordings(plan: FilePlan, options: ImportOptions): Promise<WrittenRecording[]> {
  const written: WrittenRecording[] = [];
  const byId = new Map(plan.runs.map((r) => [r.id ?? '', r]));
  const source = new CsvSource(plan.path, plan.delimiter);
  const reader = new RowReader(plan.columns, options);
  let open: OpenRun | undefined;
  const finish = async (): Promise<void> => {
    if (!open) return;
    const { run, writer, rows } = open;
    open = undefined;
    if (rows !== run.rows) {
      await writer.abort();
      throw new Error(`run ${run.id ?? plan.base}: ${rows} good rows now, ${run.rows} when scanned; did the file change?`);
    }
    written.push({ path: writer.path, run, header: await writer.close() });
  };
  try {
    let seenHeader = false;
    for await (const batch of source.batches()) {
      for (const record of batch) {
        if (isBlank(record)) continue;
        if (!seenHeader) {
          seenHeader = true;
          continue;
        }
        const outcome = reader.read(record);
        if ('error' in outcome) continue;
        const reading = outcome.reading;
        const run = byId.get(reading.run ?? '');
        if (!run) throw new Error(`row ${record.row}: run '${reading.run}' was not there when scanned; did the file change?`);
        if (open?.run !== run) {
          await finish();
          open = await start(plan, run, options);
        }
        const seq = open.seq.get(reading.station) ?? 0;
        open.seq.set(reading.station, seq + 1);
        open.rows++;
        open.writer.write(telemetryEntry(reading, seq, run.shift, options.line));
        if (open.writer.needsDrain) await open.writer.drain();
      }
    }
    await finish();
    if (source.sha256 !== plan.sha256) throw new Error('the file changed between the scan and the write; import it again');
    return written;
  } catch (err) {
    const current = open as OpenRun | undefined;
    await current?.writer.abort();
    await Promise.all(written.map((w) => rm(w.path, { force: true })));
    throw err;
  }
}

async function start(plan: FilePlan, run: RunPlan, options: ImportOptions): Promise<OpenRun> {
  const writer = await RecordingWriter.create(join(options.out, run.fileName), {
    source: { kind: 'csv', detail: `${basename(plan.path)} sha256:${plan.sha256}` },
    run: (run.id ?? plan.base).slice(0, 200),
    createdAt: IMPORT_CREATED_AT,
  });
  for (const station of run.stations.keys()) writer.write(metaEntry(plan, run, station, options));
  return { run, writer, seq: new Map(), rows: 0 };
}
