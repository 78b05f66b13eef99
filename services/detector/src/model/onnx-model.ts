import { readFile } from 'node:fs/promises';
import { MODEL_INPUT, MODEL_OUTPUTS, ModelMetadataSchema, type ModelMetadata } from '@linewatch/protocol';
import * as ort from 'onnxruntime-node';
import { onnx, type OnnxTypes } from './onnx-proto.js';
import type { ScoredRow, StationModel } from './types.js';

/** Metadata keys whose schema type is a string are stored verbatim; all others are JSON. */
function isStringKey(key: string): boolean {
  const field = (ModelMetadataSchema.shape as Record<string, { def: { type: string } } | undefined>)[key];
  return field !== undefined && (field.def.type === 'string' || field.def.type === 'literal');
}

/** Decodes and validates the linewatch metadata of a model file; throws an Error naming the file and the problem. */
export function readModelMetadata(path: string, bytes: Uint8Array): { meta: ModelMetadata; proto: OnnxTypes.ModelProto } {
  let proto: OnnxTypes.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new Error(`model ${path}: not an ONNX model file`, { cause });
  }
  const raw: Record<string, unknown> = {};
  for (const { key, value } of proto.metadataProps) {
    if (!key || !(key in ModelMetadataSchema.shape)) continue;
    if (isStringKey(key)) raw[key] = value ?? '';
    else {
      try {
        raw[key] = JSON.parse(value ?? '');
      } catch (cause) {
        throw new Error(`model ${path}: metadata '${key}' is not valid JSON: ${JSON.stringify(value)}`, { cause });
      }
    }
  }
  const parsed = ModelMetadataSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`model ${path}: invalid linewatch metadata (${problems})`, { cause: parsed.error });
  }
  const meta = parsed.data;
  const n = meta.features.length;
  if (meta.mean.length !== n || meta.std.length !== n) {
    throw new Error(`model ${path}: metadata mean/std have ${meta.mean.length}/${meta.std.length} entries for ${n} features`);
  }
  return { meta, proto };
}

function checkGraph(path: string, proto: OnnxTypes.ModelProto, features: number): void {
  const input = proto.graph?.input?.find((i) => i.name === MODEL_INPUT);
  if (!input) throw new Error(`model ${path}: graph has no input named '${MODEL_INPUT}'`);
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const width = dims[1]?.dimValue;
  if (dims.length !== 2 || Number(width ?? 0) !== features) {
    const shape = dims.map((d) => d.dimParam || String(d.dimValue ?? '?')).join(',');
    throw new Error(`model ${path}: input '${MODEL_INPUT}' must be [N, ${features}] (one column per feature), got [${shape}]`);
  }
  if (!proto.graph?.output?.some((o) => o.name === MODEL_OUTPUTS.score)) {
    throw new Error(`model ${path}: graph has no output named '${MODEL_OUTPUTS.score}'`);
  }
}

class OnnxStationModel implements StationModel {
  constructor(
    readonly meta: ModelMetadata,
    private readonly session: ort.InferenceSession,
    private readonly outputs: string[],
  ) {}

  async score(rows: Float32Array, n: number): Promise<ScoredRow[]> {
    const width = this.meta.features.length;
    if (rows.length !== n * width) throw new Error(`score: expected ${n}×${width} values, got ${rows.length}`);
    if (n === 0) return [];
    const input = new ort.Tensor('float32', rows, [n, width]);
    const result = await this.session.run({ [MODEL_INPUT]: input }, this.outputs);
    const data = (name: string): Float32Array | undefined => result[name]?.data as Float32Array | undefined;
    const score = data(MODEL_OUTPUTS.score) as Float32Array;
    const [t2, spe, contrib, expected] = [MODEL_OUTPUTS.t2, MODEL_OUTPUTS.spe, MODEL_OUTPUTS.contrib, MODEL_OUTPUTS.expected].map(data);
    // Views, not copies: copying two arrays per row cost ten times the inference itself.
    const slice = (m: Float32Array | undefined, i: number): Float32Array | undefined => m?.subarray(i * width, (i + 1) * width);
    const scored: ScoredRow[] = [];
    for (let i = 0; i < n; i++) {
      const row: ScoredRow = { score: score[i] as number, t2: t2?.[i] ?? NaN, spe: spe?.[i] ?? NaN };
      const c = slice(contrib, i);
      const e = slice(expected, i);
      if (c) row.contrib = c;
      if (e) row.expected = e;
      scored.push(row);
    }
    for (const value of Object.values(result)) value.dispose();
    return scored;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * One thread per session, no spinning. The models are tiny (F ≤ 20 sensors, N ≤ BATCH_MAX rows), a detector
 * holds dozens of them (one per station type and step), and the machine has few cores: onnxruntime's default
 * per-session thread pools spin while idle and cost more than they give (measured in docs/benchmarks.md:
 * 0.39 ms per call with the defaults, 0.045 ms like this). Throughput comes from batching, not threads.
 */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

/**
 * Loads a linewatch model file (ours or brought by the user). onnxruntime-node does not expose custom
 * metadata, so the file is also decoded with onnx-proto to read and validate `metadata_props`.
 */
export async function loadOnnxModel(path: string): Promise<StationModel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new Error(`model ${path}: cannot read file`, { cause });
  }
  const { meta, proto } = readModelMetadata(path, bytes);
  checkGraph(path, proto, meta.features.length);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (cause) {
    throw new Error(`model ${path}: onnxruntime cannot load it`, { cause });
  }
  const known = new Set<string>(Object.values(MODEL_OUTPUTS));
  const outputs = session.outputNames.filter((name) => known.has(name));
  return new OnnxStationModel(meta, session, outputs);
}
