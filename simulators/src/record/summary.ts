import type { RecordingHeader } from '@linewatch/recording';
import type { InvalidTally } from './invalid-tally.js';
import type { RecorderStats } from './mqtt-recorder.js';

export interface SummaryInput {
  path: string;
  bytes: number;
  header: RecordingHeader;
  invalid: InvalidTally;
  wallMs: number;
  /** Broker recordings only. */
  broker?: RecorderStats | undefined;
}

const MAX_STATIONS_LISTED = 12;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The record CLI's report: what is in the file, where it came from, and everything that was not recorded and why. */
export function formatSummary({ path, bytes, header, invalid, wallMs, broker }: SummaryInput): string {
  const { counts, stations } = header;
  const lines = [
    `recorded ${path} (${(bytes / 1024).toFixed(1)} KiB)`,
    `  source      ${header.source.kind}: ${header.source.detail}${header.scenario ? `, scenario ${header.scenario}` : ''}`,
    `  entries     telemetry ${counts.telemetry}, state ${counts.state}, meta ${counts.meta}, truth ${counts.truth}; labels ${header.labels}`,
    `  stations    ${stations.length} on ${header.lines.join(', ') || '(none)'}`,
  ];
  for (const s of stations.slice(0, MAX_STATIONS_LISTED)) {
    lines.push(`              ${s.line}/${s.station}${s.type ? ` (${s.type})` : ''}: ${s.telemetry} snapshots, ${s.sensors.length} sensors`);
  }
  if (stations.length > MAX_STATIONS_LISTED) lines.push(`              ... and ${stations.length - MAX_STATIONS_LISTED} more`);
  const span = header.end - header.start;
  lines.push(counts.telemetry + counts.state + counts.meta + counts.truth === 0
    ? '  time range  (empty recording)'
    : `  time range  ${iso(header.start)} .. ${iso(header.end)} (${(span / 1000).toFixed(1)} s of data)`);
  const seconds = wallMs / 1000;
  lines.push(`  took        ${seconds.toFixed(2)} s, ${Math.round(counts.telemetry / Math.max(seconds, 0.001))} telemetry/s`);
  if (broker) {
    const { firstTelemetryAt: first, lastTelemetryAt: last } = broker;
    if (first !== null && last !== null && last > first) {
      lines.push(`  flow        ${Math.round((counts.telemetry - 1) / ((last - first) / 1000))} telemetry/s from the first snapshot to the last`);
    }
    lines.push(`  broker      received ${broker.received}, live ${broker.live}, replayed ${broker.replayed}, duplicates skipped ${broker.duplicates}, ` +
      `lost by seq ${broker.lost}, out of order ${broker.reordered}, seq resets ${broker.resets}, cleared ${broker.cleared}, writer waits ${broker.writerWaits}, reconnects ${broker.reconnects}`);
    if (broker.live > 0 && broker.replayed > 0) lines.push('  warning     live and replayed messages are mixed in this recording');
  }
  lines.push(`  invalid     ${invalid.count}${invalid.count > 0 ? ' (not recorded):' : ''}`);
  for (const r of invalid.list()) lines.push(`              ${r.count} x ${r.reason} (first on ${r.topic})`);
  return lines.join('\n');
}
