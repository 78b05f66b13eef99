/** False ALARM episodes per 8 h shift on fault-free data: `npx tsx scripts/false-alarms.ts RATE_HZ HOURS` */
import type { ProcessContext } from '@linewatch/protocol';
import { DEFAULT_LINE, LineSimulator } from '@linewatch/simulators';
import pino from 'pino';
import { ModelRegistry } from '../services/detector/src/model-registry.js';
import { loadOnnxModel } from '../services/detector/src/model/onnx-model.js';

const rate = Number(process.argv[2] ?? '1');
const hours = Number(process.argv[3] ?? '2');
const registry = new ModelRegistry({ modelsDir: 'models', loadModel: loadOnnxModel, logger: pino({ level: 'silent' }) });
for (const def of DEFAULT_LINE.stations) {
  const sim = new LineSimulator({ line: { line: 'x', stations: [def] }, scenario: { faults: [] }, seed: 1234, rateHz: rate, startTs: 0 });
  const scores: number[] = [];
  const ticks = hours * 3600 * rate;
  const pending: { values: Record<string, number>; context?: ProcessContext }[] = [];
  for (let t = 0; t < ticks; t++) for (const m of sim.tick()) if (m.topic.endsWith('/telemetry')) pending.push(m.payload as never);
  for (const p of pending) {
    const r = await registry.resolve(def.id, def.type, p.context);
    if (!r) { scores.push(0); continue; }
    const f = r.model.meta.features;
    const [s] = await r.model.score(Float32Array.from(f.map((n) => p.values[n] ?? NaN)), 1);
    scores.push(s!.score / r.model.meta.threshold);
  }
  const shifts = hours / 8;
  const out: string[] = [];
  for (const k of [1, 2, 3, 5]) {
    let run = 0, episodes = 0;
    for (const s of scores) { if (s > 1) { run++; if (run === k) episodes++; } else run = 0; }
    out.push(`k=${k}: ${(episodes / shifts).toFixed(1)}/shift`);
  }
  const fa = scores.filter((s) => s > 1).length / scores.length;
  console.log(def.id.padEnd(14), `FA=${(100 * fa).toFixed(2)}%`, out.join('  '));
}
await registry.stop();
