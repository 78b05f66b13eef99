/**
 * MQTT topic builders and parser. The protocol version lives in the topic, so a
 * v2 payload can run beside v1 on the same broker.
 *
 * @example
 * topics.telemetry('fab1', 'etch-01') // 'linewatch/v1/fab1/etch-01/telemetry'
 * parseTopic('linewatch/v1/fab1/etch-01/status') // { line: 'fab1', station: 'etch-01', kind: 'status' }
 */
export const TOPIC_ROOT = 'linewatch/v1';

/** Every per-station message kind, one MQTT topic leaf each. */
export const STATION_TOPIC_KINDS = ['telemetry', 'state', 'status', 'anomaly', 'truth', 'meta', 'quality', 'wafer', 'command'] as const;
export type StationTopicKind = (typeof STATION_TOPIC_KINDS)[number];

/** Line and station ids: safe in a topic, a URL path and an InfluxDB tag. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Any name (an MQTT client id, say) as one safe path, topic and tag segment: every character outside
 * `A-Z a-z 0-9 _ . -` becomes `_`, so it cannot add a level to a topic or escape a folder.
 */
export function topicSafe(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return safe === '.' || safe === '..' ? safe.replace(/\./g, '_') : safe;
}

function stationTopic(kind: StationTopicKind) {
  return (line: string, station: string): string => `${TOPIC_ROOT}/${line}/${station}/${kind}`;
}

export const topics = {
  telemetry: stationTopic('telemetry'),
  state: stationTopic('state'),
  status: stationTopic('status'),
  anomaly: stationTopic('anomaly'),
  truth: stationTopic('truth'),
  meta: stationTopic('meta'),
  /** Data-quality issues raised and cleared, from the detector. */
  quality: stationTopic('quality'),
  /** Wafer-level verdicts, from the detector. */
  wafer: stationTopic('wafer'),
  /** Requests to the detector that owns the station (e.g. a re-baseline), from the API. */
  command: stationTopic('command'),
  /** A service's health (ServiceHealth), retained; the instance is made topic-safe. */
  health: (service: string, instance: string): string => `${TOPIC_ROOT}/_health/${service}/${topicSafe(instance)}`,
  /** Every service's health. */
  allHealth: `${TOPIC_ROOT}/_health/+/+`,
  /** Messages that failed validation, republished with the reason. */
  deadLetter: `${TOPIC_ROOT}/_deadletter`,
  /** Wildcard subscription for one kind on every line and station. */
  all: (kind: StationTopicKind, line = '+'): string => `${TOPIC_ROOT}/${line}/+/${kind}`,
  /** MQTT 5 / Mosquitto shared subscription: the broker splits messages across the group. */
  shared: (group: string, filter: string): string => `$share/${group}/${filter}`,
} as const;

export interface ParsedTopic {
  line: string;
  station: string;
  kind: StationTopicKind;
}

/** Parses a per-station topic; returns undefined for anything that is not one (including bad ids). */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const [, , line, station, kind] = parts as [string, string, string, string, string];
  if (!ID_PATTERN.test(line) || !ID_PATTERN.test(station)) return undefined;
  if (!(STATION_TOPIC_KINDS as readonly string[]).includes(kind)) return undefined;
  return { line, station, kind: kind as StationTopicKind };
}
