import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessContext } from '@linewatch/protocol';
import type { Logger } from 'pino';
import { contextKey, isIdleContext } from './model/context.js';
import type { StationModel } from './model/types.js';

/** How often (ms) the models folder is checked for new, replaced and deleted files, unless told otherwise. */
export const DEFAULT_RELOAD_INTERVAL_MS = 2_000;

/**
 * Snapshots queued on or being scored by one model. The scorer holds one use per snapshot from enqueue until
 * its batch has run, so a model replaced on disk keeps its session until the last batch routed to it is done.
 */
export interface ModelUses {
  hold(count: number): void;
  done(count: number): void;
}

export interface ResolvedModel {
  model: StationModel;
  /** File it came from; the scorer batches per file. */
  path: string;
  /** Set by the registry; absent on models a test hands to the scorer directly. */
  uses?: ModelUses;
}

/** The models that apply to one station: context models by (recipe, step), the idle baseline, the fallback. */
interface ModelSet {
  fallback: ResolvedModel | undefined;
  byContext: Map<string, ResolvedModel>;
  size: number;
}

/** One file of a set as last seen on disk. */
interface FileState {
  /** size, mtime and inode when the file was last tried: a new stamp means a new file (an atomic rename too). */
  stamp: string;
  /** The last version of the file that loaded; kept when a replacement fails to load. */
  live: Live | undefined;
}

interface SetState {
  files: Map<string, FileState>;
  /** Replaced whole on every change, never mutated: a lookup sees the set before or after a reload. */
  set: ModelSet;
  scanned: boolean;
  scanning: Promise<ModelSet> | undefined;
}

interface Live extends ResolvedModel {
  uses: Lease;
}

/** Model-file events since start; each is also logged. */
export interface ModelRegistryCounts {
  /** Files loaded: at start, added later, or replacing an older version. */
  loaded: number;
  /** Of `loaded`, files that replaced a loaded version of the same path. */
  reloaded: number;
  /** Files refused (not ONNX, contract violated, onnxruntime error); a replaced model keeps scoring. */
  failed: number;
  /** Loaded files that disappeared from disk. */
  removed: number;
}

/**
 * Uses of one model. Once retired (replaced or deleted) it waits one turn of the event loop, in case a lookup
 * made just before the swap is still on its way to the scorer, then fires `onIdle` when nothing holds it.
 */
class Lease implements ModelUses {
  private held = 0;
  private retired = false;
  private turnPassed = false;
  private fired = false;

  constructor(private readonly onIdle: () => void) {}

  hold(count: number): void {
    this.held += count;
  }

  done(count: number): void {
    this.held -= count;
    this.check();
  }

  retire(): void {
    this.retired = true;
    setImmediate(() => {
      this.turnPassed = true;
      this.check();
    });
  }

  private check(): void {
    if (this.retired && this.turnPassed && this.held <= 0 && !this.fired) {
      this.fired = true;
      this.onIdle();
    }
  }
}

const IDLE_KEY = contextKey({});
const EMPTY_SET: ModelSet = Object.freeze({ fallback: undefined, byContext: new Map<string, ResolvedModel>(), size: 0 });
/** A load failed while the file was still changing (being copied in): not counted, retried on the next check. */
const CHANGING: unique symbol = Symbol('changing');

/** `resolveLoaded` cannot answer without loading a set first: use `resolve`. */
export const NOT_LOADED: unique symbol = Symbol('not loaded');

