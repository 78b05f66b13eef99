import { z } from 'zod';

/** Broker URL accepted by every service: mqtt://, mqtts://, ws:// or wss://. It may carry credentials. */
export const MqttUrlSchema = z.string().regex(/^(mqtts?|wss?):\/\/./, 'must be an mqtt://, mqtts://, ws:// or wss:// URL');

/** pino levels. */
export const LogLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Parses a service's env against its zod schema, once, at start-up. Only the schema's own keys are read, and an
 * empty string counts as unset (docker-compose passes `KEY=` through), so defaults apply. Throws one Error that
 * lists every problem, so an operator fixes them all in one go.
 *
 * @example
 * const env = parseEnv(DetectorEnvSchema, process.env, 'detector');
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>, service: string): z.output<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`${service}: invalid configuration:\n${problems.join('\n')}`, { cause: parsed.error });
  }
  return parsed.data;
}
