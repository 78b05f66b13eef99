import type { ModelMetadata, ProcessContext } from '@linewatch/protocol';

/** The process context a model is the baseline for; `{}` is the idle baseline. */
export type ModelContext = NonNullable<ModelMetadata['context']>;

/**
 * The step a tool reports while it runs no recipe (the simulator sends `{ step: 'idle' }` between wafers).
 * Such snapshots share the idle baseline with snapshots that carry no context at all.
 */
export const IDLE_STEP = 'idle';

/** True for a snapshot of a tool that runs no recipe: no context, or no recipe and no step other than idle. */
export function isIdleContext(context: ProcessContext | undefined): boolean {
  return !context?.recipe && (!context?.step || context.step === IDLE_STEP);
}

/** Index key of a (recipe, step) pair; an absent recipe or step is part of the key, not a wildcard. */
export function contextKey(context: { recipe?: string | undefined; step?: string | undefined }): string {
  return JSON.stringify([context.recipe ?? null, context.step ?? null]);
}

/** The model context a normal training row belongs to: idle rows feed the `{}` baseline, others their (recipe, step). */
export function trainingContext(context: ProcessContext | undefined): ModelContext {
  if (isIdleContext(context)) return {};
  return {
    ...(context?.recipe !== undefined ? { recipe: context.recipe } : {}),
    ...(context?.step !== undefined ? { step: context.step } : {}),
  };
}

const unsafe = /[^A-Za-z0-9._-]/g;

/**
 * Filesystem-safe file stem of a context model, e.g. `ETCH-AL-01--main_etch`, `_idle` for `{}`.
 * Distinct contexts can map to one slug (`a b` and `a_b`); the trainer refuses such a set.
 */
export function contextSlug(context: ModelContext): string {
  if (!context.recipe && !context.step) return '_idle';
  const part = (s: string | undefined): string => (s ? s.replace(unsafe, '_') : '_');
  return `${part(context.recipe)}--${part(context.step)}`;
}

/** Suffix that makes a model version unique per context, e.g. `#ETCH-AL-01/main_etch`, `#idle`. */
export function contextLabel(context: ModelContext): string {
  if (!context.recipe && !context.step) return IDLE_STEP;
  return `${context.recipe ?? '-'}/${context.step ?? '-'}`;
}
