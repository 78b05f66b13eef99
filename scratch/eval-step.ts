import { DEFAULT_LINE, LineSimulator, stationSensors } from '@linewatch/simulators';
import { fitPca, scoreRowsTs } from '../services/detector/src/model/pca.js';
import { FAULT_TYPES } from '@linewatch/protocol';

const vt = Number(process.argv[2] ?? '0.99');
const types = process.argv[3] ? process.argv[3].split(',') : DEFAULT_LINE.stations.map((s) => s.type);
function collect(type: string, faults: { station: string; type: any; sensors: string[]; at: number; duration: number }[], seed: number, seconds: number) {
  const def = DEFAULT_LINE.stations.find((s) => s.type === type)!;
  const sim = new LineSimulator({ line: { line: 'x', stations: [def] }, scenario: { faults }, seed, rateHz: 1, startTs: 0 });
  const out: { values: Record<string, number>; key: string; sec: number }[] = [];
  for (let t = 0; t < seconds; t++) for (const m of sim.tick()) {
    if (!m.topic.endsWith('/telemetry')) continue;
    const p = m.payload as { ts: number; values: Record<string, number>; context?: { recipe?: string; step?: string } };
    out.push({ values: p.values, key: `${p.context?.recipe ?? '-'}/${p.context?.step ?? 'idle'}`, sec: p.ts / 1000 });
  }
  return out;
}
for (const type of types) {
  const station = DEFAULT_LINE.stations.find((s) => s.type === type)!.id;
  const sensors = stationSensors(type).map((s) => s.name);
  const train = [...collect(type, [], 1, 8000), ...collect(type, [], 2, 8000), ...collect(type, [], 3, 8000)];
  const byKey = new Map<string, number[][]>();
  for (const r of train) { const a = byKey.get(r.key) ?? []; a.push(sensors.map((n) => r.values[n]!)); byKey.set(r.key, a); }
  const models = new Map([...byKey].filter(([, rows]) => rows.length > 200).map(([k, rows]) => [k, fitPca(sensors, rows, { varianceTarget: vt, alpha: 0.999 })]));
  const faults = FAULT_TYPES.filter((f) => f !== 'tool_down' && f !== 'dropout').flatMap((f, i) =>
    sensors.slice(0, 4).map((s, j) => ({ station, type: f, sensors: [s], at: 100 + (i * 4 + j) * 200, duration: 100 })));
  const test = collect(type, faults, 99, 100 + faults.length * 200);
  let fa = 0, n = 0, unk = 0; const det: Record<string, [number, number]> = {};
  for (const r of test) {
    const m = models.get(r.key); if (!m || sensors.some((s) => r.values[s] === undefined)) { unk++; continue; }
    const s = scoreRowsTs(m, [sensors.map((x) => r.values[x]!)])[0]!;
    const f = faults.find((x) => r.sec >= x.at && r.sec < x.at + x.duration)?.type ?? null;
    const over = s.score > 1 ? 1 : 0;
    if (f === null) { n++; fa += over; } else { det[f] ??= [0, 0]; det[f][0] += over; det[f][1]++; }
  }
  console.log(type, 'vt', vt, 'keys', models.size, [...byKey.keys()].join(','), 'unscored', unk, 'FA%', ((100 * fa) / n).toFixed(2), Object.entries(det).map(([k, [a, b]]) => `${k}:${((100 * a) / b).toFixed(0)}`).join(' '));
}
