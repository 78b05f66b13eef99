import { DEFAULT_LINE, LineSimulator, stationSensors } from '@linewatch/simulators';
import { fitPca, scoreRowsTs } from '../services/detector/src/model/pca.js';
import { sampleTrainingRows } from '../services/detector/src/model/training-data.js';
import { FAULT_TYPES } from '@linewatch/protocol';

const targets = (process.argv[2] ?? '0.9,0.99,0.999').split(',').map(Number);
const types = process.argv[3] ? process.argv[3].split(',') : DEFAULT_LINE.stations.map((s) => s.type);
for (const type of types) {
  const station = DEFAULT_LINE.stations.find((s) => s.type === type)!.id;
  const sensors = stationSensors(type).map((s) => s.name);
  const { features, rows } = sampleTrainingRows(type, 40000, 8, 7);
  const faults = FAULT_TYPES.filter((f) => f !== 'tool_down' && f !== 'dropout').flatMap((f, i) =>
    sensors.slice(0, 4).map((s, j) => ({ station, type: f, sensors: [s], at: 100 + (i * 4 + j) * 200, duration: 100 })),
  );
  const sim = new LineSimulator({ line: { line: 'x', stations: [DEFAULT_LINE.stations.find((s) => s.type === type)!] }, scenario: { faults }, seed: 99, rateHz: 1, startTs: 0 });
  const test: { row: number[]; inFault: string | null }[] = [];
  const total = 100 + faults.length * 200;
  for (let t = 0; t < total; t++) {
    for (const m of sim.tick()) {
      if (!m.topic.endsWith('/telemetry')) continue;
      const p = m.payload as { ts: number; values: Record<string, number> };
      const sec = p.ts / 1000;
      const f = faults.find((x) => sec >= x.at && sec < x.at + x.duration);
      if (features.some((n) => p.values[n] === undefined)) continue;
      test.push({ row: features.map((n) => p.values[n]!), inFault: f ? f.type : null });
    }
  }
  for (const vt of targets) {
    const model = fitPca(features, rows.slice(0, 32000), { varianceTarget: vt, alpha: 0.999 });
    const scores = scoreRowsTs(model, test.map((x) => x.row));
    let fa = 0, n = 0; const det: Record<string, [number, number]> = {};
    scores.forEach((s, i) => {
      const f = test[i]!.inFault;
      const over = s.score > 1 ? 1 : 0;
      if (f === null) { n++; fa += over; } else { det[f] ??= [0, 0]; det[f][0] += over; det[f][1]++; }
    });
    console.log(type, 'vt', vt, 'k', (model as unknown as { components: number }).components ?? '?', 'FA%', ((100 * fa) / n).toFixed(2), Object.entries(det).map(([k, [a, b]]) => `${k}:${((100 * a) / b).toFixed(0)}`).join(' '));
  }
}
