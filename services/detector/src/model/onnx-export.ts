import { MODEL_INPUT, MODEL_OUTPUTS, type ModelMetadata } from '@linewatch/protocol';
import { onnx, type OnnxTypes } from './onnx-proto.js';
import { isStatic, type LagSpec } from './lagged.js';
import { CONTRIB_EPS, lagSpecOf, type PcaModel } from './pca.js';

/** Opset 17: ReduceSum takes `axes` as an input; IR version 8 is the one that pairs with it. */
export const OPSET = 17;
export const IR_VERSION = 8;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** Metadata goes into `metadata_props` as strings: strings verbatim, everything else as JSON. */
export function metadataProps(metadata: ModelMetadata, extra: Record<string, string> = {}): OnnxTypes.IStringStringEntryProto[] {
  const props = Object.entries(metadata)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) }));
  return [...props, ...Object.entries(extra).map(([key, value]) => ({ key, value }))];
}

function floatTensor(name: string, dims: number[], values: number[]): OnnxTypes.ITensorProto {
  return { name, dims, dataType: FLOAT, floatData: values };
}

function valueInfo(name: string, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

function node(opType: string, input: string[], output: string, attribute: OnnxTypes.IAttributeProto[] = []): OnnxTypes.INodeProto {
  return { opType, input, output: [output], name: `${opType}_${output}`, attribute };
}

function keepdims(value: 0 | 1): OnnxTypes.IAttributeProto {
  return { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/** An int64 vector, e.g. Slice's starts and ends. */
function int64Tensor(name: string, values: number[]): OnnxTypes.ITensorProto {
  return { name, dims: [values.length], dataType: INT64, int64Data: values };
}

type Lagged = PcaModel & LagSpec & { lagMean: number[]; lagStd: number[] };

/**
 * The front of a lagged model's graph, input to standardised PCA variables in one MatMul:
 * z = ((x − mean)·W) − lagMean/lagStd, W[l·F+j, b·F+j] = 1/(w·std_j·lagStd_{b·F+j}) for the w lags b ≤ l < b+w
 * that smoothed lag b averages (see `standardize`). Centring first keeps float32 precise for sensors far from 0.
 */
function laggedFront(model: Lagged): { initializer: OnnxTypes.ITensorProto[]; nodes: OnnxTypes.INodeProto[] } {
  const nFeatures = model.features.length;
  const { lags, smoothing, std, lagMean, lagStd } = model;
  const width = nFeatures * (lags + 1);
  const p = lagStd.length;
  const weights = new Array<number>(width * p).fill(0);
  for (let b = 0; b * nFeatures < p; b++) {
    for (let m = 0; m < smoothing; m++) {
      for (let j = 0; j < nFeatures; j++) {
        const a = b * nFeatures + j;
        weights[((b + m) * nFeatures + j) * p + a] = 1 / (smoothing * (std[j] as number) * (lagStd[a] as number));
      }
    }
  }
  return {
    initializer: [
      floatTensor('mean_tiled', [width], Array.from({ length: width }, (_, i) => model.mean[i % nFeatures] as number)),
      floatTensor('W', [width, p], weights),
      floatTensor('lag_offset', [p], lagMean.map((v, a) => v / (lagStd[a] as number))),
    ],
    nodes: [node('Sub', [MODEL_INPUT, 'mean_tiled'], 'x_centered'), node('MatMul', ['x_centered', 'W'], 'z_scaled'), node('Sub', ['z_scaled', 'lag_offset'], 'z')],
  };
}

/**
 * Builds the PCA scoring graph. It mirrors `scoreRowsTs` step by step so the two can be compared:
 * z = (x−mean)/std, t = zP, ẑ = tPᵀ, r = z−ẑ, T² = Σ t²/λ, SPE = Σ r², score = max(T²/T²lim, SPE/SPElim).
 * A lagged model (metadata `lags`, `smoothing`) takes [N, F·(L+1)], builds its F·(d+1) variables in one MatMul,
 * folds their contributions onto the F sensors with a 0/1 MatMul, and reconstructs the current snapshot only.
 * A static model's graph is the same as before lags existed, node for node.
 */
export function exportPcaOnnx(model: PcaModel, metadata: ModelMetadata, extraProps: Record<string, string> = {}): Uint8Array {
  const nFeatures = model.features.length;
  const spec = lagSpecOf(model);
  const lagged = !isStatic(spec);
  const p = model.loadings.length;
  const { lagMean = [], lagStd = [] } = model;
  if (lagged && (lagMean.length !== p || lagStd.length !== p)) throw new Error(`a lagged model needs lagMean and lagStd for its ${p} variables`);
  const k = model.components;
  const loadings = model.loadings.flat();
  const transposed = Array.from({ length: k * p }, (_, i) => model.loadings[i % p]![Math.floor(i / p)] as number);
  const front = lagged ? laggedFront({ ...model, ...spec, lagMean, lagStd }) : undefined;
  const initializer: OnnxTypes.ITensorProto[] = [
    floatTensor('mean', [nFeatures], model.mean),
    floatTensor('std', [nFeatures], model.std),
    ...(front?.initializer ?? []),
    floatTensor('P', [p, k], loadings),
    floatTensor('Pt', [k, p], transposed),
    floatTensor('inv_lambda', [k], model.eigenvalues.slice(0, k).map((v) => 1 / v)),
    floatTensor('t2_limit', [], [model.t2Limit]),
    floatTensor('spe_limit', [], [model.speLimit]),
    floatTensor('eps', [], [CONTRIB_EPS]),
    { name: 'axis1', dims: [1], dataType: INT64, int64Data: [1] },
  ];
  if (lagged) {
    initializer.push(
      floatTensor('fold', [p, nFeatures], Array.from({ length: p * nFeatures }, (_, i) => (Math.floor(i / nFeatures) % nFeatures === i % nFeatures ? 1 : 0))),
      floatTensor('lag_std_now', [nFeatures], lagStd.slice(0, nFeatures)),
      floatTensor('lag_mean_now', [nFeatures], lagMean.slice(0, nFeatures)),
      int64Tensor('now_start', [0]),
      int64Tensor('now_end', [nFeatures]),
    );
  }
  const out = MODEL_OUTPUTS;
  const nodes: OnnxTypes.INodeProto[] = [
    ...(front?.nodes ?? [node('Sub', [MODEL_INPUT, 'mean'], 'x_centered'), node('Div', ['x_centered', 'std'], 'z')]),
    node('MatMul', ['z', 'P'], 't'),
    node('MatMul', ['t', 'Pt'], 'z_hat'),
    node('Sub', ['z', 'z_hat'], 'residual'),
    node('Mul', ['residual', 'residual'], 'residual_sq'),
    node('ReduceSum', ['residual_sq', 'axis1'], out.spe, [keepdims(0)]),
    node('Mul', ['t', 'inv_lambda'], 't_scaled'),
    node('Mul', ['t', 't_scaled'], 't2_terms'),
    node('ReduceSum', ['t2_terms', 'axis1'], out.t2, [keepdims(0)]),
    node('Div', [out.t2, 't2_limit'], 't2_ratio'),
    node('Div', [out.spe, 'spe_limit'], 'spe_ratio'),
    node('Max', ['t2_ratio', 'spe_ratio'], out.score),
    // Contributions: see scoreRowsTs for why the two parts are clamped separately and then added.
    node('MatMul', ['t_scaled', 'Pt'], 'pull'),
    node('Mul', ['z', 'pull'], 't2_contrib_raw'),
    node('Div', ['t2_contrib_raw', 't2_limit'], 't2_contrib_scaled'),
    node('Relu', ['t2_contrib_scaled'], 't2_contrib'),
    node('Div', ['residual_sq', 'spe_limit'], 'spe_contrib'),
    node('Add', ['t2_contrib', 'spe_contrib'], 'contrib_sum_parts'),
    ...(lagged
      ? [node('MatMul', ['contrib_sum_parts', 'fold'], 'contrib_folded'), node('Add', ['contrib_folded', 'eps'], 'contrib_raw')]
      : [node('Add', ['contrib_sum_parts', 'eps'], 'contrib_raw')]),
    node('ReduceSum', ['contrib_raw', 'axis1'], 'contrib_total', [keepdims(1)]),
    node('Div', ['contrib_raw', 'contrib_total'], out.contrib),
    ...(lagged
      ? [
          node('Slice', ['z_hat', 'now_start', 'now_end', 'axis1'], 'z_hat_now'),
          node('Mul', ['z_hat_now', 'lag_std_now'], 'z_hat_unscaled'),
          node('Add', ['z_hat_unscaled', 'lag_mean_now'], 'z_hat_sensor'),
          node('Mul', ['z_hat_sensor', 'std'], 'expected_centered'),
        ]
      : [node('Mul', ['z_hat', 'std'], 'expected_centered')]),
    node('Add', ['expected_centered', 'mean'], out.expected),
  ];
  const graph: OnnxTypes.IGraphProto = {
    name: `linewatch_${lagged ? 'dpca' : 'pca'}_${metadata.stationType}`,
    node: nodes,
    initializer,
    input: [valueInfo(MODEL_INPUT, ['N', nFeatures * (spec.lags + 1)])],
    output: [
      valueInfo(out.score, ['N']),
      valueInfo(out.t2, ['N']),
      valueInfo(out.spe, ['N']),
      valueInfo(out.contrib, ['N', nFeatures]),
      valueInfo(out.expected, ['N', nFeatures]),
    ],
  };
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'linewatch',
    producerVersion: '0.1.0',
    docString: lagged
      ? `linewatch dynamic PCA monitor for ${metadata.stationType}: T² and SPE with ${k} of ${p} components over ${spec.lags} lags, smoothing ${spec.smoothing}; score > ${metadata.threshold} is anomalous`
      : `linewatch PCA monitor for ${metadata.stationType}: T² and SPE with ${k} of ${nFeatures} components; score > ${metadata.threshold} is anomalous`,
    graph,
    metadataProps: metadataProps(metadata, extraProps),
  });
  const problem = onnx.ModelProto.verify(proto);
  if (problem) throw new Error(`ONNX model for ${metadata.stationType} does not verify: ${problem}`);
  return onnx.ModelProto.encode(proto).finish();
}
