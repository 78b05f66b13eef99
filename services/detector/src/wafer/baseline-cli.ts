/**
 * Re-sets a station's wafer-level baseline from known-good wafers that already ran, e.g. the first wafers after a
 * PM, without retraining. The running detector picks the file up within seconds.
 *
 *   npm run baseline -- --line fab1 --station etch-01 --wafers 5 recordings/after-pm.jsonl.gz
 *   npm run baseline -- --line fab1 --station etch-01 --wafers 5 --from 2026-11-20T08:00:00Z [--to ...]
 *
 * With --from, wafers come from the store the detector writes to (STORE=influx|sqlite and its settings, as for
 * the detector). The first N complete wafers of each recipe step from that point set that step's baseline.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readEntries, type RecordingEntry } from '@linewatch/recording';
import { IdSchema, parseEnv } from '@linewatch/protocol';
import { readSecretFile } from '@linewatch/protocol/node';
import { StoreRangeSource } from '@linewatch/simulators';
import { createStore, StoreEnvSchema, storeConfigFromEnv, type Store } from '@linewatch/store';
import pino from 'pino';
import { contextKey, contextLabel } from '../model/context.js';
import { BaselineStore, meanIndicators, type Baseline } from './baselines.js';
import { MIN_STEP_SAMPLES } from './indicators.js';
import { WaferStepCollector, type RecordedWaferStep } from './wafer-steps.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const USAGE = 'usage: npm run baseline -- --line LINE --station STATION [--wafers 5] [--dir .data/wafer-baselines] (RECORDING... | --from ISO [--to ISO])';

function fail(message: string): never {
  console.error(`baseline: ${message}\n${USAGE}`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    line: { type: 'string' }, station: { type: 'string' }, wafers: { type: 'string', default: '5' },
    dir: { type: 'string', default: process.env.WAFER_BASELINES_DIR ?? '.data/wafer-baselines' },
    from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const problems: string[] = [];
const line = values.line ?? '';
const station = values.station ?? '';
if (!IdSchema.safeParse(line).success) problems.push('--line must be a line id');
if (!IdSchema.safeParse(station).success) problems.push('--station must be a station id');
const wafers = Number(values.wafers);
if (!Number.isInteger(wafers) || wafers < 1 || wafers > 50) problems.push('--wafers must be an integer 1..50');
const from = values.from !== undefined ? Date.parse(values.from) : undefined;
const to = values.to !== undefined ? Date.parse(values.to) : Date.now();
if (from !== undefined && !Number.isFinite(from)) problems.push('--from must be an ISO date');
if (!Number.isFinite(to)) problems.push('--to must be an ISO date');
if ((from === undefined) === (positionals.length === 0)) problems.push('give recordings or --from, not both and not neither');
for (const f of positionals) if (!existsSync(f)) problems.push(`no such recording: ${f}`);
if (problems.length) fail(problems.join('; '));

const collector = new WaferStepCollector();
const take = (entry: RecordingEntry): void => {
  if (entry.line === line && entry.station === station) collector.add(entry);
};
let store: Store | undefined;
try {
  if (from !== undefined) {
    store = createStore(storeConfigFromEnv(parseEnv(StoreEnvSchema, process.env, 'baseline', readSecretFile), REPO_ROOT), pino({ level: 'warn' }));
    await store.init();
    const source = new StoreRangeSource({ store, line, stations: [station], from, to });
    for (const segment of await source.segments()) for await (const entry of segment.read()) take(entry);
    if (source.skippedCount > 0) console.error(`baseline: ${source.skippedCount} stored rows were not valid telemetry and were skipped`);
  } else {
    for (const file of positionals) for await (const entry of readEntries(file)) take(entry);
  }
} finally {
  await store?.close();
}

// The first N complete, long-enough steps per (recipe, step), in the order they ran.
const byContext = new Map<string, RecordedWaferStep[]>();
for (const step of collector.finish()) {
  if (step.summary.samples < MIN_STEP_SAMPLES) continue;
  const list = byContext.get(contextKey(step.context)) ?? [];
  if (list.length < wafers) list.push(step);
  byContext.set(contextKey(step.context), list);
}
if (byContext.size === 0) fail(`no wafer steps of ${line}/${station} in the data`);
const id = `cli@${new Date().toISOString()}`;
const baselines: Baseline[] = [];
for (const steps of byContext.values()) {
  const context = steps[0]!.context;
  if (steps.length < wafers) {
    console.error(`baseline: ${contextLabel(context)} has only ${steps.length} of ${wafers} wafers; left as it was`);
    continue;
  }
  baselines.push({ id, context, at: Math.max(...steps.map((s) => s.summary.end)), wafers: steps.map((s) => s.wafer), indicators: meanIndicators(steps.map((s) => s.summary)) });
}
if (baselines.length === 0) fail('no recipe step had enough wafers');
const file = await new BaselineStore(values.dir).set(line, station, baselines);
for (const b of baselines) console.log(`${line}/${station} ${contextLabel(b.context)}: baseline ${id} from wafers ${b.wafers.join(', ')}`);
console.log(`written to ${file}; the detector uses it from its next verdict on`);
