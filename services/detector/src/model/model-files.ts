import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SetMember } from './train-set.js';

/** Write then rename, so a detector scanning the folder never loads a half-written file. */
async function writeAtomic(target: string, bytes: Uint8Array): Promise<void> {
  await writeFile(`${target}.tmp`, bytes);
  await rename(`${target}.tmp`, target);
}

/** Deletes the `.onnx` files in `dir` that the new set did not write (a recipe step that is gone, a renamed slug). */
async function removeStale(dir: string, keep: Set<string>): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => (n.endsWith('.onnx') || n.endsWith('.onnx.tmp')) && !keep.has(n));
  await Promise.all(stale.map((n) => rm(join(dir, n), { force: true })));
  return stale.map((n) => join(dir, n));
}

export interface WrittenSet {
  /** Every file written, fallback first. */
  files: { path: string; member: SetMember }[];
  /** Files of an older set under `{name}/` that the new set replaced. */
  removed: string[];
}

/**
 * Writes a model set where the registry looks for it: the fallback as `{dir}/{name}.onnx`, context models as
 * `{dir}/{name}/{slug}.onnx`. `name` is a station type (shared by its stations) or one station's id.
 */
export async function writeModelSet(dir: string, name: string, set: SetMember[]): Promise<WrittenSet> {
  const setDir = join(dir, name);
  await mkdir(setDir, { recursive: true });
  const files: WrittenSet['files'] = [];
  const written = new Set<string>();
  for (const member of set) {
    const path = member.slug ? join(setDir, `${member.slug}.onnx`) : join(dir, `${name}.onnx`);
    await writeAtomic(path, member.trained.onnx);
    if (member.slug) written.add(`${member.slug}.onnx`);
    files.push({ path, member });
  }
  return { files, removed: await removeStale(setDir, written) };
}