async function stampOf(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? `${s.size}:${s.mtimeMs}:${s.ino}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds and loads the models of a station. A set is `{name}.onnx` (the fallback) plus `{name}/*.onnx` (context
 * models, indexed by their metadata `context`); the station's own set wins over its type's. Each file is loaded
 * once and shared by every station that uses it.
 *
 * Hot reload: after `start()` the folder is polled every `reloadIntervalMs` (stat only: size, mtime, inode).
 * Polling rather than fs.watch, because it sees atomic renames, bind mounts and network folders alike. A new,
 * replaced or deleted file is loaded (or dropped) while the current models keep scoring; the set is then
 * swapped in one step, and a replaced model's session is released once the batches routed to it have run.
 */
export class ModelRegistry {
  private readonly sets = new Map<string, SetState>();
  /** Replaced or deleted models whose session is not released yet. */
  private readonly retiring = new Set<Live>();
  private readonly releases = new Set<Promise<void>>();
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  readonly counts: ModelRegistryCounts = { loaded: 0, reloaded: 0, failed: 0, removed: 0 };

  constructor(
    private readonly deps: {
      modelsDir: string;
      loadModel: (path: string) => Promise<StationModel>;
      logger: Logger;
      /** Poll period of hot reload (default DEFAULT_RELOAD_INTERVAL_MS); 0 turns it off (a backtest). */
      reloadIntervalMs?: number;
    },
  ) {
    this.logger = deps.logger.child({ module: 'model-registry' });
  }

  /**
   * The model for one snapshot: the exact (recipe, step) model, else the idle baseline for a snapshot without a
   * recipe, else the fallback; undefined when the station has no model at all (UNMODELLED).
   */
  async resolve(station: string, type: string | undefined, context?: ProcessContext): Promise<ResolvedModel | undefined> {
    for (const name of this.setNames(station, type)) {
      const state = this.sets.get(name);
      const set = state?.scanned ? state.set : await this.refreshSet(name);
      if (set.size > 0) return this.pick(set, context);
    }
    return undefined;
  }

  /**
   * What `resolve` would return, synchronously, once the sets it needs have been read; otherwise NOT_LOADED.
   * Saves a chain of promises per snapshot on the hot path.
   */
  resolveLoaded(station: string, type: string | undefined, context?: ProcessContext): ResolvedModel | undefined | typeof NOT_LOADED {
    for (const name of this.setNames(station, type)) {
      const state = this.sets.get(name);
      if (!state?.scanned) return NOT_LOADED;
      if (state.set.size > 0) return this.pick(state.set, context);
    }
    return undefined;
  }

  private setNames(station: string, type: string | undefined): string[] {
    return type && type !== station ? [station, type] : [station];
  }

  private pick(set: ModelSet, context: ProcessContext | undefined): ResolvedModel | undefined {
    const exact = context?.recipe !== undefined || context?.step !== undefined ? set.byContext.get(contextKey(context)) : undefined;
    return exact ?? (isIdleContext(context) ? set.byContext.get(IDLE_KEY) : undefined) ?? set.fallback;
  }

  /**
   * Loads every model set in the folder, so the first snapshot of a station is not held up by loading its
   * models (a set of a dozen step models takes a few hundred ms), then starts polling for changes. Returns how
   * many models are loaded.
   */
  async start(): Promise<number> {
    await this.refresh();
    this.schedule();
    let n = 0;
    for (const state of this.sets.values()) n += state.set.size;
    return n;
  }

  /** @deprecated The same as `start()`, under the name its callers still use. */
  preloadAll(): Promise<number> {
    return this.start();
  }

  private schedule(): void {
    const every = this.deps.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
    if (this.stopped || this.timer || every <= 0) return;
    this.timer = setTimeout(() => {
      this.polling = this.refresh()
        .catch((err: unknown) => this.logger.error({ err }, 'checking the models folder failed; trying again'))
        .finally(() => {
          this.timer = undefined;
          this.polling = undefined;
          this.schedule();
        });
    }, every);
    // Polling alone must not keep a process alive.
    this.timer.unref();
  }

  /**
   * One pass of hot reload: every set in the folder (new ones included) and every set known to have files
   * (so a deleted set is noticed) is read again; sets that changed are swapped. Resolves when done.
   */
  async refresh(): Promise<void> {
    const entries = await readdir(this.deps.modelsDir, { withFileTypes: true }).catch(() => []);
    const names = new Set(entries.flatMap((e) => (e.isDirectory() ? [e.name] : e.name.endsWith('.onnx') ? [e.name.slice(0, -'.onnx'.length)] : [])));
    for (const [name, state] of this.sets) if (state.files.size > 0) names.add(name);
    await Promise.all([...names].map((name) => this.refreshSet(name)));
  }

  /** Reads one set from disk, sharing a read already under way. */
  private refreshSet(name: string): Promise<ModelSet> {
    if (this.stopped) return Promise.resolve(EMPTY_SET);
    let state = this.sets.get(name);
    if (!state) {
      state = { files: new Map(), set: EMPTY_SET, scanned: false, scanning: undefined };
      this.sets.set(name, state);
    }
    const s = state;
    s.scanning ??= this.scan(name, s).finally(() => (s.scanning = undefined));
    return s.scanning;
  }

  private async scan(name: string, state: SetState): Promise<ModelSet> {
    const dir = path.join(this.deps.modelsDir, name);
    const names = await readdir(dir).catch(() => [] as string[]);
    const candidates = [path.join(this.deps.modelsDir, `${name}.onnx`), ...names.filter((n) => n.endsWith('.onnx')).sort().map((n) => path.join(dir, n))];
    const stamps = await Promise.all(candidates.map(stampOf));
    const present = new Map(candidates.flatMap((file, i) => (stamps[i] ? [[file, stamps[i]] as const] : [])));
    const retired: Live[] = [];
    let changed = !state.scanned;

    for (const [file, known] of state.files) {
      if (present.has(file)) continue;
      state.files.delete(file);
      changed = true;
      if (known.live) {
        retired.push(known.live);
        this.counts.removed++;
        this.logger.info({ file, version: known.live.model.meta.version }, 'model file removed; its snapshots fall back or stay UNMODELLED');
      }
    }
    // Load what is new or changed in parallel while the current set keeps scoring; swap once all have settled.
    const due = [...present].filter(([file, stamp]) => state.files.get(file)?.stamp !== stamp);
    const loaded = await Promise.all(due.map(([file, stamp]) => this.tryLoad(file, stamp, state.files.get(file)?.live)));
    for (const [i, [file, stamp]] of due.entries()) {
      const model = loaded[i];
      if (model === CHANGING) continue;
      const previous = state.files.get(file)?.live;
      if (!model) {
        // Remember the stamp so the same broken file is not retried every poll; the previous version stays.
        state.files.set(file, { stamp, live: previous });
        continue;
      }
      const live: Live = { model, path: file, uses: new Lease(() => this.release(live)) };
      state.files.set(file, { stamp, live });
      changed = true;
      this.counts.loaded++;
      if (previous) {
        retired.push(previous);
        this.counts.reloaded++;
        this.logger.info({ file, from: previous.model.meta.version, to: model.meta.version }, 'model replaced');
      } else if (state.scanned) {
        this.logger.info({ file, version: model.meta.version, context: model.meta.context }, 'model added');
      }
    }
    if (changed) state.set = this.assemble(candidates, state.files);
    state.scanned = true;
    // Only now, with the new set in place, can nothing new be routed to the retired models.
    for (const live of retired) {
      this.retiring.add(live);
      live.uses.retire();
    }
    return state.set;
  }

  /** Builds a set in file order (the fallback first), so which duplicate wins does not depend on load timing. */
  private assemble(candidates: string[], files: Map<string, FileState>): ModelSet {
    const set: ModelSet = { fallback: undefined, byContext: new Map(), size: 0 };
    for (const file of candidates) {
      const resolved = files.get(file)?.live;
      if (!resolved) continue;
      const context = resolved.model.meta.context;
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

  private async tryLoad(file: string, stamp: string, previous: Live | undefined): Promise<StationModel | undefined | typeof CHANGING> {
    try {
      const model = await this.deps.loadModel(file);
      const { version, features, threshold, context } = model.meta;
      this.logger.debug({ file, version, context, features: features.length, threshold }, 'model loaded');
      return model;
    } catch (err) {
      // A file still being written (copied in place rather than renamed) fails too: wait for it to settle.
      if ((await stampOf(file)) !== stamp) {
        this.logger.debug({ err, file }, 'model file changed while loading; trying again on the next check');
        return CHANGING;
      }
      this.counts.failed++;
      if (previous) {
        this.logger.error({ err, file, keeping: previous.model.meta.version }, 'replacement model failed to load; the loaded version keeps scoring');
      } else {
        this.logger.error({ err, file }, 'model failed to load; snapshots it would score fall back or stay UNMODELLED');
      }
      return undefined;
    }
  }

  /** Releases a retired model's session; called by its lease once no batch holds it, or by stop(). */
  private release(live: Live): void {
    if (!this.retiring.delete(live)) return;
    const done = live.model
      .release()
      .catch((err: unknown) => this.logger.warn({ err, file: live.path }, 'model release failed'))
      .finally(() => this.releases.delete(done));
    this.releases.add(done);
  }

  /** Stops polling and releases every model; call after the scorer has drained. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await Promise.all([...this.sets.values()].flatMap((s) => (s.scanning ? [s.scanning] : [])));
    for (const state of this.sets.values()) {
      for (const { live } of state.files.values()) if (live) this.retiring.add(live);
    }
    this.sets.clear();
    for (const live of [...this.retiring]) this.release(live);
    await Promise.all([...this.releases]);
  }
}
