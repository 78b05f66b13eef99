import type { FaultWindow, RunTrace, StationTrace } from './trace.js';

export interface PointMetrics {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** Scored snapshots without a label; they count in no ratio. */
  unlabelled: number;
  /** null where the ratio has no denominator (e.g. precision with nothing flagged). */
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** False-alarm rate: FP / (FP + TN). */
  far: number | null;
  /** Missed-alarm rate: FN / (FN + TP). */
  mar: number | null;
}

/**
 * How a fault type is meant to show. Process faults as a process alarm: the sample-wise ALARM or a faulty wafer
 * verdict. A sensor that sticks or drops out is a data-quality problem, not a process one: DATA_QUALITY. A tool
 * that goes down says so itself (its equipment state) or falls silent (OFFLINE).
 */
export type DetectionClass = 'process' | 'data_quality' | 'tool_down';

const DATA_QUALITY_FAULTS: ReadonlySet<string> = new Set(['stuck', 'dropout']);

export function detectionClass(fault: string): DetectionClass {
  if (fault === 'tool_down') return 'tool_down';
  return DATA_QUALITY_FAULTS.has(fault) ? 'data_quality' : 'process';
}

/** What an episode was: a sample-wise ALARM, a run of faulty wafer verdicts of one step, DATA_QUALITY or OFFLINE. */
export type EpisodeKind = 'ALARM' | 'WAFER' | 'DATA_QUALITY' | 'OFFLINE';

/** One episode an operator would be alerted to: consecutive snapshots in ALARM, DATA_QUALITY or OFFLINE, or faulty wafers. */
export interface Episode {
  kind: EpisodeKind;
  /** The id of the anomaly event that opened it, `{line}/{station}/{ts}`: deterministic. */
  id: string;
  run: string;
  line: string;
  station: string;
  start: number;
  /** ts of its last ALARM snapshot. */
  end: number;
  samples: number;
  peakScore: number;
  /** The fault window it falls in, or null: a false alert. */
  window: string | null;
}

export interface WindowResult extends FaultWindow {
  detected: boolean;
  /** What showed it first: ALARM, WAFER (a faulty wafer verdict), DATA_QUALITY, OFFLINE or the equipment state. */
  detectedBy: string | null;
  /** ts of the first ALARM snapshot of the station inside the window (plus grace). */
  detectedAt: number | null;
  timeToDetectMs: number | null;
  /**
   * What else the station showed during the window, whether or not the model alarmed: DATA_QUALITY, OFFLINE or
   * UNMODELLED instead of a score, or an equipment state other than PRODUCTIVE (in which no ALARM is raised).
   */
  shown: string[];
}

export interface Durations {
  medianMs: number | null;
  p90Ms: number | null;
  maxMs: number | null;
}

export interface EventGroup {
  windows: number;
  detected: number;
  missed: number;
  detectionRate: number | null;
  timeToDetect: Durations;
}

export interface StationEvents extends EventGroup {
  line: string;
  station: string;
  falseAlerts: number;
  hours: number;
  falseAlertsPerShift: number | null;
}

export interface Evaluation {
  /** Per snapshot, the model's own decision (score above threshold). */
  samplewise: PointMetrics & { byStation: Record<string, PointMetrics> };
  /** Per snapshot, the station's health as an operator sees it (ALARM or not), after the debounce rules. */
  alarmwise: PointMetrics & { byStation: Record<string, PointMetrics> };
  events: EventGroup & {
    falseAlerts: number;
    /** Fault windows that opened after the recording ended for their station; in no count. */
    cutOff: number;
    /** Line hours scored (each run's span, summed over runs). */
    hours: number;
    falseAlertsPerShift: number | null;
    byFault: (EventGroup & { fault: string })[];
    byStation: StationEvents[];
  };
  windows: WindowResult[];
  episodes: Episode[];
}

export interface EvaluateOptions {
  /** An ALARM this long after a window ends still counts as detecting it. */
  graceMs: number;
  shiftHours: number;
}

const HOUR_MS = 3_600_000;

function ratio(num: number, den: number): number | null {
  return den > 0 ? round(num / den) : null;
}

