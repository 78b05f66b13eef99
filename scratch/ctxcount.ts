import { DEFAULT_LINE } from '@linewatch/simulators';
import { StationProcess } from '../simulators/src/station.js';
import { toolModel } from '../simulators/src/tools/index.js';
for (const type of [...new Set(DEFAULT_LINE.stations.map((s) => s.type))]) {
  const p = new StationProcess({ id: 'x', type, name: 'x', order: 0 }, toolModel(type), 7, 1);
  const counts = new Map<string, number>();
  for (let i = 0; i < 5000; i++) { p.advance(); const c = p.context(); const k = `${c.recipe ?? '-'}/${c.step ?? '-'}`; counts.set(k, (counts.get(k) ?? 0) + 1); }
  console.log(type, JSON.stringify([...counts]));
}
