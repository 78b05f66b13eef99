import { decodePayload, parseTopic, StateMessageSchema, StationMetaSchema, TelemetrySchema, TruthSchema, type ParsedTopic } from '@linewatch/protocol';
import { z } from 'zod';
import type { StationMessage } from './entries.js';

export type CheckedMessage =
  | { status: 'valid'; message: StationMessage }
  /** An empty retained payload: the publisher deleted a retained meta or state. Nothing to record. */
  | { status: 'cleared'; kind: string }
  | { status: 'invalid'; reason: string };

const AnyJson = z.unknown();

/**
 * Validates one received MQTT message with the protocol schemas, as the detector does at its boundary: the
 * topic must be a station topic of a recorded kind, the payload must decode and parse, and meta and truth must
 * name the station of their topic. Never throws.
 */
export function checkMessage(topic: string, payload: Uint8Array, maxBytes: number): CheckedMessage {
  const parsed = parseTopic(topic);
  if (!parsed) return { status: 'invalid', reason: 'topic is not a linewatch station topic (bad ids or kind)' };
  if (payload.byteLength === 0 && (parsed.kind === 'meta' || parsed.kind === 'state')) return { status: 'cleared', kind: parsed.kind };
  const decoded = decodePayload(payload, AnyJson, maxBytes);
  if (!decoded.ok) return { status: 'invalid', reason: decoded.reason };
  return checkPayload(parsed, decoded.value);
}

/** The schema check of a decoded payload; the simulator source uses it on payloads it never serialised. */
export function checkPayload({ line, station, kind }: ParsedTopic, payload: unknown): CheckedMessage {
  switch (kind) {
    case 'telemetry': {
      const r = TelemetrySchema.safeParse(payload);
      return r.success ? { status: 'valid', message: { kind, line, station, msg: r.data } } : invalid(r.error);
    }
    case 'state': {
      const r = StateMessageSchema.safeParse(payload);
      return r.success ? { status: 'valid', message: { kind, line, station, msg: r.data } } : invalid(r.error);
    }
    case 'meta': {
      const r = StationMetaSchema.safeParse(payload);
      if (!r.success) return invalid(r.error);
      if (r.data.line !== line || r.data.station !== station) return { status: 'invalid', reason: `meta ids ${r.data.line}/${r.data.station} do not match the topic` };
      return { status: 'valid', message: { kind, line, station, msg: r.data } };
    }
    case 'truth': {
      const r = TruthSchema.safeParse(payload);
      if (!r.success) return invalid(r.error);
      if (r.data.line !== line || r.data.station !== station) return { status: 'invalid', reason: `truth ids ${r.data.line}/${r.data.station} do not match the topic` };
      return { status: 'valid', message: { kind, line, station, msg: r.data } };
    }
    default:
      return { status: 'invalid', reason: `${kind} messages are not recorded` };
  }
}

function invalid(error: z.ZodError): CheckedMessage {
  const issues = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  return { status: 'invalid', reason: `schema: ${issues}` };
}
