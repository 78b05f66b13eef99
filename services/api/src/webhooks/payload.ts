import type { AlertEvidence, AlertLevel, BrokenCorrelation, Contributor, RuleHit, SampleVerdictSummary, Severity, WaferVerdictSummary } from '@linewatch/protocol';
import type { Alert, AlertClass, AlertState, Notification, NotificationKind } from '../alerts/types.js';

/**
 * The webhook body: Alertmanager's webhook shape (version 4), so receivers that already take Alertmanager
 * (PagerDuty, Opsgenie, chat bridges, most MES adapters) parse it unchanged, plus linewatch's own fields on each
 * alert, enough to act on without a second lookup. One notification is one alert, so the group is that alert.
 * Both verdicts of a station show side by side: a sample-wise alert carries the station's latest wafer verdict
 * (`lastWafer`), a wafer-level alert the station's sample-wise status when the wafer's verdict came (`lastSample`);
 * `labels.level` says which raised it.
 */

/** What Alertmanager sends as `endsAt` while an alert is firing: Go's zero time. */
export const FIRING_ENDS_AT = '0001-01-01T00:00:00Z';

export interface WebhookAlert extends AlertEvidence {
  // Always present in a body, null or empty when they do not apply (an alert of the test delivery, say).
  level: AlertLevel;
  wafer: NonNullable<AlertEvidence['wafer']> | null;
  rules: RuleHit[];
  brokenCorrelations: BrokenCorrelation[];
  lastWafer: WaferVerdictSummary | null;
  lastSample: SampleVerdictSummary | null;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  /** The station's page. */
  generatorURL: string;
  /** The episode id: stable over the episode's firing, escalated and resolved notifications. */
  fingerprint: string;
  // linewatch's additions
  kind: NotificationKind | 'test';
  state: AlertState | null;
  severity: Severity;
  class: AlertClass | null;
  stationURL: string | null;
  firingAt: string | null;
  acknowledged: { by: string; at: string; comment: string } | null;
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: 0;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export interface PayloadOptions {
  /** The receiver's name as Alertmanager would put it: the subscription's id or name. */
  receiver: string;
  stationUrl: (line: string, station: string) => string;
  /** linewatch's own address; defaults to the origin of the station links. */
  externalUrl?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const short = (x: number): string => String(Number(x.toPrecision(4)));

/** Alertmanager's group key format, `{}:{name="value",...}`, quoted the way Go's %q quotes plain strings. */
function groupKey(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `{}:{${pairs.join(',')}}`;
}

function originOf(url: string): string {
  try {
    return `${new URL(url).origin}/`;
  } catch {
    return '';
  }
}

/** Largest share first: the sensor to look at first leads. */
function ranked(contributors: Contributor[]): Contributor[] {
  return [...contributors].sort((x, y) => y.contribution - x.contribution);
}

const percent = (share: number): string => `${Math.round(share * 100)}%`;

/** `rf_power 1620 (expected 1500, 71%)`; a wafer-level indicator names its stat: `rf_power.mean 1620 (...)`. */
function contributorText(c: Contributor): string {
  return `${c.sensor}${c.stat ? `.${c.stat}` : ''} ${short(c.value)} (expected ${short(c.expected)}, ${percent(c.contribution)})`;
}

/** `WE1 rf_power high (1620 vs centre 1500, sigma 40)`. */
function ruleText(r: RuleHit): string {
  return `${r.rule} ${r.sensor} ${r.side} (${short(r.value)} vs centre ${short(r.center)}, sigma ${short(r.sigma)})`;
}

/** `rf_power ~ chamber_pressure (normally r 0.92; now z 3.1, -0.4)`. */
function correlationText(b: BrokenCorrelation): string {
  return `${b.sensors[0]} ~ ${b.sensors[1]} (normally r ${short(b.correlation)}; now z ${short(b.z[0])}, ${short(b.z[1])})`;
}

/** `wafer W07, step main_etch: fault, score 3.1 (threshold 1), ended 2025-11-29T06:00:00.000Z`. */
function waferVerdictText(w: WaferVerdictSummary): string {
  return `wafer ${w.wafer}, step ${w.step}: ${w.verdict}, score ${short(w.score)} (threshold ${short(w.threshold)}), ended ${iso(w.end)}`;
}

/** `ALARM, score 2.1 (threshold 1)`. */
function sampleVerdictText(s: SampleVerdictSummary): string {
  return `${s.health}${s.score === null ? '' : `, score ${short(s.score)}${s.threshold === null ? '' : ` (threshold ${short(s.threshold)})`}`}`;
}

/**
 * Alertmanager annotations: a summary and a description for people, then one annotation per piece of evidence a
 * receiver may want to route on or show in a ticket field of its own (wafer, lot, step, indicators, rules, ...).
 */
function annotations(n: Notification): Record<string, string> {
  const a = n.alert;
  const wafer = a.level === 'wafer' ? (a.wafer ?? null) : null;
  const what = a.class === 'process' ? 'process' : 'data-quality';
  const verb = n.kind === 'resolved' ? 'resolved' : n.kind === 'escalated' ? `escalated to ${a.severity}` : 'firing';
  const summary = `${a.line}/${a.station}: ${what} alert ${a.source} ${verb}${wafer ? ` (wafer ${wafer.wafer})` : ''}`;
  const out: Record<string, string> = { summary, description: '' };
  const parts: string[] = [];
  if (wafer) {
    parts.push(`wafer ${wafer.wafer}${wafer.lot ? ` (lot ${wafer.lot})` : ''}, step ${wafer.step}`);
    Object.assign(out, { wafer: wafer.wafer, step: wafer.step }, wafer.lot ? { lot: wafer.lot } : {}, wafer.recipe ? { recipe: wafer.recipe } : {});
  }
  if (a.score !== null) parts.push(`score ${short(a.score)}${a.threshold === null ? '' : ` (threshold ${short(a.threshold)})`}`);
  if (a.contributors.length > 0) {
    const top = ranked(a.contributors).slice(0, 3).map(contributorText);
    parts.push(`${wafer ? 'top indicators' : 'top contributors'}: ${top.join(', ')}`);
    if (wafer) out.indicators = top.join(', ');
  }
  if (a.rules && a.rules.length > 0) {
    out.spcRules = a.rules.map(ruleText).join(', ');
    parts.push(`SPC rules: ${out.spcRules}`);
  }
  if (a.brokenCorrelations && a.brokenCorrelations.length > 0) {
    out.brokenCorrelations = a.brokenCorrelations.map(correlationText).join(', ');
    parts.push(`broken correlations: ${out.brokenCorrelations}`);
  }
  if (a.equipmentState) parts.push(`equipment ${a.equipmentState}`);
  if (wafer && a.lastSample) {
    out.sampleVerdict = sampleVerdictText(a.lastSample);
    parts.push(`sample-wise: ${out.sampleVerdict}`);
  }
  if (!wafer && a.lastWafer) {
    out.lastWaferVerdict = waferVerdictText(a.lastWafer);
    parts.push(`latest wafer: ${out.lastWaferVerdict}`);
  }
  if (a.ack) parts.push(`acknowledged by ${a.ack.by}`);
  out.description = parts.join('; ') || summary;
  return out;
}

/** The alert's level and its level-specific evidence, in the body's always-present shape. */
function levelEvidence(a: Alert): Pick<WebhookAlert, 'level' | 'wafer' | 'rules' | 'brokenCorrelations' | 'lastWafer' | 'lastSample'> {
  const level = a.level ?? 'sample';
  return {
    level,
    wafer: level === 'wafer' ? (a.wafer ?? null) : null,
    rules: a.rules ?? [],
    brokenCorrelations: a.brokenCorrelations ?? [],
    lastWafer: a.lastWafer ?? null,
    lastSample: a.lastSample ?? null,
  };
}

function payload(receiver: string, externalURL: string, alert: WebhookAlert, groupLabels: Record<string, string>): string {
  const body: WebhookPayload = {
    version: '4',
    groupKey: groupKey(groupLabels),
    truncatedAlerts: 0,
    status: alert.status,
    receiver,
    groupLabels,
    commonLabels: alert.labels,
    commonAnnotations: alert.annotations,
    externalURL,
    alerts: [alert],
  };
  return JSON.stringify(body);
}

/** The JSON body of one notification. Built once, at enqueue, so every retry sends the same bytes. */
export function buildPayload(n: Notification, opts: PayloadOptions): string {
  const a = n.alert;
  const status = n.kind === 'resolved' ? 'resolved' : 'firing';
  const stationURL = opts.stationUrl(a.line, a.station);
  const groupLabels = { alertname: a.source, line: a.line, station: a.station };
  const evidence = levelEvidence(a);
  const alert: WebhookAlert = {
    status,
    labels: { ...groupLabels, severity: a.severity, class: a.class, level: evidence.level },
    annotations: annotations(n),
    startsAt: iso(a.startedAt),
    endsAt: status === 'resolved' ? iso(a.resolvedAt ?? n.at) : FIRING_ENDS_AT,
    generatorURL: stationURL,
    fingerprint: a.id,
    kind: n.kind,
    state: a.state,
    severity: a.severity,
    class: a.class,
    stationURL,
    firingAt: a.firingAt === null ? null : iso(a.firingAt),
    score: a.score,
    threshold: a.threshold,
    modelVersion: a.modelVersion,
    contributors: ranked(a.contributors),
    equipmentState: a.equipmentState,
    replay: a.replay,
    ...evidence,
    acknowledged: a.ack ? { by: a.ack.by, at: iso(a.ack.at), comment: a.ack.comment } : null,
  };
  return payload(opts.receiver, opts.externalUrl ?? originOf(stationURL), alert, groupLabels);
}

/** The body of a test delivery ("send a test" on a subscription): the same shape, marked `kind: "test"`. */
export function buildTestPayload(opts: { receiver: string; at: number; externalUrl: string }): string {
  const groupLabels = { alertname: 'LinewatchTest' };
  const alert: WebhookAlert = {
    status: 'firing',
    labels: { ...groupLabels, severity: 'warning' },
    annotations: { summary: 'linewatch test delivery', description: 'Sent by hand to check this receiver; no alert is behind it.' },
    startsAt: iso(opts.at),
    endsAt: FIRING_ENDS_AT,
    generatorURL: opts.externalUrl,
    fingerprint: `test/${opts.at}`,
    kind: 'test',
    state: null,
    severity: 'warning',
    class: null,
    stationURL: null,
    firingAt: null,
    score: null,
    threshold: null,
    modelVersion: null,
    contributors: [],
    equipmentState: null,
    replay: false,
    level: 'sample',
    wafer: null,
    rules: [],
    brokenCorrelations: [],
    lastWafer: null,
    lastSample: null,
    acknowledged: null,
  };
  return payload(opts.receiver, opts.externalUrl, alert, groupLabels);
}
