/**
 * Detection / false-alarm table of a trained model folder, through the detector's own ModelRegistry and onnxruntime.
 * `npx tsx scripts/eval-models.ts [modelsDir=models] [types=all] [seed=99]`
 * Per station type: a fresh seeded run with one fault (each type except tool_down/dropout) on each of the first
 * 4 sensors, 100 s each, 100 s apart, for detection; false alarms over the normal gaps of that run plus a separate
 * fault-free run of 20 000 s (seed+1). A sample counts as detected when its score > threshold.
 */
import { FAULT_TYPES, type ProcessContext } from '@linewatch/protocol';
import { DEFAULT_LINE, LineSimulator, stationSensors } from '@linewatch/simulators';
import pino from 'pino';
import { ModelRegistry, type ResolvedModel } from '../services/detector/src/model-registry.js';
import { loadOnnxModel } from '../services/detector/src/model/onnx-model.js';

const dir = process.argv[2] ?? 'models';
const types = process.argv[3] && process.argv[3] !== 'all' ? process.argv[3].split(',') : [...new Set(DEFAULT_LINE.stations.map((s) => s.type))];
const seed = Number(process.argv[4] ?? '99');

type Fault = { station: string; type: (typeof FAULT_TYPES)[number]; sensors: string[]; at: number; duration: number };

function collect(type: string, faults: Fault[], seconds: number, seed: number) {
  const def = DEFAULT_LINE.stations.find((s) => s.type === type)!;
  const sim = new LineSimulator({ line: { line: 'x', stations: [def] }, scenario: { faults }, seed, rateHz: 1, startTs: 0 });
  const out: { values: Record<string, number>; context: ProcessContext | undefined; sec: number }[] = [];
  for (let t = 0; t < seconds; t++) for (const m of sim.tick()) {
    if (!m.topic.endsWith('/telemetry')) continue;
    const p = m.payload as { ts: number; values: Record<string, number>; context?: ProcessContext };
    out.push({ values: p.values, context: p.context, sec: p.ts / 1000 });
  }
  return out;
}

const registry = new ModelRegistry({ modelsDir: dir, loadModel: loadOnnxModel, logger: pino({ level: 'silent' }) });
const table: string[] = [];
for (const type of types) {
  const station = DEFAULT_LINE.stations.find((s) => s.type === type)!.id;
  const sensors = stationSensors(type).map((s) => s.name);
  const faults: Fault[] = FAULT_TYPES.filter((f) => f !== 'tool_down' && f !== 'dropout').flatMap((f, i) =>
    sensors.slice(0, 4).map((s, j) => ({ station, type: f, sensors: [s], at: 100 + (i * 4 + j) * 200, duration: 100 })));
  const snapshots = [...collect(type, faults, 100 + faults.length * 200, seed), ...collect(type, [], 20_000, seed + 1).map((r) => ({ ...r, sec: -1 }))];
  // Group by chosen model, one onnxruntime call per model, as the scorer does.
  const groups = new Map<string, { resolved: ResolvedModel; idx: number[] }>();
  let unscored = 0;
  for (let i = 0; i < snapshots.length; i++) {
    const r = snapshots[i]!;
    const resolved = await registry.resolve(station, type, r.context);
    if (!resolved || resolved.model.meta.features.some((f) => r.values[f] === undefined)) { unscored++; continue; }
    let g = groups.get(resolved.path);
    if (!g) groups.set(resolved.path, (g = { resolved, idx: [] }));
    g.idx.push(i);
  }
  const scores = new Array<number>(snapshots.length).fill(NaN);
  let fallbackRows = 0;
  for (const { resolved, idx } of groups.values()) {
    const { features, context, threshold } = resolved.model.meta;
    if (!context) fallbackRows += idx.length;
    const rows = new Float32Array(idx.length * features.length);
    idx.forEach((i, k) => features.forEach((f, j) => (rows[k * features.length + j] = snapshots[i]!.values[f]!)));
    const scored = await resolved.model.score(rows, idx.length);
    idx.forEach((i, k) => (scores[i] = scored[k]!.score / threshold));
  }
  let fa = 0, normal = 0;
  const det: Record<string, [number, number]> = {};
  snapshots.forEach((r, i) => {
    if (Number.isNaN(scores[i]!)) return;
    const over = scores[i]! > 1 ? 1 : 0;
    const f = faults.find((x) => r.sec >= x.at && r.sec < x.at + x.duration)?.type ?? null;
    if (f === null) { normal++; fa += over; } else { det[f] ??= [0, 0]; det[f][0] += over; det[f][1]++; }
  });
  const line = `${type.padEnd(10)} models=${groups.size} fallbackRows=${fallbackRows} unscored=${unscored} FA%=${((100 * fa) / normal).toFixed(2)} (n=${normal}) ` +
    Object.entries(det).map(([k, [a, b]]) => `${k}:${((100 * a) / b).toFixed(0)}`).join(' ');
  table.push(line);
  console.log(line);
}
await registry.stop();
