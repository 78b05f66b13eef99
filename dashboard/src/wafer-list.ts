import type {
  BrokenCorrelation,
  Contributor,
  DataQualityIssue,
  DataQualityKind,
  RuleHit,
  StationView,
  WaferVerdict,
  WaferVerdictSummary,
} from '@linewatch/protocol';
import { formatAge, formatClock, formatNumber } from './format.js';
import { t, type TextKey } from './i18n.js';

/** Verdicts the page keeps per station (the station view lists fewer); the server's snapshot brings 20. */
export const MAX_WAFERS_PER_STATION = 50;

type Verdict = WaferVerdict['verdict'];

/**
 * Shapes beside the word, as for health: a verdict reads without colour vision and from across the room. Getters, so
 * `VERDICT_LABEL[v]` is always in the page language.
 */
export const VERDICT_LABEL: Readonly<Record<Verdict, string>> = {
  get ok() {
    return t('wafers.verdict.ok');
  },
  get fault() {
    return t('wafers.verdict.fault');
  },
  get baselining() {
    return t('wafers.verdict.baselining');
  },
};

/** Newest first: by the end of the wafer's step, then by id (the server's order). */
function byNewestStep(a: WaferVerdict, b: WaferVerdict): number {
  return b.end - a.end || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Keeps at most `perStation` verdicts of each station, newest first. */
function bounded(list: WaferVerdict[], perStation: number): WaferVerdict[] {
  const counts = new Map<string, number>();
  return list.filter((v) => {
    const n = counts.get(v.station) ?? 0;
    counts.set(v.station, n + 1);
    return n < perStation;
  });
}

export const waferList = {
  /** The snapshot's verdicts replace the page's: they are the server's whole picture. */
  fromSnapshot: (verdicts: WaferVerdict[]): WaferVerdict[] => bounded([...verdicts].sort(byNewestStep), MAX_WAFERS_PER_STATION),
  /** One new verdict; a repeat (the same id) changes nothing, and the list keeps its identity then. */
  add(list: WaferVerdict[], verdict: WaferVerdict): WaferVerdict[] {
    if (list.some((v) => v.id === verdict.id)) return list;
    return bounded([verdict, ...list].sort(byNewestStep), MAX_WAFERS_PER_STATION);
  },
};

/** A station's latest verdicts, newest first. */
export function stationWafers(list: WaferVerdict[], station: string, limit = 10): WaferVerdict[] {
  return list.filter((v) => v.station === station).slice(0, limit);
}

/**
 * The station's latest wafer verdict for its tile: the newer of what its status says (`lastWafer`) and the latest
 * verdict the page heard, so the badge moves with the verdict even before the next status.
 */
export function latestWafer(view: StationView, list: WaferVerdict[]): WaferVerdictSummary | null {
  const heard = list.find((v) => v.station === view.meta.station && v.line === view.meta.line) ?? null;
  const told = view.status?.lastWafer ?? null;
  if (heard === null) return told;
  if (told !== null && told.end > heard.end) return told;
  return { wafer: heard.wafer, step: heard.step, end: heard.end, verdict: heard.verdict, score: heard.score, threshold: heard.threshold };
}

/** `main_etch` as people read it. */
export function stepName(step: string): string {
  return step.replace(/_/g, ' ');
}

/** A wafer-level indicator as an engineer reads it: `rf_power.mean 1620 (1500)`, observed then expected. */
export function indicatorText(c: Contributor): string {
  return `${c.sensor}${c.stat ? `.${c.stat}` : ''} ${formatNumber(c.value)} (${formatNumber(c.expected)})`;
}

/** The indicator that contributed most, or null (an ok wafer carries none). */
export function topIndicator(v: Pick<WaferVerdict, 'contributors'>): Contributor | null {
  return v.contributors.reduce<Contributor | null>((best, c) => (best === null || c.contribution > best.contribution ? c : best), null);
}

/** `WE1 rf_power ▲`: which run rule fired on which sensor, and on which side of the centre line. */
export function ruleText(hit: RuleHit): string {
  return `${hit.rule} ${hit.sensor} ${hit.side === 'high' ? '▲' : '▼'}`;
}

/** `rf_power ⇄ chamber_pressure`: a pair that normally moves together and no longer does. */
export function correlationText(b: BrokenCorrelation): string {
  return `${b.sensors[0]} ⇄ ${b.sensors[1]}`;
}

/** The kind of a data-quality issue, as a word: `out_of_range` → `OUT OF RANGE`. */
const QUALITY_KIND: Record<DataQualityKind, TextKey> = {
  stuck: 'quality.kind.stuck',
  out_of_range: 'quality.kind.out_of_range',
  missing_sensor: 'quality.kind.missing_sensor',
  stale: 'quality.kind.stale',
  seq_gap: 'quality.kind.seq_gap',
  clock_skew: 'quality.kind.clock_skew',
};

/**
 * One data-quality issue, plainly: `STUCK · rf_power · unchanged for 60 s · since 12:00:01 (3 min)`. No age when
 * `serverNow` is null (replayed data runs on its own clock).
 */
export function qualityIssueText(issue: DataQualityIssue, serverNow: number | null): string {
  // `detail` comes from the detector in English; the kind and the frame around it are the page's.
  const text = t('quality.issue', { kind: t(QUALITY_KIND[issue.kind]), sensor: issue.sensor ?? t('quality.wholeStation'), detail: issue.detail, time: formatClock(issue.since) });
  return serverNow === null ? text : `${text} (${formatAge(serverNow - issue.since)})`;
}

