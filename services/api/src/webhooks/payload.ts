import type { AlertEvidence, Contributor, Severity } from '@linewatch/protocol';
import type { AlertClass, AlertState, Notification, NotificationKind } from '../alerts/types.js';

/**
 * The webhook body: Alertmanager's webhook shape (version 4), so receivers that already take Alertmanager
 * (PagerDuty, Opsgenie, chat bridges, most MES adapters) parse it unchanged, plus linewatch's own fields on each
 * alert, enough to act on without a second lookup. One notification is one alert, so the group is that alert.
 */

/** What Alertmanager sends as `endsAt` while an alert is firing: Go's zero time. */
export const FIRING_ENDS_AT = '0001-01-01T00:00:00Z';

export interface WebhookAlert extends AlertEvidence {
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

function describe(n: Notification): { summary: string; description: string } {
  const a = n.alert;
  const what = a.class === 'process' ? 'process' : 'data-quality';
  const verb = n.kind === 'resolved' ? 'resolved' : n.kind === 'escalated' ? `escalated to ${a.severity}` : 'firing';
  const summary = `${a.line}/${a.station}: ${what} alert ${a.source} ${verb}`;
  const parts: string[] = [];
  if (a.score !== null) parts.push(`score ${short(a.score)}${a.threshold === null ? '' : ` (threshold ${short(a.threshold)})`}`);
  if (a.contributors.length > 0) {
    const top = ranked(a.contributors).slice(0, 3).map((c) => `${c.sensor} ${short(c.value)} (expected ${short(c.expected)}, ${Math.round(c.contribution * 100)}%)`);
    parts.push(`top contributors: ${top.join(', ')}`);
  }
  if (a.equipmentState) parts.push(`equipment ${a.equipmentState}`);
  if (a.ack) parts.push(`acknowledged by ${a.ack.by}`);
  return { summary, description: parts.join('; ') || summary };
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
  const alert: WebhookAlert = {
    status,
    labels: { ...groupLabels, severity: a.severity, class: a.class },
    annotations: describe(n),
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
    acknowledged: null,
  };
  return payload(opts.receiver, opts.externalUrl, alert, groupLabels);
}
