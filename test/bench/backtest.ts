import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ProcessContext } from '@linewatch/protocol';
import { RecordingWriter, type RecordingEntry } from '@linewatch/recording';
import { DEFAULT_LINE, LineSimulator, loadScenario, recordSimulation } from '@linewatch/simulators';
import pino from 'pino';
import { runRecording, type OfflineRunOptions } from '../../services/detector/src/backtest/offline-run.js';
import { fitAndWrite } from '../../services/detector/src/backtest/training.js';
import { loadOnnxModel } from '../../services/detector/src/model/onnx-model.js';
import { REPO_ROOT } from './children.js';
import { median, round } from './stats.js';
import { sensorNames, syntheticRows } from './synthetic.js';

/**
 * `npm run bench:backtest [-- --quick] [-- --runs N]`: snapshots per second the backtest scores offline, through
 * the live detector's components, on one core. Two workloads:
 * - `synthetic-20`: 8 stations of one type, 20 correlated sensors, one PCA model (the yardstick);
 * - `line`: the simulated 8-tool line with its 66 shipped per-step models (8-14 sensors, many small batches).
 * Each is timed from memory (entries already parsed: scoring alone) and from a gzip recording file (reading
 * and validating included). Medians of the runs; see docs/benchmarks.md.
 */
const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' } } });
const quick = flags.quick === true;
const runs = Math.max(1, Math.min(9, Number(flags.runs ?? (quick ? 1 : 5))));
const SNAPSHOTS = quick ? 40_000 : 200_000;
const START = Date.parse('2026-11-01T00:00:00Z');
const RULES = { warnAfter: 2, alarmAfter: 3, clearAfter: 5, offlineAfterMs: 10_000 };
const logger = pino({ level: 'warn' });

const SENSORS = sensorNames(20);

function syntheticEntries(n: number): RecordingEntry[] {
  const rows = syntheticRows(n, 20, 11);
  const stations = Array.from({ length: 8 }, (_, i) => `synth-0${i + 1}`);
  const entries: RecordingEntry[] = stations.map((station, i) => ({
    at: START, line: 'bench', station, kind: 'meta',
    msg: { line: 'bench', station, type: 'synth', name: station, order: i, sensors: SENSORS.map((name) => ({ name, unit: '', min: 0, max: 1000 })) },
  }));
  rows.forEach((row, i) => {
    const station = stations[i % 8] as string;
    const ts = START + Math.floor(i / 8) * 100;
    // Every 500th snapshot of a station is 12σ off on one sensor, so decisions and contributors run too.
    const values = Object.fromEntries(SENSORS.map((name, j) => [name, (row[j] as number) + (i % 4000 < 8 && j === 3 ? 12 : 0)]));
    entries.push({ at: ts, line: 'bench', station, kind: 'telemetry', msg: { ts, seq: Math.floor(i / 8), values } });
  });
  return entries;
}

/** The simulated line with the demo faults, recorded in memory by the recorder's own simulator path. */
async function lineEntries(n: number): Promise<RecordingEntry[]> {
  const simulator = new LineSimulator({ line: DEFAULT_LINE, scenario: loadScenario(join(REPO_ROOT, 'simulators/scenarios/demo.yaml')), seed: 5, rateHz: 10, startTs: START });
  const entries: RecordingEntry[] = [];
  const sink = { write: (e: RecordingEntry) => void entries.push(e), needsDrain: false, drain: async () => undefined };
  // Every tick gives one snapshot per station: enough ticks for n snapshots.
  await recordSimulation({ simulator, durationMs: Math.ceil(n / DEFAULT_LINE.stations.length) * 100, sink });
  return entries;
}

async function writeFile(path: string, entries: RecordingEntry[]): Promise<void> {
  const w = await RecordingWriter.create(path, { source: { kind: 'simulator', detail: 'bench' }, createdAt: START });
  for (const e of entries) {
    w.write(e);
    if (w.needsDrain) await w.drain();
  }
  await w.close();
}

async function timeRun(file: string, opts: OfflineRunOptions): Promise<{ perSecond: number; scored: number }> {
  const began = performance.now();
  const trace = await runRecording(file, opts);
  const seconds = (performance.now() - began) / 1000;
  const received = trace.stations.reduce((n, s) => n + s.received, 0);
  return { perSecond: received / seconds, scored: trace.stations.reduce((n, s) => n + s.ts.length, 0) };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'linewatch-bench-backtest-'));
  try {
    const synthModels = join(dir, 'models');
    const train = syntheticRows(20_000, 20, 3);
    const contexts: (ProcessContext | undefined)[] = train.map(() => undefined);
    await fitAndWrite(synthModels, [{ name: 'synth', features: SENSORS, rows: train, contexts, ts: [START], excluded: { faulty: 0, incomplete: 0 } }]);
    const workloads = [
      { name: 'synthetic-20', entries: syntheticEntries(SNAPSHOTS), modelsDir: synthModels, sensors: '20' },
      { name: 'line', entries: await lineEntries(SNAPSHOTS), modelsDir: join(REPO_ROOT, 'models'), sensors: '8-14' },
    ];
    const rows: string[] = ['| workload | sensors | snapshots | from memory (snapshots/s) | from file (snapshots/s) | scored |', '|---|---|---|---|---|---|'];
    const results: Record<string, unknown> = {};
    for (const w of workloads) {
      const file = join(dir, `${w.name}.jsonl.gz`);
      await writeFile(file, w.entries);
      const base = { modelsDir: w.modelsDir, rules: RULES, loadModel: loadOnnxModel, logger };
      // One untimed run first: model files, onnxruntime and the JIT are warm for every timed run.
      await timeRun(file, { ...base, entries: w.entries });
      const memory: number[] = [];
      const fromFile: number[] = [];
      let scored = 0;
      for (let i = 0; i < runs; i++) {
        const m = await timeRun(file, { ...base, entries: w.entries });
        memory.push(m.perSecond);
        scored = m.scored;
        fromFile.push((await timeRun(file, base)).perSecond);
      }
      const telemetry = w.entries.filter((e) => e.kind === 'telemetry').length;
      results[w.name] = { telemetry, scored, memory: memory.map(Math.round), file: fromFile.map(Math.round) };
      rows.push(`| ${w.name} | ${w.sensors} | ${telemetry} | ${Math.round(median(memory))} | ${Math.round(median(fromFile))} | ${round((scored / telemetry) * 100)}% |`);
    }
    process.stdout.write(`${rows.join('\n')}\n\nmedians of ${runs} run(s); node ${process.version}\n${JSON.stringify(results)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
