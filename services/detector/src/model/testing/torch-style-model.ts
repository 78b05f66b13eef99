import { onnx, type OnnxTypes } from '../onnx-proto.js';

/**
 * A bring-your-own model as `torch.onnx.export` writes it, built without linewatch's training code: a tiny
 * autoencoder with hand-picked weights, so a test can work its scores out on paper.
 *
 * ```python
 * class Monitor(nn.Module):            # 3 sensors -> 1 hidden unit -> 3
 *     def forward(self, x):
 *         z = (x - self.mean) / self.std
 *         r = z - self.decoder(torch.relu(self.encoder(z)))
 *         sq = r * r
 *         return sq.sum(dim=1), sq / (sq.sum(dim=1, keepdim=True) + 1e-6)
 * torch.onnx.export(Monitor(), torch.zeros(1, 3), 'etch.onnx', opset_version=17, input_names=['x'],
 *                   output_names=['score', 'contrib'], dynamic_axes={'x': {0: 'batch_size'}, 'score': {0: 'batch_size'},
 *                   'contrib': {0: 'batch_size'}})
 * ```
 *
 * With mean [10, 20, 30], std [2, 4, 5], encoder.weight [[1, 1, 0]] and decoder.weight [[0.5], [0.5], [0]] (zero
 * biases): z = (x − mean)/std, h = relu(z_a + z_b), ẑ = (h/2, h/2, 0), score = Σ (z − ẑ)².
 */
export const TORCH_STYLE = {
  features: ['a', 'b', 'c'],
  mean: [10, 20, 30],
  std: [2, 4, 5],
  encoderWeight: [[1, 1, 0]],
  decoderWeight: [[0.5], [0.5], [0]],
};

