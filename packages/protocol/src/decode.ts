import type { z } from 'zod';

/** One strict decoder for every payload: a TextDecoder per message would be garbage on the hot path. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Decodes an MQTT payload: size limit, strict UTF-8, JSON, then the schema. Never throws.
 *
 * @example
 * const r = decodePayload(buf, TelemetrySchema, 64 * 1024);
 * if (!r.ok) deadLetter(topic, r.reason);
 */
export function decodePayload<S extends z.ZodType>(payload: Uint8Array, schema: S, maxBytes: number): DecodeResult<z.output<S>> {
  if (payload.byteLength > maxBytes) return { ok: false, reason: `payload too large: ${payload.byteLength} bytes > ${maxBytes}` };
  let text: string;
  try {
    text = UTF8.decode(payload);
  } catch {
    return { ok: false, reason: 'payload is not valid UTF-8' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: `schema: ${issues}` };
  }
  return { ok: true, value: parsed.data };
}
