import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { IdSchema } from '@linewatch/protocol';
import { contextKey, type ModelContext } from '../model/context.js';

/**
 * A station's re-set baseline for one (recipe, step): the mean indicators of the known-good wafers it was taken
 * from, by indicator name, so it stays valid when the model is retrained over the same indicators.
 */
export const BaselineSchema = z.object({
  /** Deterministic id: the command's id for a re-baseline from the page, `cli@...` from `npm run baseline`. */
  id: z.string().min(1).max(200),
  context: z.object({ recipe: z.string().optional(), step: z.string().optional() }),
  /** When it was set (epoch ms of the last wafer's end). */
  at: z.number().int().nonnegative(),
  wafers: z.array(z.string()).min(1),
  indicators: z.record(z.string(), z.number()),
});
export type Baseline = z.infer<typeof BaselineSchema>;

const FileSchema = z.object({
  line: IdSchema,
  station: IdSchema,
  baselines: z.array(BaselineSchema),
});
type BaselineFile = z.infer<typeof FileSchema>;

/** How often a station's file is looked at again, so a baseline written by `npm run baseline` is picked up. */
const RECHECK_MS = 5_000;

interface Cached {
  byContext: Map<string, Baseline>;
  /** mtime and size of the file as read (`missing` when there is none): a rewrite changes one or the other. */
  signature: string;
  checkedAt: number;
}

/**
 * Baselines on disk, one JSON file per station (`{dir}/{line}/{station}.json`), shared by the detector (which
 * sets them after a re-baseline command) and `npm run baseline` (which sets them from recorded wafers).
 * Writes are atomic (write, then rename), so a reader never sees half a file.
 */
export class BaselineStore {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  file(line: string, station: string): string {
    return path.join(this.dir, line, `${station}.json`);
  }

  /** The baseline for a station's (recipe, step), or undefined when it is still the model's own. */
  async get(line: string, station: string, context: ModelContext): Promise<Baseline | undefined> {
    const entry = await this.load(line, station);
    return entry.byContext.get(contextKey(context));
  }

  /** Sets (replaces) baselines of a station and writes its file. */
  async set(line: string, station: string, baselines: Baseline[]): Promise<string> {
    const entry = await this.load(line, station, true);
    for (const b of baselines) entry.byContext.set(contextKey(b.context), b);
    const body: BaselineFile = { line, station, baselines: [...entry.byContext.values()].sort((a, b) => contextKey(a.context).localeCompare(contextKey(b.context))) };
    const target = this.file(line, station);
    await mkdir(path.dirname(target), { recursive: true });
    // A temp name per write: the detector and `npm run baseline` may write one station's file at the same time.
    const temp = `${target}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temp, `${JSON.stringify(body, null, 2)}\n`);
    await rename(temp, target);
    entry.signature = await signature(target);
    return target;
  }

  private async load(line: string, station: string, force = false): Promise<Cached> {
    const key = `${line}/${station}`;
    const cached = this.cache.get(key);
    const now = this.now();
    if (cached && !force && now - cached.checkedAt < RECHECK_MS) return cached;
    const target = this.file(line, station);
    const sig = await signature(target);
    if (cached && cached.signature === sig) {
      cached.checkedAt = now;
      return cached;
    }
    const entry: Cached = { byContext: new Map(), signature: sig, checkedAt: now };
    if (sig !== 'missing') {
      let parsed: BaselineFile;
      try {
        parsed = FileSchema.parse(JSON.parse(await readFile(target, 'utf8')));
      } catch (cause) {
        throw new Error(`baseline file ${target} is not valid: ${(cause as Error).message}`, { cause });
      }
      for (const b of parsed.baselines) entry.byContext.set(contextKey(b.context), b);
    }
    this.cache.set(key, entry);
    return entry;
  }
}

async function signature(file: string): Promise<string> {
  return stat(file).then((s) => `${s.mtimeMs}:${s.size}`, () => 'missing');
}

/** Mean of every indicator the given steps share. */
export function meanIndicators(steps: readonly { indicators: ReadonlyMap<string, number> }[]): Record<string, number> {
  const out: Record<string, number> = {};
  const first = steps[0];
  if (!first) return out;
  for (const name of first.indicators.keys()) {
    if (!steps.every((s) => s.indicators.has(name))) continue;
    out[name] = steps.reduce((sum, s) => sum + (s.indicators.get(name) as number), 0) / steps.length;
  }
  return out;
}
