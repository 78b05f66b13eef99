import type { DataQualityIssue, DataQualityKind, ModelMetadata, SensorSpec, StationMeta } from '@linewatch/protocol';

/**
 * Data-quality checks of one station's stream: is the data trustworthy, which is a different question from
 * "is the process normal". Pure: no clock, no I/O; the tracker feeds it every accepted snapshot in order.
 */

export interface DataQualityRules {
  /** Identical readings in a row that make a sensor which normally varies `stuck` (more for one that often repeats). */
  stuckAfter: number;
  /** Clean snapshots in a row that clear an issue; also keeps an intermittent fault from flapping. */
  clearAfter: number;
  /** Largest gap (ms) between a live reading's ts and its arrival before it is `clock_skew`. */
  maxClockSkewMs: number;
}

export const DEFAULT_QUALITY_RULES: DataQualityRules = Object.freeze({ stuckAfter: 5, clearAfter: 10, maxClockSkewMs: 5000 });

export interface QualitySnapshot {
  ts: number;
  seq: number;
  values: Readonly<Record<string, number>>;
  replay?: boolean | undefined;
  /** Wall clock when it arrived. */
  receivedAt: number;
  /** Sequence numbers skipped right before this snapshot (0 when none). */
  missedSeq: number;
  /** The model that scores it: its features are required, and a feature it saw constant is never `stuck`. */
  model?: Pick<ModelMetadata, 'features' | 'mean' | 'std'> | undefined;
}

export interface QualityChange {
  state: 'raised' | 'cleared';
  issue: DataQualityIssue;
}

/**
 * A run of identical readings is judged against the sensor's own habits. It is `stuck` once it is `stuckAfter`
 * long, twice as long as any run the sensor has shown, and this unlikely given how often it repeats itself
 * (runs as a geometric process): a noisy sensor that never repeats is stuck after `stuckAfter` readings, a
 * quantised one after more. The longest-run rule is for controlled readings that ramp, then hold a setpoint
 * exactly for a while (RF power on the LAM 9600 etcher holds one integer for 20-odd samples): their many short
 * ramp runs make any hold look unlikely, but the holds they have already shown are their habit.
 */
const STUCK_CHANCE = 1e-6;
/**
 * A shorter run this unlikely makes the snapshot suspect: a sensor that froze on an abnormal value scores
 * anomalous from its first frozen reading, before `stuckAfter` can tell, and must not reach ALARM meanwhile.
 */
const SUSPECT_CHANCE = 1e-2;
/** Value changes a sensor must have shown before it can be judged stuck: no verdict on what was never seen moving. */
const STUCK_MIN_RUNS = 10;
/** Readings of history before a sensor can be judged stuck (minutes at 1 Hz): time to show its ramps and holds. */
const STUCK_MIN_READINGS = 200;
/** A training std this small next to the mean is PCA's floor for a constant sensor (model/pca.ts STD_FLOOR, with margin). */
const CONSTANT_STD_REL = 1e-5;
/** Snapshots in a row that make a sensor one the station normally sends, so its absence is an issue. */
const ESTABLISHED_AFTER = 10;
/**
 * Snapshots without such a sensor after which it is no longer expected (unless the meta declares it): the
 * station was reconfigured, and must not stay DATA_QUALITY, unjudged, for ever.
 */
const FORGOTTEN_AFTER = 1000;
/** Late snapshots at real-time pace that show a clock running behind (see checkClock). */
const LATE_STEADY = 10;
/** StationStatus carries at most 50 issues; per-sensor ones leave room for the station-wide kinds. */
const MAX_SENSOR_ISSUES = 48;
/** Sensors remembered per station; a stream that keeps inventing names must not grow memory without bound. */
const MAX_TRACKED = 512;

interface SensorTrack {
  /** Its declared physical range, when the meta has one. */
  range: SensorSpec | undefined;
  value: number;
  /** Identical readings in a row, the latest included. */
  run: number;
  /** Completed runs and the readings in them: how often this sensor repeats itself. */
  runs: number;
  runReadings: number;
  longest: number;
  /** Snapshots in a row that carried it; `seenAt` is the index of the latest. */
  present: number;
  seenAt: number;
  established: boolean;
}

interface Condition {
  kind: DataQualityKind;
  sensor?: string;
  detail: string;
}

interface Active {
  issue: DataQualityIssue;
  /** Clean snapshots since the condition was last seen. */
  clean: number;
}

type Model = NonNullable<QualitySnapshot['model']>;
const constantFeatures = new WeakMap<Model, ReadonlySet<string>>();

/** Features a model saw constant in its training context (a setpoint, an idle sensor): not judged stuck. */
function constantsOf(model: Model): ReadonlySet<string> {
  let set = constantFeatures.get(model);
  if (!set) {
    set = new Set(model.features.filter((_, i) => (model.std[i] ?? 1) <= CONSTANT_STD_REL * Math.max(1, Math.abs(model.mean[i] ?? 0))));
    constantFeatures.set(model, set);
  }
  return set;
}