export interface TorchStyleOptions {
  /** `metadata_props` exactly as written (string values); omit to write none at all. */
  metadata?: Record<string, string>;
  /** Name of the graph input (default 'x'); PyTorch's own default is e.g. 'input.1'. */
  inputName?: string;
  /** Element type of the input (default FLOAT). */
  inputType?: OnnxTypes.TensorProto.DataType;
  /** First input dimension: a symbol (dynamic, the default 'batch_size') or a number (exported without dynamic_axes). */
  batchDim?: string | number;
  /** Declared number of input columns (default 3). */
  width?: number;
  /** Which outputs to expose (default ['score', 'contrib']). */
  outputs?: ('score' | 'contrib')[];
  /** Rename the score output (an export without output_names calls it e.g. 'output'). */
  scoreName?: string;
  /** Declared shape of the score output (default [batch]); PyTorch writes [batch, 1] for `keepdim=True`. */
  scoreShape?: (string | number)[];
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function dims(shape: (string | number)[]): OnnxTypes.TensorShapeProto.IDimension[] {
  return shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
}

function tensor(name: string, shape: number[], values: number[]): OnnxTypes.ITensorProto {
  return { name, dims: shape, dataType: FLOAT, floatData: values };
}

/** A PyTorch-named node: `/module/Op`, outputs `/module/Op_output_0` unless the graph output takes the name. */
function node(name: string, opType: string, input: string[], output: string, attribute: OnnxTypes.IAttributeProto[] = []): OnnxTypes.INodeProto {
  return { name, opType, input, output: [output], attribute };
}

const intAttr = (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const floatAttr = (name: string, f: number): OnnxTypes.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
const tensorAttr = (t: OnnxTypes.ITensorProto): OnnxTypes.IAttributeProto => ({ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t });

/** Encodes the autoencoder above as an ONNX file (opset 17, IR 8, producer 'pytorch'). */
export function torchStyleModel(opts: TorchStyleOptions = {}): Uint8Array {
  const { features, mean, std, encoderWeight, decoderWeight } = TORCH_STYLE;
  const f = features.length;
  const x = opts.inputName ?? 'x';
  const batch = opts.batchDim ?? 'batch_size';
  const outputs = opts.outputs ?? ['score', 'contrib'];
  const scoreName = opts.scoreName ?? 'score';
  const gemm = [floatAttr('alpha', 1), floatAttr('beta', 1), intAttr('transB', 1)];
  const nodes: OnnxTypes.INodeProto[] = [
    node('/Sub', 'Sub', [x, 'mean'], '/Sub_output_0'),
    node('/Div', 'Div', ['/Sub_output_0', 'std'], '/Div_output_0'),
    node('/encoder/Gemm', 'Gemm', ['/Div_output_0', 'encoder.weight', 'encoder.bias'], '/encoder/Gemm_output_0', gemm),
    node('/Relu', 'Relu', ['/encoder/Gemm_output_0'], '/Relu_output_0'),
    node('/decoder/Gemm', 'Gemm', ['/Relu_output_0', 'decoder.weight', 'decoder.bias'], '/decoder/Gemm_output_0', gemm),
    node('/Sub_1', 'Sub', ['/Div_output_0', '/decoder/Gemm_output_0'], '/Sub_1_output_0'),
    node('/Mul', 'Mul', ['/Sub_1_output_0', '/Sub_1_output_0'], '/Mul_output_0'),
    // PyTorch passes reduction axes (an input since opset 13) and scalars as Constant nodes, not initializers.
    node('/Constant', 'Constant', [], '/Constant_output_0', [tensorAttr({ dims: [1], dataType: INT64, int64Data: [1] })]),
    node('/ReduceSum', 'ReduceSum', ['/Mul_output_0', '/Constant_output_0'], scoreName, [intAttr('keepdims', 0)]),
  ];
  if (outputs.includes('contrib')) {
    nodes.push(
      node('/ReduceSum_1', 'ReduceSum', ['/Mul_output_0', '/Constant_output_0'], '/ReduceSum_1_output_0', [intAttr('keepdims', 1)]),
      node('/Constant_1', 'Constant', [], '/Constant_1_output_0', [tensorAttr({ dims: [], dataType: FLOAT, floatData: [1e-6] })]),
      node('/Add', 'Add', ['/ReduceSum_1_output_0', '/Constant_1_output_0'], '/Add_output_0'),
      node('/Div_1', 'Div', ['/Mul_output_0', '/Add_output_0'], 'contrib'),
    );
  }
  const valueInfo = (name: string, shape: (string | number)[], elemType = FLOAT): OnnxTypes.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims(shape) } } },
  });
  const graph: OnnxTypes.IGraphProto = {
    name: 'main_graph',
    node: nodes,
    initializer: [
      tensor('mean', [f], mean),
      tensor('std', [f], std),
      tensor('encoder.weight', [1, f], encoderWeight.flat()),
      tensor('encoder.bias', [1], [0]),
      tensor('decoder.weight', [f, 1], decoderWeight.flat()),
      tensor('decoder.bias', [f], [0, 0, 0]),
    ],
    input: [valueInfo(x, [batch, opts.width ?? f], opts.inputType ?? FLOAT)],
    output: [
      valueInfo(scoreName, opts.scoreShape ?? [batch]),
      ...(outputs.includes('contrib') ? [valueInfo('contrib', [batch, f])] : []),
    ],
  };
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'pytorch',
    producerVersion: '2.1.0',
    graph,
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  const problem = onnx.ModelProto.verify(proto);
  if (problem) throw new Error(`torch-style test model does not verify: ${problem}`);
  return onnx.ModelProto.encode(proto).finish();
}

/**
 * `metadata_props` for the model above, byte for byte what the `onnx` Python package writes for
 * `{k: v if isinstance(v, str) else json.dumps(v)}`: Python's JSON puts a space after commas and writes floats
 * as `10.0`. `overrides` replaces values; `undefined` drops a key.
 */
export function torchStyleMetadata(version = 'etch-ae@1', overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const props: Record<string, string | undefined> = {
    contract: 'linewatch.model/1',
    family: 'autoencoder',
    version,
    stationType: 'etch',
    features: '["a", "b", "c"]',
    mean: '[10.0, 20.0, 30.0]',
    std: '[2.0, 4.0, 5.0]',
    threshold: '4.0',
    trainedAt: '2026-11-30T08:00:00Z',
    trainingSamples: '1000',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(props).flatMap(([key, value]) => (value === undefined ? [] : [[key, value]])));
}
