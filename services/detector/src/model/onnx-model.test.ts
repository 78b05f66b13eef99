import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IR_VERSION, OPSET } from './onnx-export.js';
import { loadOnnxModel } from './onnx-model.js';
import { onnx } from './onnx-proto.js';
import { SYNTHETIC_FEATURES, syntheticRows } from './synthetic.test-support.js';
import { scoreRowsTs, trainPca, type TrainedPca } from './train.js';
import type { StationModel } from './types.js';

/** Equal within 1e-4, relative once values exceed 1 (float32 graph against float64 TS). */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(expected)));
}

describe('ONNX export and loadOnnxModel', () => {
  let dir: string;
  let trained: TrainedPca;
  let loaded: StationModel;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linewatch-model-'));
    trained = trainPca(SYNTHETIC_FEATURES, syntheticRows(8000, 3), { stationType: 'etch', trainedAt: new Date('2026-11-29T12:00:00Z') });
    await writeFile(join(dir, 'etch.onnx'), trained.onnx);
    loaded = await loadOnnxModel(join(dir, 'etch.onnx'));
  });
  afterAll(async () => {
    await loaded?.release();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the header fields and round-trips the metadata', () => {
    const proto = onnx.ModelProto.decode(trained.onnx);
    expect(Number(proto.irVersion)).toBe(IR_VERSION);
    expect(proto.opsetImport.map((o) => Number(o.version))).toEqual([OPSET]);
    expect(proto.producerName).toBe('linewatch');
    expect(proto.docString).toMatch(/etch/);
    expect(loaded.meta).toEqual(trained.metadata);
    expect(loaded.meta.version).toBe('etch-pca@2026-11-29T12:00:00.000Z');
    expect(loaded.meta.family).toBe('pca');
  });

  it('scores normal and faulty rows exactly as the TS reference', async () => {
    const normal = syntheticRows(64, 11);
    const faulty = syntheticRows(64, 12).map((r, i) => r.map((v, j) => (j === i % 6 ? v + (i % 5 + 2) * 3 * trained.model.std[j]! : v)));
    const rows = [...normal, ...faulty, trained.model.mean.map((m) => m)];
    const got = await loaded.score(Float32Array.from(rows.flat()), rows.length);
    const want = scoreRowsTs(trained.model, rows);
    expect(got).toHaveLength(rows.length);
    got.forEach((g, i) => {
      const w = want[i]!;
      expectNear(g.score, w.score);
      expectNear(g.t2, w.t2);
      expectNear(g.spe, w.spe);
      Array.from(g.contrib!).forEach((c, j) => expectNear(c, w.contrib[j]!));
      Array.from(g.expected!).forEach((e, j) => expectNear(e, w.expected[j]!));
    });
    expect(got.slice(64, 128).every((g) => g.score > 1)).toBe(true);
    // The all-mean row has nothing to attribute: it splits evenly rather than dividing by zero.
    expect(Array.from(got.at(-1)!.contrib!)).toEqual(SYNTHETIC_FEATURES.map(() => expect.closeTo(1 / 6, 4)));
  });

  it('produces the output shapes of the model contract', async () => {
    const session = await ort.InferenceSession.create(trained.onnx);
    try {
      const x = new ort.Tensor('float32', Float32Array.from(syntheticRows(3, 5).flat()), [3, 6]);
      const result = await session.run({ x });
      const dims = Object.fromEntries(Object.entries(result).map(([name, t]) => [name, [...t.dims]]));
      expect(dims).toEqual({ score: [3], t2: [3], spe: [3], contrib: [3, 6], expected: [3, 6] });
    } finally {
      await session.release();
    }
  });

  it('rejects a batch whose size does not match', async () => {
    await expect(loaded.score(new Float32Array(7), 1)).rejects.toThrow(/expected 1×6 values/);
  });

  async function writeVariant(name: string, edit: (proto: InstanceType<typeof onnx.ModelProto>) => void): Promise<string> {
    const proto = onnx.ModelProto.decode(trained.onnx);
    edit(proto);
    const path = join(dir, name);
    await writeFile(path, onnx.ModelProto.encode(proto).finish());
    return path;
  }

  it('rejects model files with bad metadata, naming the file and the problem', async () => {
    const negative = await writeVariant('negative.onnx', (p) => {
      p.metadataProps = p.metadataProps.map((e) => (e.key === 'threshold' ? { key: 'threshold', value: '-1' } : e));
    });
    await expect(loadOnnxModel(negative)).rejects.toThrow(/negative\.onnx: invalid linewatch metadata \(threshold: /);
    const missing = await writeVariant('missing.onnx', (p) => {
      p.metadataProps = p.metadataProps.filter((e) => e.key !== 'features');
    });
    await expect(loadOnnxModel(missing)).rejects.toThrow(/missing\.onnx: invalid linewatch metadata \(features: /);
    const garbled = await writeVariant('garbled.onnx', (p) => {
      p.metadataProps = p.metadataProps.map((e) => (e.key === 'mean' ? { key: 'mean', value: '[1,2' } : e));
    });
    await expect(loadOnnxModel(garbled)).rejects.toThrow(/garbled\.onnx: metadata 'mean' is not valid JSON/);
    const short = await writeVariant('short.onnx', (p) => {
      p.metadataProps = p.metadataProps.map((e) => (e.key === 'std' ? { key: 'std', value: '[1]' } : e));
    });
    await expect(loadOnnxModel(short)).rejects.toThrow(/short\.onnx: metadata mean\/std have 6\/1 entries/);
    const notOnnx = join(dir, 'text.onnx');
    await writeFile(notOnnx, 'hello, not a model');
    await expect(loadOnnxModel(notOnnx)).rejects.toThrow(/text\.onnx: /);
  });

  it('rejects a model whose input width differs from its features', async () => {
    const wide = await writeVariant('wide.onnx', (p) => {
      p.metadataProps = p.metadataProps.map((e) =>
        e.key === 'features' ? { key: 'features', value: JSON.stringify([...SYNTHETIC_FEATURES, 'extra']) } : e,
      );
    });
    await expect(loadOnnxModel(wide)).rejects.toThrow(/wide\.onnx: metadata mean\/std have 6\/6 entries for 7 features/);
    const narrow = await writeVariant('narrow.onnx', (p) => {
      p.graph!.input![0]!.type!.tensorType!.shape!.dim![1] = { dimValue: 5 };
    });
    await expect(loadOnnxModel(narrow)).rejects.toThrow(/narrow\.onnx: input 'x' must be \[N, 6\]/);
  });

  it('rejects a graph the detector cannot feed or whose outputs it cannot read', async () => {
    const extra = await writeVariant('extra-input.onnx', (p) => {
      p.graph!.input!.push({ name: 'h0', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 2 }] } } } });
    });
    await expect(loadOnnxModel(extra)).rejects.toThrow(/extra-input\.onnx: graph has inputs besides 'x' \('h0'\)/);
    const int64 = await writeVariant('int-score.onnx', (p) => {
      p.graph!.output![0]!.type!.tensorType!.elemType = onnx.TensorProto.DataType.INT64;
    });
    await expect(loadOnnxModel(int64)).rejects.toThrow(/int-score\.onnx: output 'score' must be float32, got int64/);
    const wide = await writeVariant('wide-contrib.onnx', (p) => {
      p.graph!.output!.find((o) => o.name === 'contrib')!.type!.tensorType!.shape!.dim![1] = { dimValue: 7 };
    });
    await expect(loadOnnxModel(wide)).rejects.toThrow(/wide-contrib\.onnx: output 'contrib' must be \[N, 6\], got \[N, 7\]/);
  });
});
