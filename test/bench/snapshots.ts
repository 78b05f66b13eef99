import { TelemetrySchema, type Telemetry } from '@linewatch/protocol';
import { DEFAULT_LINE, LineSimulator, type LineDef, type SimMessage } from '@linewatch/simulators';

/** One pre-generated snapshot; ts and seq are stamped at publish time. */
export interface SnapshotTemplate {
  station: string;
  topic: string;
  /** JSON of the snapshot without ts and seq, starting with `,` so the publisher only prepends them. */
  rest: string;
}

/**
 * DEFAULT_LINE repeated `copies` times (same tool types, so the same models). The store keys a reading on
 * (line, station, ms timestamp): at tens of thousands of snapshots a second, eight stations would need several
 * readings per station per ms, so more stations keep wall-clock timestamps unique without drifting ahead.
 */
export function benchLine(line: string, copies: number): LineDef {
  const stations = [];
  for (let c = 0; c < copies; c++) {
    for (const s of DEFAULT_LINE.stations) {
      stations.push({ ...s, id: copies === 1 ? s.id : `${s.id}-c${String(c).padStart(2, '0')}`, order: s.order + c * DEFAULT_LINE.stations.length });
    }
  }
  return { line, stations };
}

function simulator(line: LineDef): LineSimulator {
  // No scripted faults: the bench measures throughput, not detection, and truth messages would skew counts.
  return new LineSimulator({ line, scenario: { faults: [] }, seed: 7, rateHz: 1, startTs: Date.now() });
}

/** Retained meta and state of every station, published before the detector starts so every station is modelled. */
export function initialMessages(line: LineDef): SimMessage[] {
  return simulator(line).initialMessages();
}

/** Up to `max` telemetry snapshots from the real simulator, each validated once with its final shape. */
export function snapshotTemplates(line: LineDef, max: number): SnapshotTemplate[] {
  const sim = simulator(line);
  const out: SnapshotTemplate[] = [];
  // Bounded: a tool that stays down yields no telemetry, so stop after a fixed number of ticks whatever happens.
  for (let tick = 0; tick < 100_000 && out.length < max; tick++) {
    for (const m of sim.tick()) {
      if (!m.topic.endsWith('/telemetry') || out.length >= max) continue;
      const t = TelemetrySchema.parse({ ...(m.payload as Telemetry), ts: Date.now(), seq: 0 });
      const { ts: _ts, seq: _seq, ...rest } = t;
      const json = JSON.stringify(rest);
      out.push({ station: m.topic.split('/')[3] as string, topic: m.topic, rest: `,${json.slice(1)}` });
    }
  }
  if (out.length === 0) throw new Error('simulator produced no telemetry');
  return out;
}
