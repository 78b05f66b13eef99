/** Helpers for the importer's tests: write a CSV, import it, read what came out. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEntries, readHeader, type RecordingEntry, type RecordingHeader, type TelemetryEntry } from '@linewatch/recording';
import { importCsv, type FileResult, type ImportHooks, type ImportResult } from './import-csv.js';
import type { ImportOptionsInput } from './options.js';

export interface Workspace {
  dir: string;
  out: string;
  /** Writes `text` as `name` in the workspace and returns its path. */
  csv(name: string, text: string): Promise<string>;
  /** Imports `input` (a path in the workspace) into `out`; returns the result and its first file. */
  run(input: string, options?: ImportOptionsInput, hooks?: ImportHooks): Promise<{ result: ImportResult; file: FileResult }>;
  /** File names written to `out`, sorted. */
  outputs(): Promise<string[]>;
  remove(): Promise<void>;
}

export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'lw-import-'));
  const out = join(dir, 'out');
  return {
    dir,
    out,
    async csv(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    async run(input, options = {}, hooks = {}) {
      const result = await importCsv(input, { out, ...options }, hooks);
      return { result, file: result.files[0] as FileResult };
    },
    async outputs() {
      return (await readdir(out).catch(() => [] as string[])).sort();
    },
    async remove() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ReadBack {
  header: RecordingHeader;
  entries: RecordingEntry[];
  telemetry: TelemetryEntry[];
}

/** A recording's header and entries, every entry checked against the schema. */
export async function readBack(path: string): Promise<ReadBack> {
  const entries: RecordingEntry[] = [];
  for await (const entry of readEntries(path, { validate: true })) entries.push(entry);
  const telemetry = entries.filter((e): e is TelemetryEntry => e.kind === 'telemetry');
  return { header: await readHeader(path), entries, telemetry };
}
