import { readEntries, type RecordingEntry } from '@linewatch/recording';
import type { ProcessContext } from '@linewatch/protocol';
import type { ModelContext } from '../model/context.js';
import { StepTrace, type StepSummary } from './indicators.js';

/**
 * The step a snapshot belongs to, for wafer-level detection: a wafer's step while it runs a recipe, or undefined
 * for snapshots without a wafer (idle, pump-down between wafers), which no wafer model judges.
 */
export function waferStepOf(context: ProcessContext | undefined): { wafer: string; context: ModelContext; key: string } | undefined {
  if (!context?.wafer || context.step === undefined || context.step === 'idle') return undefined;
  const modelContext: ModelContext = { ...(context.recipe !== undefined ? { recipe: context.recipe } : {}), step: context.step };
  return { wafer: context.wafer, context: modelContext, key: `${context.wafer}\u0000${context.recipe ?? ''}\u0000${context.step}` };
}

/** One wafer's step as read from a recording, with what its labels say. */
export interface RecordedWaferStep {
  line: string;
  station: string;
  wafer: string;
  lot: string | undefined;
  context: ModelContext;
  summary: StepSummary;
  /** 1 when any snapshot of the step is labelled faulty, 0 when all are labelled normal, null when unlabelled. */
  label: 0 | 1 | null;
  fault: string | undefined;
  /**
   * The maintenance period of its station: `pm-0` until the station's first SCHEDULED_DOWN (a PM), `pm-1` after
   * it, and so on. Training centres each period on its own first wafers, as a re-baseline after each PM would.
   */
  period: string;
  file: string;
}

interface Open {
  key: string;
  trace: StepTrace;
  base: Omit<RecordedWaferStep, 'summary'>;
}

/**
 * Summarises every wafer's step of a stream of recorded entries the same way the live detector does: a step ends
 * when the station's next snapshot belongs to another wafer or step (or has none), or the stream ends.
 */
export class WaferStepCollector {
  readonly steps: RecordedWaferStep[] = [];
  private readonly open = new Map<string, Open>();
  private readonly pms = new Map<string, { count: number; down: boolean }>();

  add(entry: RecordingEntry, file = ''): void {
    const station = `${entry.line}/${entry.station}`;
    if (entry.kind === 'state') {
      const pm = this.pms.get(station) ?? { count: 0, down: false };
      const down = entry.msg.state === 'SCHEDULED_DOWN';
      if (down && !pm.down) pm.count++;
      pm.down = down;
      this.pms.set(station, pm);
      return;
    }
    if (entry.kind !== 'telemetry') return;
    const step = waferStepOf(entry.msg.context);
    if (this.open.get(station)?.key !== step?.key) this.close(station);
    if (!step) return;
    let o = this.open.get(station);
    if (!o) {
      const period = `pm-${this.pms.get(station)?.count ?? 0}`;
      o = {
        key: step.key,
        trace: new StepTrace(),
        base: { line: entry.line, station: entry.station, wafer: step.wafer, lot: entry.msg.context?.lot, context: step.context, label: null, fault: undefined, period, file },
      };
      this.open.set(station, o);
    }
    o.trace.add(entry.msg.ts, entry.msg.values);
    if (entry.label !== undefined) o.base.label = o.base.label === 1 || entry.label === 1 ? 1 : 0;
    if (entry.fault !== undefined) o.base.fault = entry.fault;
  }

  /** Closes every open step (the end of a file or stream). */
  finish(): RecordedWaferStep[] {
    for (const station of [...this.open.keys()]) this.close(station);
    return this.steps;
  }

  private close(station: string): void {
    const o = this.open.get(station);
    if (!o) return;
    this.open.delete(station);
    this.steps.push({ ...o.base, summary: o.trace.finish() });
  }
}

/** Reads recordings in the order given and summarises every wafer's step. */
export async function readWaferSteps(files: readonly string[]): Promise<RecordedWaferStep[]> {
  const collector = new WaferStepCollector();
  for (const file of files) {
    for await (const entry of readEntries(file)) collector.add(entry, file);
    collector.finish();
  }
  return collector.steps;
}
