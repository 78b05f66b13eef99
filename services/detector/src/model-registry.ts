import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { StationModel } from './model/types.js';

/** A missing or broken model file is looked for again after this long, so a model dropped in starts scoring. */
const RECHECK_MS = 30_000;

export interface ResolvedModel {
  model: StationModel;
  /** File it came from; the scorer batches per file. */
  path: string;
}

interface Entry {
  promise: Promise<StationModel | undefined>;
  /** Epoch ms after which a negative result is looked up again. */
  retryAt: number;
}

/**
 * Finds and loads the model of a station: `{station}.onnx` wins over `{type}.onnx`. Each file is
 * loaded once and shared by every station that uses it.
 */
export class ModelRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly logger: Logger;

  constructor(
    private readonly deps: { modelsDir: string; loadModel: (path: string) => Promise<StationModel>; logger: Logger; now?: () => number },
  ) {
    this.logger = deps.logger.child({ module: 'model-registry' });
  }

  /** Resolves the model for a station; undefined when neither file exists (the station is UNMODELLED). */
  async resolve(station: string, type: string | undefined): Promise<ResolvedModel | undefined> {
    const candidates = [station, ...(type && type !== station ? [type] : [])];
    for (const name of candidates) {
      const file = path.join(this.deps.modelsDir, `${name}.onnx`);
      const model = await this.load(file);
      if (model) return { model, path: file };
    }
    return undefined;
  }

  private load(file: string): Promise<StationModel | undefined> {
    const now = (this.deps.now ?? Date.now)();
    const cached = this.entries.get(file);
    if (cached && now < cached.retryAt) return cached.promise;
    const entry: Entry = { promise: Promise.resolve(undefined), retryAt: Number.POSITIVE_INFINITY };
    entry.promise = this.tryLoad(file).then((model) => {
      if (!model) entry.retryAt = (this.deps.now ?? Date.now)() + RECHECK_MS;
      return model;
    });
    this.entries.set(file, entry);
    return entry.promise;
  }

  private async tryLoad(file: string): Promise<StationModel | undefined> {
    try {
      await access(file);
    } catch {
      return undefined;
    }
    try {
      const model = await this.deps.loadModel(file);
      this.logger.info({ file, version: model.meta.version, features: model.meta.features.length, threshold: model.meta.threshold }, 'model loaded');
      return model;
    } catch (err) {
      this.logger.error({ err, file }, 'model failed to load; stations using it stay UNMODELLED');
      return undefined;
    }
  }

  async stop(): Promise<void> {
    const models = await Promise.all([...this.entries.values()].map((e) => e.promise));
    this.entries.clear();
    await Promise.all(models.map((m) => m?.release().catch((err: unknown) => this.logger.warn({ err }, 'model release failed'))));
  }
}
