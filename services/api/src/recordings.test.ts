import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from './http-error.js';
import { RecordingLibrary } from './recordings.js';
import { writeTestRecording } from './testing/recording.js';

describe('RecordingLibrary', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lw-recordings-'));
  const dir = path.join(root, 'recordings');
  const library = new RecordingLibrary(dir);

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    await writeTestRecording(path.join(dir, 'good run.jsonl.gz'), { line: 'fab1', seconds: 5, stations: ['etch-01', 'cmp-01'] });
    writeFileSync(path.join(dir, 'broken.jsonl.gz'), 'this is not gzip');
    writeFileSync(path.join(dir, 'bad:name.jsonl.gz'), 'x');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a recording');
    await writeTestRecording(path.join(root, 'outside.jsonl.gz'), { line: 'fab1', seconds: 2, stations: ['etch-01'] });
    symlinkSync(path.join(root, 'outside.jsonl.gz'), path.join(dir, 'link.jsonl.gz'));
    await writeTestRecording(path.join(dir, 'sub', 'nested.jsonl.gz'), { line: 'fab1', seconds: 2, stations: ['etch-01'] });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function refusal(name: string): Promise<HttpError> {
    const err = await library.resolve(name).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  }

  it('lists each recording from its header, and a broken one with its error instead of failing the list', async () => {
    const list = await library.list();
    expect(list.map((r) => r.name).sort()).toEqual(['bad:name.jsonl.gz', 'broken.jsonl.gz', 'good run.jsonl.gz']);
    const good = list.find((r) => r.name === 'good run.jsonl.gz');
    expect(good).toMatchObject({ error: null, lines: ['fab1'], labels: 'none', scenario: 'test', source: 'simulator: test seed 5' });
    expect(good?.stations.map((s) => s.station).sort()).toEqual(['cmp-01', 'etch-01']);
    expect(good?.counts?.telemetry).toBe(10);
    expect(good?.durationMs).toBeGreaterThanOrEqual(4_000);
    expect(good?.bytes).toBeGreaterThan(100);
    const broken = list.find((r) => r.name === 'broken.jsonl.gz');
    expect(broken?.error).toMatch(/broken\.jsonl\.gz/);
    expect(broken?.error).not.toContain(dir);
    expect(broken).toMatchObject({ counts: null, stations: [], start: null });
    expect(list.find((r) => r.name === 'bad:name.jsonl.gz')?.error).toMatch(/rename it/);
  });

  it('lists a missing folder as empty', async () => {
    expect(await new RecordingLibrary(path.join(root, 'nope')).list()).toEqual([]);
  });

  it('resolves a plain name to the file inside the folder', async () => {
    expect(await library.resolve('good run.jsonl.gz')).toBe(path.join(dir, 'good run.jsonl.gz'));
  });

  it('rejects every name that could leave the folder', async () => {
    for (const name of ['../outside.jsonl.gz', '..%2Foutside.jsonl.gz', '/etc/passwd', `${root}/outside.jsonl.gz`, 'sub/nested.jsonl.gz', 'sub\\nested.jsonl.gz', '.hidden.jsonl.gz', '..', 'good run.jsonl.gz\0.txt', 'notes.txt', '']) {
      expect((await refusal(name)).status, name).toBe(400);
    }
  });

  it('answers 404 for an unknown recording, a symlink and a folder', async () => {
    expect((await refusal('missing.jsonl.gz')).status).toBe(404);
    expect((await refusal('link.jsonl.gz')).status).toBe(404);
    mkdirSync(path.join(dir, 'folder.jsonl.gz'), { recursive: true });
    expect((await refusal('folder.jsonl.gz')).status).toBe(404);
  });

  it('refuses a file that is not a readable recording with 422, naming the file and not the folder', async () => {
    const err = await library.header('broken.jsonl.gz', path.join(dir, 'broken.jsonl.gz')).catch((e: unknown) => e as HttpError);
    expect(err).toMatchObject({ status: 422, code: 'unprocessable' });
    expect((err as HttpError).message).toContain('broken.jsonl.gz');
    expect((err as HttpError).message).not.toContain(dir);
  });
});