/** Chance of the sensor's current run given its history; 1 while there is too little history, or it has run this long before. */
function runChance(t: SensorTrack): number {
  if (t.run <= t.longest || t.runs < STUCK_MIN_RUNS || t.runReadings < STUCK_MIN_READINGS) return 1;
  return Math.max(0, 1 - t.runs / t.runReadings) ** (t.run - 1);
}

const NO_CHANGES: readonly QualityChange[] = Object.freeze([]);
const num = (v: number): string => String(Number(v.toPrecision(6)));
const key = (kind: DataQualityKind, sensor: string | undefined): string => (sensor === undefined ? kind : `${kind}:${sensor}`);

/** One station's data-quality state: each issue is raised once and cleared once, after `clearAfter` clean snapshots. */
export class DataQualityMonitor {
  private readonly tracks = new Map<string, SensorTrack>();
  private readonly active = new Map<string, Active>();
  private ranges = new Map<string, SensorSpec>();
  /** Per model, its features the meta does not declare (usually none): checked for absence on their own. */
  private undeclared = new WeakMap<Model, readonly string[]>();
  private established = 0;
  private snapshots = 0;
  private lastTs: number | undefined;
  private sensorIssues = 0;
  /**
   * The latest run of live snapshots stamped over maxClockSkewMs before they arrived, counted from the last one
   * that arrived faster than real time since the run's reference point (then it becomes the reference).
   */
  private steady = 0;
  private steadyTs = 0;
  private steadyAt = 0;
  private current: readonly DataQualityIssue[] = [];
  private suspectNow = false;
  /** Conditions found in the snapshot being checked; reused, since nearly every snapshot finds none. */
  private readonly found = new Map<string, Condition>();

  constructor(private readonly rules: DataQualityRules = DEFAULT_QUALITY_RULES) {}

  /** The station's declared sensors: their ranges are checked, and each one is expected in every snapshot. */
  setMeta(meta: StationMeta): void {
    this.ranges = new Map(meta.sensors.map((s) => [s.name, s]));
    this.undeclared = new WeakMap();
    for (const [sensor, t] of this.tracks) t.range = this.ranges.get(sensor);
    for (const sensor of this.ranges.keys()) this.trackOf(sensor);
  }

  /** Active issues, oldest first; the same array until something is raised or cleared. */
  get issues(): readonly DataQualityIssue[] {
    return this.current;
  }

  /**
   * True when a feature of the checked snapshot's model repeats a value for longer than is likely but not yet
   * for `stuckAfter`: if it scores anomalous, that may be a sensor freezing, so it should not count yet.
   */
  get suspect(): boolean {
    return this.suspectNow;
  }

  /** Checks one accepted snapshot (duplicates and late ones excluded) and returns what it raised or cleared. */
  check(s: QualitySnapshot): readonly QualityChange[] {
    this.found.clear();
    this.snapshots++;
    this.suspectNow = false;
    const { values } = s;
    // Counted on the way, so the absence checks below run only when something is absent.
    let declared = 0;
    let habitual = 0;

    for (const sensor in values) {
      const value = values[sensor] as number;
      const t = this.track(sensor, value);
      const range = t ? t.range : this.ranges.get(sensor);
      if (range) declared++;
      if (range && (value < range.min || value > range.max)) {
        const unit = range.unit ? ` ${range.unit}` : '';
        this.add('out_of_range', sensor, `${num(value)}${unit} outside ${num(range.min)}..${num(range.max)}${unit}`);
      }
      if (t?.established) habitual++;
      if (!t || t.run < 2) continue;
      const chance = s.model && constantsOf(s.model).has(sensor) ? 1 : runChance(t);
      if (chance >= SUSPECT_CHANCE) continue;
      if (t.run >= this.rules.stuckAfter && t.run >= 2 * t.longest && chance < STUCK_CHANCE) {
        const pegged = range && (value === range.min || value === range.max) ? ', at its range limit' : '';
        this.add('stuck', sensor, `${t.run} identical readings of ${num(value)} in a row${pegged}`);
      } else if (s.model?.features.includes(sensor)) {
        this.suspectNow = true;
      }
    }

    if (declared < this.ranges.size) {
      for (const sensor of this.ranges.keys()) if (values[sensor] === undefined) this.missing(sensor, 'the station meta declares it');
    }
    if (s.model) for (const sensor of this.undeclaredOf(s.model)) if (values[sensor] === undefined) this.missing(sensor, 'the model needs it');
    if (habitual < this.established) {
      for (const [sensor, t] of this.tracks) {
        if (!t.established || t.seenAt === this.snapshots) continue;
        if (this.snapshots - t.seenAt <= FORGOTTEN_AFTER) this.missing(sensor, 'the station normally sends it');
        else {
          t.established = false;
          this.established--;
        }
      }
    }

    if (s.missedSeq > 0) this.add('seq_gap', undefined, `${s.missedSeq} snapshot(s) missing before seq ${s.seq}`);
    this.checkClock(s);
    return this.found.size === 0 && this.active.size === 0 ? NO_CHANGES : this.reconcile(s.ts);
  }

