import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordingEntry } from './format.js';
import { listRecordings, readEntries, readHeader } from './reader.js';
import { RecordingWriter } from './writer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-rec-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function telemetry(i: number, label?: 0 | 1): RecordingEntry {
  return {
    at: 1_000 + i * 100, line: 'fab1', station: i % 2 ? 'etch-01' : 'cmp-01', kind: 'telemetry',
    msg: { ts: 1_000 + i * 100, seq: i, values: { a: i, b: i * 2 } }, ...(label !== undefined ? { label } : {}),
  };
}

async function collect(path: string): Promise<RecordingEntry[]> {
  const out: RecordingEntry[] = [];
  for await (const e of readEntries(path)) out.push(e);
  return out;
}

describe('recording files', () => {
  it('round-trips entries in order and writes a header that matches the body', async () => {
    const path = join(dir, 'run.jsonl.gz');
    const w = await RecordingWriter.create(path, { source: { kind: 'simulator', detail: 'seed 1' }, scenario: 'demo', createdAt: 5 });
    const entries: RecordingEntry[] = [
      { at: 1_000, line: 'fab1', station: 'etch-01', kind: 'meta', msg: { line: 'fab1', station: 'etch-01', type: 'etch', name: 'Etch', order: 3, sensors: [{ name: 'a', unit: 'W', min: 0, max: 9 }] } },
      ...Array.from({ length: 5000 }, (_, i) => telemetry(i, i > 4000 ? 1 : 0)),
      { at: 9_000, line: 'fab1', station: 'etch-01', kind: 'truth', msg: { id: 'x', line: 'fab1', station: 'etch-01', fault: 'step', sensors: ['a'], start: 9_000, end: null } },
    ];
    for (const e of entries) {
      w.write(e);
      if (w.needsDrain) await w.drain();
    }
    const header = await w.close();
    expect(await readHeader(path)).toEqual(header);
    expect(header).toMatchObject({
      createdAt: 5, scenario: 'demo', lines: ['fab1'], start: 1_000, end: 1_000 + 4999 * 100, labels: 'both',
      counts: { telemetry: 5000, meta: 1, truth: 1, state: 0, labelled: 5000 },
    });
    expect(header.stations).toEqual([
      { line: 'fab1', station: 'etch-01', type: 'etch', sensors: ['a', 'b'], telemetry: 2500 },
      { line: 'fab1', station: 'cmp-01', sensors: ['a', 'b'], telemetry: 2500 },
    ]);
    expect(await collect(path)).toEqual(entries);
    expect(await listRecordings(dir)).toEqual([path]);
  });

  it('names the line of an invalid entry', async () => {
    const path = join(dir, 'bad.jsonl.gz');
    const w = await RecordingWriter.create(path, { source: { kind: 'csv', detail: 'x.csv' } });
    w.write(telemetry(0));
    await w.close();
    const text = gunzipSync(await readFile(path)).toString('utf8');
    await writeFile(path, gzipSync(`${text}{"at":1,"kind":"telemetry"}\n`));
    await expect(collect(path)).rejects.toThrow(/bad\.jsonl\.gz:3: invalid entry/);
  });

  it('refuses a file that is not a recording', async () => {
    const path = join(dir, 'other.jsonl.gz');
    await writeFile(path, gzipSync('{"hello":1}\n'));
    await expect(readHeader(path)).rejects.toThrow(/:1: not a linewatch recording header/);
    await writeFile(path, 'plain text');
    await expect(readHeader(path)).rejects.toThrow(/not a readable gzip recording/);
  });

  it('leaves no file behind when aborted', async () => {
    const path = join(dir, 'gone.jsonl.gz');
    const w = await RecordingWriter.create(path, { source: { kind: 'mqtt', detail: 'mqtt://127.0.0.1' } });
    w.write(telemetry(1));
    await w.abort();
    await expect(listRecordings(dir)).rejects.toThrow(/no \.jsonl\.gz recordings/);
  });
});

describe('a recording that cannot be written', () => {
  it('rejects drain() and close() on a full disk instead of hanging', async () => {
    const path = join(dir, 'full.jsonl.gz');
    // The body goes to /dev/full: every write fails with ENOSPC, as on a full disk.
    await symlink('/dev/full', `${path}.body`);
    const w = await RecordingWriter.create(path, { source: { kind: 'simulator', detail: 't' }, level: 0 });
    let drained: Promise<void> | undefined;
    for (let i = 0; i < 50_000 && !drained; i++) {
      w.write(telemetry(i));
      if (w.needsDrain) drained = w.drain();
    }
    expect(drained).toBeDefined();
    await expect(drained).rejects.toThrow(/full\.jsonl\.gz cannot be written/);
    await expect(w.close()).rejects.toThrow();
    await expect(listRecordings(dir)).rejects.toThrow(/no \.jsonl\.gz recordings/);
  });
});
