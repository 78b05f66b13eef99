import { StateMessageSchema, StationMetaSchema, TruthSchema, topics, type EquipmentState, type StateMessage } from '@linewatch/protocol';
import { applyFault, occurrenceAt, planFaults, type ActiveFault, type PlannedFault } from './faults.js';
import type { LineDef } from './line.js';
import { Rng } from './rng.js';
import type { Scenario } from './scenario.js';
import { StationProcess } from './station.js';
import { toolModel } from './tools/index.js';

/** One MQTT message as the simulator wants it published. */
export interface SimMessage {
  topic: string;
  payload: unknown;
  retain: boolean;
  qos: 0 | 1;
}

export interface LineSimulatorOptions {
  line: LineDef;
  scenario: Scenario;
  seed: number;
  /** Snapshots per second per station. */
  rateHz: number;
  /** Simulated epoch ms of the start; the first tick is one period later. */
  startTs: number;
}

interface StationRun {
  process: StationProcess;
  faults: PlannedFault[];
  active: Map<PlannedFault, ActiveFault>;
  faultRng: Rng;
  stateSince: number;
}

/** A line of stations, pure and deterministic: no wall clock, no I/O. Same options, same messages. */
export class LineSimulator {
  private readonly stations: StationRun[];
  private readonly periodMs: number;
  private ticks = 0;

  constructor(private readonly opts: LineSimulatorOptions) {
    if (!(opts.rateHz > 0 && opts.rateHz <= 10_000)) throw new Error(`rateHz must be in (0, 10000], got ${opts.rateHz}`);
    if (!Number.isInteger(opts.startTs) || opts.startTs < 0) throw new Error(`startTs must be epoch ms, got ${opts.startTs}`);
    const ids = new Set(opts.line.stations.map((s) => s.id));
    for (const f of opts.scenario.faults) {
      if (!ids.has(f.station)) throw new Error(`scenario fault ${f.type}@${f.at}s: unknown station '${f.station}'; line ${opts.line.line} has ${[...ids].join(', ')}`);
    }
    this.periodMs = 1000 / opts.rateHz;
    this.stations = opts.line.stations.map((def) => {
      const model = toolModel(def.type);
      return {
        process: new StationProcess(def, model, opts.seed, 1 / opts.rateHz),
        faults: planFaults(opts.scenario, def.id, model.sensors),
        active: new Map(),
        faultRng: new Rng(opts.seed, 'faults', def.id),
        stateSince: opts.startTs,
      };
    });
  }

  get rateHz(): number {
    return this.opts.rateHz;
  }

  /** Simulated epoch ms of the latest tick (startTs before the first). */
  get now(): number {
    return this.opts.startTs + Math.round(this.ticks * this.periodMs);
  }

  /** Retained meta and current state of every station, to publish on (re)connect. */
  initialMessages(): SimMessage[] {
    const { line } = this.opts.line;
    return this.stations.flatMap(({ process, stateSince }) => {
      const { def, model } = process;
      const meta = StationMetaSchema.parse({ line, station: def.id, type: def.type, name: def.name, order: def.order, sensors: model.sensors.map((s) => s.spec) });
      return [
        { topic: topics.meta(line, def.id), payload: meta, retain: true, qos: 1 as const },
        this.stateMessage(def.id, process.state, stateSince),
      ];
    });
  }

  /** Advances one period of simulated time and returns every message of that tick. */
  tick(): SimMessage[] {
    this.ticks += 1;
    const ts = this.now;
    const elapsed = (this.ticks * this.periodMs) / 1000;
    const messages: SimMessage[] = [];
    for (const run of this.stations) this.tickStation(run, ts, elapsed, messages);
    return messages;
  }

  private tickStation(run: StationRun, ts: number, elapsed: number, out: SimMessage[]): void {
    const { process } = run;
    const { line } = this.opts.line;
    const station = process.def.id;
    for (const planned of run.faults) {
      const occurrence = occurrenceAt(planned, elapsed, this.opts.scenario.repeatEvery);
      const current = run.active.get(planned);
      if (current && current.occurrence !== occurrence) {
        run.active.delete(planned);
        out.push(this.truth(station, current, ts));
        if (current.type === 'tool_down') process.recover();
      }
      if (occurrence !== null && (!current || current.occurrence !== occurrence)) {
        const fault: ActiveFault = { ...planned, id: `${station}:${planned.type}:${ts}`, startTs: ts, startElapsed: elapsed, occurrence, frozen: new Map(), wander: new Map() };
        run.active.set(planned, fault);
        out.push(this.truth(station, fault, null));
        if (fault.type === 'tool_down') process.goDown();
      }
    }
    const changed = process.advance();
    if (changed) {
      run.stateSince = ts;
      out.push(this.stateMessage(station, changed, ts));
    }
    if (process.state === 'UNSCHEDULED_DOWN') return;
    const active = [...run.active.values()];
    const dt = this.periodMs / 1000;
    const telemetry = process.read(
      ts,
      active.length === 0
        ? undefined
        : (sensor, reading, decoupled) => {
            let value: number | undefined = reading;
            for (const fault of active) {
              if (value === undefined) break;
              if (fault.sensors.includes(sensor.spec.name)) value = applyFault(fault, sensor, value, decoupled, elapsed, dt, run.faultRng);
            }
            return value;
          },
    );
    if (telemetry) out.push({ topic: topics.telemetry(line, station), payload: telemetry, retain: false, qos: 1 });
  }

  private stateMessage(station: string, state: EquipmentState, since: number): SimMessage {
    const reason = state === 'UNSCHEDULED_DOWN' ? 'tool alarm: interlock tripped' : undefined;
    const payload: StateMessage = StateMessageSchema.parse({ state, since, ...(reason ? { reason } : {}) });
    return { topic: topics.state(this.opts.line.line, station), payload, retain: true, qos: 1 };
  }

  private truth(station: string, fault: ActiveFault, end: number | null): SimMessage {
    const { line } = this.opts.line;
    const payload = TruthSchema.parse({ id: fault.id, line, station, fault: fault.type, sensors: fault.sensors, start: fault.startTs, end });
    return { topic: topics.truth(line, station), payload, retain: false, qos: 1 };
  }
}