  private add(kind: DataQualityKind, sensor: string | undefined, detail: string): void {
    this.found.set(key(kind, sensor), { kind, ...(sensor !== undefined ? { sensor } : {}), detail });
  }

  private missing(sensor: string, why: string): void {
    // A sensor both declared and needed is reported once, as declared.
    if (!this.found.has(key('missing_sensor', sensor))) this.add('missing_sensor', sensor, `absent from the snapshot; ${why}`);
  }

  private undeclaredOf(model: Model): readonly string[] {
    let list = this.undeclared.get(model);
    if (!list) {
      list = model.features.filter((f) => !this.ranges.has(f));
      this.undeclared.set(model, list);
    }
    return list;
  }

  private trackOf(sensor: string): SensorTrack | undefined {
    let t = this.tracks.get(sensor);
    if (!t && this.tracks.size < MAX_TRACKED) {
      t = { range: this.ranges.get(sensor), value: 0, run: 0, runs: 0, runReadings: 0, longest: 0, present: 0, seenAt: -1, established: false };
      this.tracks.set(sensor, t);
    }
    return t;
  }

  /** Updates a sensor's presence and run with this snapshot's reading. */
  private track(sensor: string, value: number): SensorTrack | undefined {
    const t = this.tracks.get(sensor) ?? this.trackOf(sensor);
    if (!t) return undefined;
    t.present = t.seenAt === this.snapshots - 1 ? t.present + 1 : 1;
    t.seenAt = this.snapshots;
    if (t.present >= ESTABLISHED_AFTER && !t.established) {
      t.established = true;
      this.established++;
    }
    if (t.run > 0 && value === t.value) {
      t.run++;
    } else {
      // Runs that ended as stuck count too: a sensor that holds for long stretches by nature is called stuck
      // once, then never again. The price: after a real stuck episode of n readings, the next is called at 2n.
      if (t.run > 0) {
        t.runs++;
        t.runReadings += t.run;
        t.longest = Math.max(t.longest, t.run);
      }
      t.value = value;
      t.run = 1;
    }
    return t;
  }

  /**
   * A reading stamped later than it arrived can only be a clock running ahead. One stamped earlier is late
   * delivery or a clock running behind; only the second keeps arriving at the pace the readings were taken.
   * A backlog drained after a restart, or a gateway that forwards in bursts, is late but arrives faster than
   * real time, and says nothing about the clock: lateness counts once it has held, at real-time pace, for
   * LATE_STEADY snapshots and maxClockSkewMs of reading time. Replays shift ts, so only their order is checked.
   */
  private checkClock(s: QualitySnapshot): void {
    const max = this.rules.maxClockSkewMs;
    if (this.lastTs !== undefined && s.ts < this.lastTs) {
      this.add('clock_skew', undefined, `ts went back ${this.lastTs - s.ts} ms while seq advanced`);
    }
    this.lastTs = s.ts;
    if (s.replay) return;
    const ahead = s.ts - s.receivedAt;
    if (ahead > max) this.add('clock_skew', undefined, `ts ${ahead} ms ahead of arrival`);
    if (s.receivedAt - s.ts <= max) {
      this.steady = 0;
      return;
    }
    if (this.steady === 0 || 2 * (s.receivedAt - this.steadyAt) < s.ts - this.steadyTs) {
      this.steady = 0;
      this.steadyTs = s.ts;
      this.steadyAt = s.receivedAt;
    }
    this.steady++;
    if (this.steady >= LATE_STEADY && s.ts - this.steadyTs >= max) {
      this.add('clock_skew', undefined, `ts ${s.receivedAt - s.ts} ms behind arrival, steadily`);
    }
  }

  private reconcile(ts: number): readonly QualityChange[] {
    const found = this.found;
    const changes: QualityChange[] = [];
    for (const [k, a] of this.active) {
      if (found.has(k)) {
        a.clean = 0;
        found.delete(k);
      } else if (++a.clean >= this.rules.clearAfter) {
        this.active.delete(k);
        if (a.issue.sensor !== undefined) this.sensorIssues--;
        changes.push({ state: 'cleared', issue: a.issue });
      }
    }
    for (const [k, c] of found) {
      if (c.sensor !== undefined) {
        if (this.sensorIssues >= MAX_SENSOR_ISSUES) continue;
        this.sensorIssues++;
      }
      const issue: DataQualityIssue = { kind: c.kind, ...(c.sensor !== undefined ? { sensor: c.sensor } : {}), since: ts, detail: c.detail.slice(0, 300) };
      this.active.set(k, { issue, clean: 0 });
      changes.push({ state: 'raised', issue });
    }
    if (changes.length === 0) return NO_CHANGES;
    this.current = Object.freeze([...this.active.values()].map((a) => a.issue));
    return changes;
  }
}
