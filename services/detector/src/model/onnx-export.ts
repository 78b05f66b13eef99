import { MODEL_INPUT, MODEL_OUTPUTS, type ModelMetadata } from '@linewatch/protocol';
import { onnx, type OnnxTypes } from './onnx-proto.js';
import { CONTRIB_EPS, type PcaModel } from './pca.js';

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

/**
 * Builds the PCA scoring graph. It mirrors `scoreRowsTs` step by step so the two can be compared:
 * z = (x−mean)/std, t = zP, ẑ = tPᵀ, r = z−ẑ, T² = Σ t²/λ, SPE = Σ r², score = max(T²/T²lim, SPE/SPElim).
 */
export function exportPcaOnnx(model: PcaModel, metadata: ModelMetadata, extraProps: Record<string, string> = {}): Uint8Array {
  const nFeatures = model.features.length;
  const k = model.components;
  const loadings = model.loadings.flat();
  const transposed = Array.from({ length: k * nFeatures }, (_, i) => model.loadings[i % nFeatures]![Math.floor(i / nFeatures)] as number);
  const initializer: OnnxTypes.ITensorProto[] = [
    floatTensor('mean', [nFeatures], model.mean),
    floatTensor('std', [nFeatures], model.std),
    floatTensor('P', [nFeatures, k], loadings),
    floatTensor('Pt', [k, nFeatures], transposed),
    floatTensor('inv_lambda', [k], model.eigenvalues.slice(0, k).map((v) => 1 / v)),
    floatTensor('t2_limit', [], [model.t2Limit]),
    floatTensor('spe_limit', [], [model.speLimit]),
    floatTensor('eps', [], [CONTRIB_EPS]),
    { name: 'axis1', dims: [1], dataType: INT64, int64Data: [1] },
  ];
  const out = MODEL_OUTPUTS;
  const nodes: OnnxTypes.INodeProto[] = [
    node('Sub', [MODEL_INPUT, 'mean'], 'x_centered'),
    node('Div', ['x_centered', 'std'], 'z'),
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
    node('Add', ['contrib_sum_parts', 'eps'], 'contrib_raw'),
    node('ReduceSum', ['contrib_raw', 'axis1'], 'contrib_total', [keepdims(1)]),
    node('Div', ['contrib_raw', 'contrib_total'], out.contrib),
    node('Mul', ['z_hat', 'std'], 'expected_centered'),
    node('Add', ['expected_centered', 'mean'], out.expected),
  ];
  const graph: OnnxTypes.IGraphProto = {
    name: `linewatch_pca_${metadata.stationType}`,
    node: nodes,
    initializer,
    input: [valueInfo(MODEL_INPUT, ['N', nFeatures])],
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
    docString: `linewatch PCA monitor for ${metadata.stationType}: T² and SPE with ${k} of ${nFeatures} components; score > ${metadata.threshold} is anomalous`,
    graph,
    metadataProps: metadataProps(metadata, extraProps),
  });
  const problem = onnx.ModelProto.verify(proto);
  if (problem) throw new Error(`ONNX model for ${metadata.stationType} does not verify: ${problem}`);
  return onnx.ModelProto.encode(proto).finish();
}
