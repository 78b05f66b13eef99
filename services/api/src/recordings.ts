import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { RECORDING_EXTENSION, readHeader, type RecordingHeader } from '@linewatch/recording';
import type { RecordingInfo } from '@linewatch/protocol';
import { HttpError } from './http-error.js';

/**
 * A recording name as the API accepts it: a plain file name ending in `.jsonl.gz`, no path separators, not
 * starting with a dot. Together with "regular file, not a symlink" this keeps every replay inside RECORDINGS_DIR.
 */
export const RECORDING_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.,+=@()-]{0,200}\.jsonl\.gz$/;
const NAME_RULE = `letters, digits, space and _ . , + = @ ( ) -, starting with a letter or digit, ending in ${RECORDING_EXTENSION}`;
/** Most recordings one listing shows (newest first); a folder of thousands would make a useless select anyway. */
export const MAX_LISTED = 500;

interface CachedHeader {
  bytes: number;
  mtimeMs: number;
  header: RecordingHeader | null;
  error: string | null;
}

/** Removes the server's folder from a message, so errors shown to clients name the file only. */
export function withoutDir(message: string, dir: string): string {
  return message.split(`${dir}${path.sep}`).join('').split(dir).join('RECORDINGS_DIR');
}

/**
 * The recordings folder as the API offers it: lists the files with their headers and resolves a client's name
 * to a path only when it is a regular file directly inside the folder. Headers are cached by size and mtime, so a
 * listing reads only new or changed files.
 */
export class RecordingLibrary {
  private readonly cache = new Map<string, CachedHeader>();

  constructor(readonly dir: string) {}

  /**
   * The absolute path of a recording, or a 400 (not a recording name) / 404 (no such file). Symlinks are not
   * followed: a link could point anywhere on the server.
   */
  async resolve(name: string): Promise<string> {
    if (!RECORDING_NAME.test(name)) {
      throw new HttpError(400, 'bad_request', `invalid recording: "${name.slice(0, 80)}" is not a recording file name (${NAME_RULE}; no folders)`);
    }
    const file = path.join(this.dir, name);
    // Belt and braces: the pattern already rules out separators and dot segments.
    if (path.dirname(file) !== this.dir) throw new HttpError(400, 'bad_request', `invalid recording: "${name}" is not directly in the recordings folder`);
    const info = await lstat(file).catch(() => undefined);
    if (!info?.isFile()) throw new HttpError(404, 'not_found', `no recording "${name}" in the recordings folder`);
    return file;
  }

  /** Reads a recording's header for a replay request; a broken file is the server's data, not the client's mistake. */
  async header(name: string, file: string): Promise<RecordingHeader> {
    try {
      return await readHeader(file);
    } catch (err) {
      throw new HttpError(422, 'unprocessable', `recording "${name}" cannot be replayed: ${withoutDir((err as Error).message, this.dir)}`, { cause: err });
    }
  }

  /** Every recording in the folder, newest first. A missing folder is an empty list, not an error. */
  async list(): Promise<RecordingInfo[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw new HttpError(503, 'unavailable', 'the recordings folder cannot be read', { cause: err });
    });
    const names = entries.filter((e) => e.isFile() && e.name.endsWith(RECORDING_EXTENSION)).map((e) => e.name);
    const infos: RecordingInfo[] = [];
    for (const name of names) {
      const stat = await lstat(path.join(this.dir, name)).catch(() => undefined);
      // Gone since readdir (a rename, a delete): not worth an error.
      if (!stat?.isFile()) continue;
      // Listed, so whoever put it there learns why it cannot be replayed.
      const header = RECORDING_NAME.test(name)
        ? await this.cachedHeader(name, stat.size, stat.mtimeMs)
        : { bytes: stat.size, mtimeMs: stat.mtimeMs, header: null, error: `the API does not replay files with this name; rename it (${NAME_RULE})` };
      infos.push(describe(name, stat.size, stat.mtimeMs, header));
    }
    for (const name of this.cache.keys()) if (!names.includes(name)) this.cache.delete(name);
    return infos.sort((a, b) => b.modifiedAt - a.modifiedAt || a.name.localeCompare(b.name)).slice(0, MAX_LISTED);
  }

  private async cachedHeader(name: string, bytes: number, mtimeMs: number): Promise<CachedHeader> {
    const hit = this.cache.get(name);
    if (hit && hit.bytes === bytes && hit.mtimeMs === mtimeMs) return hit;
    const entry: CachedHeader = await readHeader(path.join(this.dir, name)).then(
      (header) => ({ bytes, mtimeMs, header, error: null }),
      (err: unknown) => ({ bytes, mtimeMs, header: null, error: withoutDir(err instanceof Error ? err.message : String(err), this.dir) }),
    );
    this.cache.set(name, entry);
    return entry;
  }
}

function describe(name: string, bytes: number, mtimeMs: number, { header, error }: CachedHeader): RecordingInfo {
  const base = { name, bytes, modifiedAt: Math.round(mtimeMs) };
  if (!header) {
    return { ...base, error, source: null, scenario: null, run: null, labels: null, lines: [], start: null, end: null, durationMs: null, stations: [], counts: null };
  }
  return {
    ...base,
    error: null,
    source: `${header.source.kind}: ${header.source.detail}`,
    scenario: header.scenario ?? null,
    run: header.run ?? null,
    labels: header.labels,
    lines: header.lines,
    start: header.start,
    end: header.end,
    durationMs: header.end - header.start,
    stations: header.stations.map((s) => ({ line: s.line, station: s.station, type: s.type ?? null, sensors: s.sensors.length, telemetry: s.telemetry })),
    counts: header.counts,
  };
}