/** Six decimals: enough for any rate here, and the JSON stays readable and stable. */
export function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function pointMetrics(c: Pick<PointMetrics, 'tp' | 'fp' | 'tn' | 'fn' | 'unlabelled'>): PointMetrics {
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  const f1 = precision !== null && recall !== null && precision + recall > 0 ? round((2 * precision * recall) / (precision + recall)) : null;
  return { ...c, precision, recall, f1, far: ratio(c.fp, c.fp + c.tn), mar: ratio(c.fn, c.fn + c.tp) };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

function durations(values: number[]): Durations {
  const sorted = [...values].sort((a, b) => a - b);
  return { medianMs: percentile(sorted, 0.5), p90Ms: percentile(sorted, 0.9), maxMs: sorted.at(-1) ?? null };
}

function group(results: WindowResult[]): EventGroup {
  const detected = results.filter((w) => w.detected);
  return {
    windows: results.length,
    detected: detected.length,
    missed: results.length - detected.length,
    detectionRate: ratio(detected.length, results.length),
    timeToDetect: durations(detected.map((w) => w.timeToDetectMs as number)),
  };
}

/** Index of the first scored snapshot after the training rows. */
function firstScored(t: StationTrace): number {
  if (t.trainedUntil === null) return 0;
  const i = t.ts.findIndex((ts) => ts > (t.trainedUntil as number));
  return i === -1 ? t.ts.length : i;
}

function episodesOf(run: RunTrace, t: StationTrace, windows: FaultWindow[], graceMs: number): Episode[] {
  const out: Episode[] = [];
  let open: Episode | undefined;
  for (let i = firstScored(t); i <= t.ts.length; i++) {
    const inAlarm = i < t.ts.length && t.health[i] === 'ALARM';
    if (inAlarm) {
      const ts = t.ts[i] as number;
      const score = t.score[i] as number;
      if (!open) {
        const window = windows.find((w) => ts >= w.start && ts <= w.end + graceMs);
        open = { kind: 'ALARM', id: `${t.line}/${t.station}/${ts}`, run: run.run, line: t.line, station: t.station, start: ts, end: ts, samples: 0, peakScore: score, window: window?.id ?? null };
      }
      open.end = ts;
      open.samples++;
      open.peakScore = Math.max(open.peakScore, score);
    } else if (open) {
      out.push(open);
      open = undefined;
    }
  }
  return out;
}

/** DATA_QUALITY and OFFLINE episodes from the station's health changes, after the training rows. */
function overlayEpisodes(run: RunTrace, t: StationTrace, windows: FaultWindow[], graceMs: number): Episode[] {
  const out: Episode[] = [];
  const from = t.trainedUntil ?? Number.NEGATIVE_INFINITY;
  t.transitions.forEach((tr, i) => {
    if (tr.ts <= from || (tr.health !== 'DATA_QUALITY' && tr.health !== 'OFFLINE')) return;
    const end = t.transitions[i + 1]?.ts ?? t.lastTs;
    const window = windows.find((w) => tr.ts >= w.start && tr.ts <= w.end + graceMs);
    out.push({ kind: tr.health, id: `${t.line}/${t.station}/${tr.health.toLowerCase()}/${tr.ts}`, run: run.run, line: t.line, station: t.station, start: tr.ts, end, samples: 0, peakScore: 0, window: window?.id ?? null });
  });
  return out;
}

/** Runs of faulty wafer verdicts of one step (one alert each until the step's next good wafer). */
function waferEpisodes(run: RunTrace, t: StationTrace, windows: FaultWindow[], graceMs: number): Episode[] {
  const out: Episode[] = [];
  const open = new Map<string, Episode>();
  const from = t.trainedUntil ?? Number.NEGATIVE_INFINITY;
  for (const v of t.wafers) {
    if (v.start <= from || v.verdict === 'baselining') continue;
    const current = open.get(v.step);
    if (v.verdict === 'ok') {
      if (current) out.push(current);
      open.delete(v.step);
      continue;
    }
    if (current) {
      current.end = v.ts;
      current.samples++;
      current.peakScore = Math.max(current.peakScore, v.score);
      continue;
    }
    const window = windows.find((w) => v.start <= w.end + graceMs && v.ts >= w.start);
    open.set(v.step, { kind: 'WAFER', id: `${t.line}/${t.station}/wafer/${v.wafer}/${v.step}/${v.start}`, run: run.run, line: t.line, station: t.station, start: v.ts, end: v.ts, samples: 1, peakScore: v.score, window: window?.id ?? null });
  }
  out.push(...open.values());
  return out;
}

/** The first time the station showed this window's fault the way its class should show, and how. */
function firstDetection(w: FaultWindow, t: StationTrace, graceMs: number): { at: number; by: string } | null {
  const until = w.end + graceMs;
  const found: { at: number; by: string }[] = [];
  const cls = detectionClass(w.fault);
  if (cls === 'process') {
    for (let i = firstScored(t); i < t.ts.length; i++) {
      const ts = t.ts[i] as number;
      if (ts > until) break;
      if (ts >= w.start && t.health[i] === 'ALARM') {
        found.push({ at: ts, by: 'ALARM' });
        break;
      }
    }
    // A wafer verdict comes at the end of its step; it detects the window when the step overlapped it.
    const wafer = t.wafers.find((v) => v.verdict === 'fault' && v.ts >= w.start && v.start <= w.end && v.ts <= until);
    if (wafer) found.push({ at: wafer.ts, by: 'WAFER' });
  } else {
    const health = cls === 'data_quality' ? 'DATA_QUALITY' : 'OFFLINE';
    const tr = t.transitions.find((x) => x.health === health && x.ts >= w.start && x.ts <= until);
    if (tr) found.push({ at: tr.ts, by: health });
    if (cls === 'tool_down') {
      const down = t.states.find((s) => (s.state === 'UNSCHEDULED_DOWN' || s.state === 'SCHEDULED_DOWN') && s.since >= w.start && s.since <= until);
      if (down) found.push({ at: down.since, by: down.state });
    }
  }
  return found.sort((a, b) => a.at - b.at)[0] ?? null;
}

function windowResult(w: FaultWindow, t: StationTrace | undefined, graceMs: number): WindowResult {
  const first = t ? firstDetection(w, t, graceMs) : null;
  const shown = new Set<string>();
  for (const o of t?.overlays ?? []) if (o.ts >= w.start && o.ts <= w.end) shown.add(o.health);
  for (const tr of t?.transitions ?? []) if (tr.ts >= w.start && tr.ts <= w.end && tr.health !== 'OK' && tr.health !== 'WARN' && tr.health !== 'ALARM') shown.add(tr.health);
  const states = t?.states ?? [];
  states.forEach((s, i) => {
    const until = states[i + 1]?.since ?? Number.POSITIVE_INFINITY;
    if (s.state !== 'PRODUCTIVE' && s.since <= w.end && until > w.start) shown.add(s.state);
  });
  return {
    ...w, detected: first !== null, detectedBy: first?.by ?? null, detectedAt: first?.at ?? null,
    timeToDetectMs: first === null ? null : first.at - w.start, shown: [...shown].sort(),
  };
}

/** Time a station was scored in a run (first to last scored snapshot after training, plus one sample). */
function stationSpanMs(t: StationTrace): number {
  const from = firstScored(t);
  if (from >= t.ts.length) {
    // Nothing scored snapshot by snapshot (only wafer models): the span of the wafers it judged.
    const first = t.wafers.find((v) => t.trainedUntil === null || v.start > t.trainedUntil)?.start;
    return first === undefined ? 0 : t.lastTs - first;
  }
  const first = t.ts[from] as number;
  const last = t.ts.at(-1) as number;
  const step = t.ts.length - from > 1 ? (last - first) / (t.ts.length - from - 1) : 0;
  return last - first + step;
}

/**
 * Measures runs against their labels. Point-wise counts pool every scored snapshot of every run (the
 * concatenation); event-wise, each fault window is detected when its station is in ALARM inside it (plus
 * grace), and each ALARM episode outside every window is a false alert.
 */
export function evaluate(runs: RunTrace[], opts: EvaluateOptions): Evaluation {
  const zero = () => ({ tp: 0, fp: 0, tn: 0, fn: 0, unlabelled: 0 });
  const sample = zero();
  const alarm = zero();
  const sampleBy = new Map<string, ReturnType<typeof zero>>();
  const alarmBy = new Map<string, ReturnType<typeof zero>>();
  const windows: WindowResult[] = [];
  const episodes: Episode[] = [];
  const stationHours = new Map<string, number>();
  let lineHours = 0;
  let cutOff = 0;

  const count = (c: ReturnType<typeof zero>, label: 0 | 1 | null, flagged: boolean): void => {
    if (label === null) c.unlabelled++;
    else if (label === 1 && flagged) c.tp++;
    else if (label === 1) c.fn++;
    else if (flagged) c.fp++;
    else c.tn++;
  };
  for (const run of runs) {
    let runStart = Number.POSITIVE_INFINITY;
    let runEnd = Number.NEGATIVE_INFINITY;
    for (const t of run.stations) {
      const name = `${t.line}/${t.station}`;
      if (!sampleBy.has(name)) {
        sampleBy.set(name, zero());
        alarmBy.set(name, zero());
      }
      const from = firstScored(t);
      for (let i = from; i < t.ts.length; i++) {
        const label = t.label[i] ?? null;
        count(sample, label, t.anomalous[i] === true);
        count(sampleBy.get(name) as ReturnType<typeof zero>, label, t.anomalous[i] === true);
        count(alarm, label, t.health[i] === 'ALARM');
        count(alarmBy.get(name) as ReturnType<typeof zero>, label, t.health[i] === 'ALARM');
      }
      const span = stationSpanMs(t);
      stationHours.set(name, (stationHours.get(name) ?? 0) + span / HOUR_MS);
      if (span > 0) {
        runStart = Math.min(runStart, t.ts[from] as number);
        runEnd = Math.max(runEnd, (t.ts[from] as number) + span);
      }
      const own = run.windows.filter((w) => w.line === t.line && w.station === t.station);
      episodes.push(...episodesOf(run, t, own, opts.graceMs), ...overlayEpisodes(run, t, own, opts.graceMs), ...waferEpisodes(run, t, own, opts.graceMs));
    }
    if (runEnd > runStart) lineHours += (runEnd - runStart) / HOUR_MS;
    for (const w of run.windows) {
      const t = run.stations.find((s) => s.line === w.line && s.station === w.station);
      // A window wholly inside the training rows says nothing about the model; one that opens after the
      // station's last snapshot was cut off by the end of the recording.
      if (t?.trainedUntil !== null && t?.trainedUntil !== undefined && w.end <= t.trainedUntil) continue;
      if (t && w.start >= t.lastTs) {
        cutOff++;
        continue;
      }
      windows.push(windowResult(w, t, opts.graceMs));
    }
  }

  const falseAlerts = episodes.filter((e) => e.window === null);
  const faults = [...new Set(windows.map((w) => w.fault))].sort();
  const stationNames = [...sampleBy.keys()].sort();
  const perShift = (alerts: number, hours: number): number | null => (hours > 0 ? round(alerts / (hours / opts.shiftHours)) : null);
  return {
    samplewise: { ...pointMetrics(sample), byStation: Object.fromEntries(stationNames.map((n) => [n, pointMetrics(sampleBy.get(n) as ReturnType<typeof zero>)])) },
    alarmwise: { ...pointMetrics(alarm), byStation: Object.fromEntries(stationNames.map((n) => [n, pointMetrics(alarmBy.get(n) as ReturnType<typeof zero>)])) },
    events: {
      ...group(windows),
      falseAlerts: falseAlerts.length,
      cutOff,
      hours: round(lineHours),
      falseAlertsPerShift: perShift(falseAlerts.length, lineHours),
      byFault: faults.map((fault) => ({ fault, ...group(windows.filter((w) => w.fault === fault)) })),
      byStation: stationNames.map((name) => {
        const [line, station] = name.split('/') as [string, string];
        const hours = stationHours.get(name) ?? 0;
        const own = falseAlerts.filter((e) => e.line === line && e.station === station).length;
        return {
          line, station, ...group(windows.filter((w) => w.line === line && w.station === station)),
          falseAlerts: own, hours: round(hours), falseAlertsPerShift: perShift(own, hours),
        };
      }),
    },
    windows,
    episodes,
  };
}
