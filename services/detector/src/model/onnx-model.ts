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

/** Values per input row: the current snapshot's features, then the same for each of `lags` earlier snapshots. */
export function inputWidth(meta: Pick<ModelMetadata, 'features' | 'lags'>): number {
  return meta.features.length * ((meta.lags ?? 0) + 1);
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
    // "features: missing" says more to someone adding metadata_props by hand than zod's "expected array, received undefined".
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.path.length === 1 && raw[String(i.path[0])] === undefined ? 'missing' : i.message}`)
      .join('; ');
    throw new Error(`model ${path}: invalid linewatch metadata (${problems})`, { cause: parsed.error });
  }
  const meta = parsed.data;
  const n = meta.features.length;
  if (meta.mean.length !== n || meta.std.length !== n) {
    throw new Error(`model ${path}: metadata mean/std have ${meta.mean.length}/${meta.std.length} entries for ${n} features`);
  }
  for (const key of ['spcCenter', 'spcSigma'] as const) {
    const values = meta[key];
    if (values && values.length !== n) throw new Error(`model ${path}: metadata ${key} has ${values.length} entries for ${n} features`);
  }
  const pair = meta.pairs?.find(([i, j]) => i >= n || j >= n || i === j);
  if (pair) throw new Error(`model ${path}: metadata pairs names feature indexes ${pair[0]} and ${pair[1]}; there are ${n} features`);
  return { meta, proto };
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function dimsOf(info: OnnxTypes.IValueInfoProto): OnnxTypes.TensorShapeProto.IDimension[] | undefined {
  return info.type?.tensorType?.shape?.dim ?? undefined;
}

/** A dimension fixed to a number in the file (not symbolic, not unknown). */
function fixedDim(d: OnnxTypes.TensorShapeProto.IDimension | undefined): number | undefined {
  return d && !d.dimParam && d.dimValue !== null && d.dimValue !== undefined ? Number(d.dimValue) : undefined;
}

function shapeText(dims: OnnxTypes.TensorShapeProto.IDimension[]): string {
  return `[${dims.map((d) => d.dimParam || String(fixedDim(d) ?? '?')).join(', ')}]`;
}

function typeName(elemType: number | null | undefined): string {
  return (elemType !== null && elemType !== undefined && (onnx.TensorProto.DataType[elemType] as string | undefined)?.toLowerCase()) || 'unknown';
}

/**
 * Checks the graph against the model contract before onnxruntime sees it, so a file exported the wrong way is
 * refused at load with what to change, instead of failing every batch later.
 */
function checkGraph(path: string, proto: OnnxTypes.ModelProto, meta: ModelMetadata): void {
  const features = meta.features.length;
  const width = inputWidth(meta);
  const graph = proto.graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  // Old exporters list initializers among the inputs too; those need no feed.
  const inputs = (graph?.input ?? []).filter((i) => !initializers.has(i.name));
  const input = inputs.find((i) => i.name === MODEL_INPUT);
  if (!input) {
    const names = inputs.map((i) => `'${i.name ?? ''}'`).join(', ') || 'none';
    throw new Error(`model ${path}: graph has no input named '${MODEL_INPUT}' (inputs: ${names}); export with input_names=['${MODEL_INPUT}']`);
  }
  const others = inputs.filter((i) => i !== input).map((i) => `'${i.name ?? ''}'`);
  if (others.length > 0) throw new Error(`model ${path}: graph has inputs besides '${MODEL_INPUT}' (${others.join(', ')}); the detector feeds only '${MODEL_INPUT}'`);
  const elemType = input.type?.tensorType?.elemType;
  if (elemType !== FLOAT) throw new Error(`model ${path}: input '${MODEL_INPUT}' must be float32, got ${typeName(elemType)}`);
  const dims = dimsOf(input) ?? [];
  if (dims.length !== 2 || fixedDim(dims[1]) !== width) {
    const columns = width === features ? 'one column per feature' : `one column per feature for each of ${width / features} snapshots (lags)`;
    throw new Error(`model ${path}: input '${MODEL_INPUT}' must be [N, ${width}] (${columns}), got ${shapeText(dims)}`);
  }
  const batch = fixedDim(dims[0]);
  if (batch !== undefined) {
    throw new Error(
      `model ${path}: input '${MODEL_INPUT}' has a fixed batch size of ${batch}; the detector scores many rows at once: ` +
        `export with dynamic_axes={'${MODEL_INPUT}': {0: 'batch_size'}, ...}`,
    );
  }
  const outputs = new Map((graph?.output ?? []).map((o) => [o.name ?? '', o]));
  if (!outputs.has(MODEL_OUTPUTS.score)) {
    const names = [...outputs.keys()].map((n) => `'${n}'`).join(', ') || 'none';
    throw new Error(`model ${path}: graph has no output named '${MODEL_OUTPUTS.score}' (outputs: ${names}); export with output_names=['${MODEL_OUTPUTS.score}', ...]`);
  }
  // The outputs the detector reads: per row, or per row and feature. Shapes are checked where the file declares them.
  const rank: Record<string, 1 | 2> = { score: 1, t2: 1, spe: 1, contrib: 2, expected: 2 };
  for (const [name, want] of Object.entries(rank)) {
    const output = outputs.get(name);
    if (!output) continue;
    const type = output.type?.tensorType?.elemType;
    // UNDEFINED (0) or absent: onnxruntime infers it; anything declared must be float32.
    if (type && type !== FLOAT) throw new Error(`model ${path}: output '${name}' must be float32, got ${typeName(type)}`);
    const got = dimsOf(output);
    if (!got) continue;
    const columns = fixedDim(got[1]);
    if (got.length !== want || (want === 2 && columns !== undefined && columns !== features)) {
      throw new Error(`model ${path}: output '${name}' must be ${want === 1 ? '[N]' : `[N, ${features}]`}, got ${shapeText(got)}`);
    }
  }
}

class OnnxStationModel implements StationModel {
  constructor(
    readonly meta: ModelMetadata,
    private readonly session: ort.InferenceSession,
    private readonly outputs: string[],
  ) {}

  async score(rows: Float32Array, n: number): Promise<ScoredRow[]> {
    const width = inputWidth(this.meta);
    const features = this.meta.features.length;
    if (rows.length !== n * width) throw new Error(`score: expected ${n}×${width} values, got ${rows.length}`);
    if (n === 0) return [];
    const input = new ort.Tensor('float32', rows, [n, width]);
    const result = await this.session.run({ [MODEL_INPUT]: input }, this.outputs);
    const data = (name: string): Float32Array | undefined => result[name]?.data as Float32Array | undefined;
    const score = data(MODEL_OUTPUTS.score) as Float32Array;
    const [t2, spe, contrib, expected] = [MODEL_OUTPUTS.t2, MODEL_OUTPUTS.spe, MODEL_OUTPUTS.contrib, MODEL_OUTPUTS.expected].map(data);
    // Views, not copies: copying two arrays per row cost ten times the inference itself.
    const slice = (m: Float32Array | undefined, i: number): Float32Array | undefined => m?.subarray(i * features, (i + 1) * features);
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
  checkGraph(path, proto, meta);
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
