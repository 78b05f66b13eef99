import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { RECORDING_EXTENSION, RecordingEntrySchema, RecordingHeaderSchema, type RecordingEntry, type RecordingHeader } from './format.js';

export interface ReadOptions {
  /** Check every entry against the schema (default true). A backtest of a file it just wrote may skip it. */
  validate?: boolean;
}

/** Lines of a gzip (possibly multi-member) text file, numbered from 1. */
async function* textLines(path: string): AsyncGenerator<{ n: number; text: string }> {
  const input = createReadStream(path).pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      yield { n, text };
    }
  } catch (err) {
    throw new Error(`${path}: not a readable gzip recording after line ${n}`, { cause: err });
  } finally {
    lines.close();
    input.destroy();
  }
}

function parseJson(path: string, n: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}:${n}: not JSON`, { cause: err });
  }
}

/** Reads and checks a recording's header (the first line) only. */
export async function readHeader(path: string): Promise<RecordingHeader> {
  for await (const { n, text } of textLines(path)) {
    const parsed = RecordingHeaderSchema.safeParse(parseJson(path, n, text));
    if (!parsed.success) {
      throw new Error(`${path}:1: not a linewatch recording header: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
  }
  throw new Error(`${path}: empty file, not a linewatch recording`);
}

/**
 * The entries of a recording in file order, streamed. A line that is not a valid entry throws with its line
 * number: a recording is never played with a hole in it.
 */
export async function* readEntries(path: string, options: ReadOptions = {}): AsyncGenerator<RecordingEntry> {
  const validate = options.validate ?? true;
  for await (const { n, text } of textLines(path)) {
    if (n === 1 || text.length === 0) continue;
    const json = parseJson(path, n, text);
    if (!validate) {
      yield json as RecordingEntry;
      continue;
    }
    const parsed = RecordingEntrySchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(`${path}:${n}: invalid entry: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    yield parsed.data;
  }
}

/** A recording file, or every recording in a folder (not recursive), sorted by name. */
export async function listRecordings(fileOrDir: string): Promise<string[]> {
  const info = await stat(fileOrDir).catch((err: unknown) => {
    throw new Error(`${fileOrDir}: no such recording or folder`, { cause: err });
  });
  if (!info.isDirectory()) return [fileOrDir];
  const names = (await readdir(fileOrDir)).filter((n) => n.endsWith(RECORDING_EXTENSION)).sort();
  if (names.length === 0) throw new Error(`${fileOrDir}: no ${RECORDING_EXTENSION} recordings in this folder`);
  return names.map((n) => join(fileOrDir, n));
}
