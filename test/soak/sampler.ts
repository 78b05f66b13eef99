import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { detectorHistogram, detectorMetrics } from '../bench/children.js';
import { bucketQuantile, round } from '../bench/stats.js';
import type { IntervalRow } from './soak-stats.js';

/** Everything read at one instant; rows are differences of two of these. */
export interface Scrape {
  at: number;
  published: number;
  apiReadings: number;
  detector: Map<string, number>;
  /** Cumulative buckets of linewatch_reading_age_at_decision_seconds: snapshot ts → decision, i.e. end to end. */
  age: Map<number, number>;
  api: Map<string, number>;
  detectorRssMiB: number;
  apiRssMiB: number;
  loadLagP99Ms: number;
}

const MiB = 2 ** 20;

/** VmRSS from /proc, read by us: it works even while the process is too busy to answer /metrics. */
export function rssMiB(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** A scrape that does not answer within `ms` counts as empty (NaN in the row), so a stuck child cannot stall the soak. */
function within<T>(p: Promise<T>, ms: number, empty: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(empty), ms)));
  return Promise.race([p.catch(() => empty), late]).finally(() => clearTimeout(timer));
}

export class Sampler {
  /** The soak's own event loop, which also paces the load. */
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor(
    private readonly detector: { port: number; pid: number | undefined },
    private readonly api: { port: number; pid: number | undefined },
    private readonly counts: () => { published: number; apiReadings: number },
  ) {
    this.loop.enable();
  }

  /**
   * prom-client resets its event-loop histogram on every scrape, so each process is scraped for its counters and
   * lag once an interval: the detector's histogram fetch comes second and only restarts the lag window.
   */
  async scrape(): Promise<Scrape> {
    const [detector, api] = await Promise.all([
      within(detectorMetrics(this.detector.port), 5000, new Map<string, number>()),
      within(detectorMetrics(this.api.port), 5000, new Map<string, number>()),
    ]);
    const age = await within(detectorHistogram(this.detector.port, 'linewatch_reading_age_at_decision_seconds'), 5000, new Map<number, number>());
    const loadLagP99Ms = this.loop.percentile(99) / 1e6;
    this.loop.reset();
    return {
      at: Date.now(), ...this.counts(), detector, age, api, loadLagP99Ms,
      detectorRssMiB: rssMiB(this.detector.pid), apiRssMiB: rssMiB(this.api.pid),
    };
  }

  stop(): void {
    this.loop.disable();
  }
}

/** A metric missing from a scrape that answered is a labelled counter never incremented (0); an empty scrape is NaN. */
const get = (m: Map<string, number>, k: string): number => m.get(k) ?? (m.size > 0 ? 0 : Number.NaN);

export function intervalRow(prev: Scrape, cur: Scrape, startedAt: number): IntervalRow {
  const dtS = (cur.at - prev.at) / 1000;
  const rate = (k: string): number => (get(cur.detector, k) - get(prev.detector, k)) / dtS;
  return {
    tS: round((cur.at - startedAt) / 1000, 0),
    publishedPerS: round((cur.published - prev.published) / dtS, 0),
    writtenPerS: round(rate('linewatch_readings_written_total'), 0),
    scoredPerS: round(rate('linewatch_scores_written_total'), 0),
    e2eP50Ms: bucketQuantile(prev.age, cur.age, 0.5) * 1000,
    e2eP99Ms: bucketQuantile(prev.age, cur.age, 0.99) * 1000,
    detectorRssMiB: round(cur.detectorRssMiB),
    detectorHeapMiB: round(get(cur.detector, 'linewatch_detector_nodejs_heap_size_used_bytes') / MiB),
    apiRssMiB: round(cur.apiRssMiB),
    apiHeapMiB: round(get(cur.api, 'linewatch_api_nodejs_heap_size_used_bytes') / MiB),
    detectorLagP99Ms: round(get(cur.detector, 'linewatch_detector_nodejs_eventloop_lag_p99_seconds') * 1000),
    apiLagP99Ms: round(get(cur.api, 'linewatch_api_nodejs_eventloop_lag_p99_seconds') * 1000),
    loadLagP99Ms: round(cur.loadLagP99Ms),
    deadLetters: get(cur.detector, 'linewatch_dead_letters_total'),
    dropped: get(cur.detector, 'linewatch_points_dropped_total'),
    writeBuffer: get(cur.detector, 'linewatch_write_buffer_points'),
    apiReadingsPerS: round((cur.apiReadings - prev.apiReadings) / dtS, 0),
  };
}
