import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessContext } from '@linewatch/protocol';
import type { Logger } from 'pino';
import { contextKey, isIdleContext } from './model/context.js';
import type { StationModel } from './model/types.js';

/**
 * A model set is scanned again after this long, so a model dropped in (a new recipe step, a fixed file) starts
 * scoring; a missing or broken file is retried on the same schedule.
 */
const RECHECK_MS = 30_000;

export interface ResolvedModel {
  model: StationModel;
  /** File it came from; the scorer batches per file. */
  path: string;
}

/** The models that apply to one station: context models by (recipe, step), the idle baseline, the fallback. */
interface ModelSet {
  fallback: ResolvedModel | undefined;
  byContext: Map<string, ResolvedModel>;
  size: number;
}

interface Entry<T> {
  promise: Promise<T>;
  /** The promise's value once it has one, for lookups that cannot wait. */
  settled?: { value: T };
  /** Epoch ms after which the entry is looked up again. */
  retryAt: number;
}

const IDLE_KEY = contextKey({});

/** `resolveLoaded` cannot answer without loading or rescanning: use `resolve`. */
export const NOT_LOADED: unique symbol = Symbol('not loaded');

/**
 * Finds and loads the models of a station. A set is `{name}.onnx` (the fallback) plus `{name}/*.onnx` (context
 * models, indexed by their metadata `context`); the station's own set wins over its type's. Each file is loaded
 * once and shared by every station that uses it.
 */
export class ModelRegistry {
  private readonly files = new Map<string, Entry<StationModel | undefined>>();
  private readonly sets = new Map<string, Entry<ModelSet>>();
  private readonly logger: Logger;

  constructor(
    private readonly deps: { modelsDir: string; loadModel: (path: string) => Promise<StationModel>; logger: Logger; now?: () => number },
  ) {
    this.logger = deps.logger.child({ module: 'model-registry' });
  }

  /**
   * The model for one snapshot: the exact (recipe, step) model, else the idle baseline for a snapshot without a
   * recipe, else the fallback; undefined when the station has no model at all (UNMODELLED).
   */
  async resolve(station: string, type: string | undefined, context?: ProcessContext): Promise<ResolvedModel | undefined> {
    const set = await this.setFor(station, type);
    return set ? this.pick(set, context) : undefined;
  }

  /**
   * What `resolve` would return, synchronously, when the sets it needs are loaded and not due for a rescan;
   * otherwise NOT_LOADED. Saves a chain of promises per snapshot on the hot path.
   */
  resolveLoaded(station: string, type: string | undefined, context?: ProcessContext): ResolvedModel | undefined | typeof NOT_LOADED {
    const now = this.now();
    for (const name of [station, ...(type && type !== station ? [type] : [])]) {
      const entry = this.sets.get(name);
      if (!entry?.settled || now >= entry.retryAt) return NOT_LOADED;
      const set = entry.settled.value;
      if (set.size > 0) return this.pick(set, context);
    }
    return undefined;
  }

  private pick(set: ModelSet, context: ProcessContext | undefined): ResolvedModel | undefined {
    const exact = context?.recipe !== undefined || context?.step !== undefined ? set.byContext.get(contextKey(context)) : undefined;
    return exact ?? (isIdleContext(context) ? set.byContext.get(IDLE_KEY) : undefined) ?? set.fallback;
  }

  /**
   * Loads every model set in the models folder, so the first snapshot of a station is not held up by loading
   * its models (a set of a dozen step models takes a few hundred ms). Returns how many files were loaded.
   */
  async preloadAll(): Promise<number> {
    const entries = await readdir(this.deps.modelsDir, { withFileTypes: true }).catch(() => []);
    const names = new Set(entries.flatMap((e) => (e.isDirectory() ? [e.name] : e.name.endsWith('.onnx') ? [e.name.slice(0, -'.onnx'.length)] : [])));
    const sets = await Promise.all([...names].map((name) => this.cached(this.sets, name, () => this.scan(name))));
    return sets.reduce((n, set) => n + set.size, 0);
  }

  private async setFor(station: string, type: string | undefined): Promise<ModelSet | undefined> {
    for (const name of [station, ...(type && type !== station ? [type] : [])]) {
      const set = await this.cached(this.sets, name, () => this.scan(name));
      if (set.size > 0) return set;
    }
    return undefined;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private cached<T>(map: Map<string, Entry<T>>, key: string, lookup: () => Promise<T>, keep?: (value: T) => boolean): Promise<T> {
    const cached = map.get(key);
    if (cached && this.now() < cached.retryAt) return cached.promise;
    const entry: Entry<T> = { promise: lookup(), retryAt: Number.POSITIVE_INFINITY };
    entry.promise = entry.promise.then((value) => {
      if (!keep?.(value)) entry.retryAt = this.now() + RECHECK_MS;
      entry.settled = { value };
      return value;
    });
    map.set(key, entry);
    return entry.promise;
  }

  private async scan(name: string): Promise<ModelSet> {
    const dir = path.join(this.deps.modelsDir, name);
    const names = await readdir(dir).catch(() => [] as string[]);
    const candidates = [path.join(this.deps.modelsDir, `${name}.onnx`), ...names.filter((n) => n.endsWith('.onnx')).sort().map((n) => path.join(dir, n))];
    const set: ModelSet = { fallback: undefined, byContext: new Map(), size: 0 };
    // Load in parallel, assemble in file order (so which duplicate wins does not depend on load timing).
    const models = await Promise.all(candidates.map((file) => this.cached(this.files, file, () => this.tryLoad(file), (m) => m !== undefined)));
    for (const [i, file] of candidates.entries()) {
      const model = models[i];
      if (!model) continue;
      const resolved = { model, path: file };
      const context = model.meta.context;
      if (!context) {
        // The top-level file comes first, so it is the fallback; another context-less file is ignored.
        if (set.fallback) {
          this.logger.warn({ file, fallback: set.fallback.path }, 'second model without context in a set; ignored');
          continue;
        }
        set.fallback = resolved;
      } else {
        const key = contextKey(context);
        const first = set.byContext.get(key);
        if (first) {
          this.logger.warn({ file, context, first: first.path }, 'second model for one context in a set; ignored');
          continue;
        }
        set.byContext.set(key, resolved);
      }
      set.size++;
    }
    return set;
  }

  private async tryLoad(file: string): Promise<StationModel | undefined> {
    try {
      await access(file);
    } catch {
      return undefined;
    }
    try {
      const model = await this.deps.loadModel(file);
      const { version, features, threshold, context } = model.meta;
      this.logger.debug({ file, version, context, features: features.length, threshold }, 'model loaded');
      return model;
    } catch (err) {
      this.logger.error({ err, file }, 'model failed to load; snapshots it would score fall back or stay UNMODELLED');
      return undefined;
    }
  }

  async stop(): Promise<void> {
    const models = await Promise.all([...this.files.values()].map((e) => e.promise));
    this.files.clear();
    this.sets.clear();
    await Promise.all(models.flatMap((m) => (m ? [m.release().catch((err: unknown) => this.logger.warn({ err }, 'model release failed'))] : [])));
  }
}
