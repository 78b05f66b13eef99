import { parseArgs } from 'node:util';
import { percentile, round } from './stats.js';

/** What `bench:dashboard` runs; every number is bounded so a typo cannot start an hour-long or 10k-station run. */
export interface DashboardBenchOptions {
  seconds: number;
  warmup: number;
  stations: number;
  sensors: number;
  hz: number;
  build: boolean;
  /** Use the embedded aedes broker even when Mosquitto is up (what `npm start` runs without MQTT_URL). */
  embeddedBroker: boolean;
}

const BOUNDS = {
  seconds: { def: 60, min: 5, max: 600 },
  warmup: { def: 10, min: 2, max: 120 },
  stations: { def: 50, min: 1, max: 200 },
  sensors: { def: 20, min: 1, max: 100 },
  hz: { def: 10, min: 0.1, max: 50 },
} as const;

/**
 * Parses `--seconds 60 --warmup 10 --stations 50 --sensors 20 --hz 10 [--no-build] [--embedded-broker]`; throws one
 * Error listing every problem.
 */
export function parseBenchArgs(argv: string[]): DashboardBenchOptions {
  const str = { type: 'string' } as const;
  const { values } = parseArgs({
    args: argv,
    options: { seconds: str, warmup: str, stations: str, sensors: str, hz: str, 'no-build': { type: 'boolean', default: false }, 'embedded-broker': { type: 'boolean', default: false } },
    strict: true,
  });
  const problems: string[] = [];
  const num = (key: keyof typeof BOUNDS, integer: boolean): number => {
    const b = BOUNDS[key];
    const raw = values[key];
    const n = raw === undefined ? b.def : Number(raw);
    if (!Number.isFinite(n) || n < b.min || n > b.max || (integer && !Number.isInteger(n))) {
      problems.push(`--${key} must be ${integer ? 'an integer' : 'a number'} from ${b.min} to ${b.max} (got ${raw})`);
    }
    return n;
  };
  const options = {
    seconds: num('seconds', true),
    warmup: num('warmup', true),
    stations: num('stations', true),
    sensors: num('sensors', true),
    hz: num('hz', false),
    build: values['no-build'] !== true,
    embeddedBroker: values['embedded-broker'] === true,
  };
  if (problems.length > 0) throw new Error(`bench:dashboard: ${problems.join('; ')}`);
  return options;
}

/** Animation frames that started in each whole 1 s window of [from, to) (page clock, ms); a partial last window is left out. */
export function framesPerWindow(frames: readonly number[], from: number, to: number, windowMs = 1000): number[] {
  const windows = Math.floor((to - from) / windowMs);
  const counts = new Array<number>(Math.max(0, windows)).fill(0);
  for (const t of frames) {
    const i = Math.floor((t - from) / windowMs);
    if (t >= from && i < windows) counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

/**
 * The event name of a socket.io event packet as it travels in one WebSocket frame (`42["status",{…}]`, with an
 * optional namespace and ack id: `42/ns,7["x"]`); null for everything else (engine.io pings and pongs, acks).
 */
export function socketEventName(payload: string): string | null {
  const m = /^42(?:\/[^,]*,)?\d*\["((?:[^"\\]|\\.)*)"/.exec(payload);
  return m ? (m[1] as string) : null;
}

/** The argument of a socket.io event packet, parsed; undefined when it is not one or does not parse. */
export function socketEventArg(payload: string): unknown {
  const start = payload.indexOf('[');
  if (start < 0 || socketEventName(payload) === null) return undefined;
  try {
    return (JSON.parse(payload.slice(start)) as unknown[])[1];
  } catch {
    return undefined;
  }
}

export interface Spread {
  n: number;
  median: number;
  p5: number;
  p95: number;
  min: number;
  max: number;
}

/** Nearest-rank spread of a sample; NaN everywhere when it is empty, so an empty measure never looks good. */
export function spread(values: readonly number[], digits = 1): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round(percentile(sorted, p), digits);
  return { n: sorted.length, median: at(50), p5: at(5), p95: at(95), min: round(sorted[0] ?? Number.NaN, digits), max: round(sorted.at(-1) ?? Number.NaN, digits) };
}

/** Adds one to `counts[index]`, filling the holes before it with zeros (per-second counters). */
export function countAt(counts: number[], index: number, by = 1): void {
  for (let i = counts.length; i <= index; i++) counts.push(0);
  counts[index] = (counts[index] as number) + by;
}
