import { z } from 'zod';
import { EpochMsSchema, IdSchema } from '@linewatch/protocol';
import type { AlertClass, AlertState } from './types.js';

export const ALERT_STATES = ['pending', 'firing', 'acknowledged', 'resolved'] as const satisfies readonly AlertState[];
export const AlertStateSchema = z.enum(ALERT_STATES);

export const ALERT_CLASSES = ['process', 'data_quality'] as const satisfies readonly AlertClass[];
export const AlertClassSchema = z.enum(ALERT_CLASSES);

// The enums above must list every member of the shared types, not just some of them.
const _everyState: readonly (typeof ALERT_STATES)[number][] = [] as AlertState[];
const _everyClass: readonly (typeof ALERT_CLASSES)[number][] = [] as AlertClass[];
void _everyState;
void _everyClass;

export const DEFAULT_ALERT_LIMIT = 100;
export const MAX_ALERT_LIMIT = 1000;
export const DEFAULT_TRANSITION_LIMIT = 1000;
export const MAX_TRANSITION_LIMIT = 10_000;

/**
 * A query of `AlertDb.alerts()`; the REST layer may parse its input with this schema to answer 400 itself.
 * `from`/`to` select alerts active at some point in [from, to): started before `to`, and unresolved or resolved
 * at or after `from`. So "the last 24 h" includes an alert that started 2 days ago and resolved an hour ago.
 */
export const AlertQuerySchema = z.strictObject({
  states: z.array(AlertStateSchema).min(1).max(ALERT_STATES.length).optional(),
  line: IdSchema.optional(),
  station: IdSchema.optional(),
  class: AlertClassSchema.optional(),
  from: EpochMsSchema.optional(),
  to: EpochMsSchema.optional(),
  limit: z.number().int().min(1).max(MAX_ALERT_LIMIT).default(DEFAULT_ALERT_LIMIT),
});
export type AlertQuery = z.input<typeof AlertQuerySchema>;

/** A query of `AlertDb.transitions()`: transitions with `from <= at < to`, oldest first. */
export const TransitionQuerySchema = z.strictObject({
  from: EpochMsSchema,
  to: EpochMsSchema,
  limit: z.number().int().min(1).max(MAX_TRANSITION_LIMIT).default(DEFAULT_TRANSITION_LIMIT),
});
export type TransitionQuery = z.input<typeof TransitionQuerySchema>;

/**
 * Parses with a zod schema, throwing one Error that names every problem. Messages carry paths and rules, never
 * the rejected values, because some inputs (secrets, header values) must not reach a log.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : what}: ${i.message}`).join('; ');
  throw new Error(`invalid ${what}: ${problems}`, { cause: parsed.error });
}

/**
 * The SQL of one `alerts()` query: only the filters given, so SQLite can use the matching index. At most 2^6
 * texts exist, each prepared once by the caller.
 */
export function selectAlertsSql(q: z.output<typeof AlertQuerySchema>): string {
  const where: string[] = [];
  if (q.states) where.push('state IN (SELECT value FROM json_each(@states))');
  if (q.line !== undefined) where.push('line = @line');
  if (q.station !== undefined) where.push('station = @station');
  if (q.class !== undefined) where.push('class = @class');
  if (q.to !== undefined) where.push('started_at < @to');
  if (q.from !== undefined) where.push('(resolved_at IS NULL OR resolved_at >= @from)');
  return `SELECT body FROM alert ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT @limit`;
}
