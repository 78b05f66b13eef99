import { z } from 'zod';

/** Broker URL accepted by every service: mqtt://, mqtts://, ws:// or wss://. It may carry credentials. */
export const MqttUrlSchema = z.string().regex(/^(mqtts?|wss?):\/\/./, 'must be an mqtt://, mqtts://, ws:// or wss:// URL');

/** pino levels. */
export const LogLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Keys whose value may come from a file instead (`API_TOKEN_FILE=/run/secrets/api_token`): the secrets. */
export const SECRET_KEY = /(PASSWORD|TOKEN|SECRET)$/;

/**
 * Parses a service's env against its zod schema, once, at start-up. Only the schema's own keys are read, and an
 * empty string counts as unset (docker-compose passes `KEY=` through), so defaults apply. A secret (a key ending in
 * PASSWORD, TOKEN or SECRET) that is unset may be read from the file its `_FILE` twin names, as docker secrets are
 * mounted; `readFile` does the reading (the service passes `fs.readFileSync`; this package also runs in the
 * browser). Throws one Error that lists every problem, so an operator fixes them all in one go.
 *
 * @example
 * const env = parseEnv(DetectorEnvSchema, process.env, 'detector', (path) => readFileSync(path, 'utf8'));
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>, service: string, readFile?: (path: string) => string): z.output<S> {
  const input: Record<string, string> = {};
  const problems: string[] = [];
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    const file = env[`${key}_FILE`];
    if (value !== undefined && value !== '') input[key] = value;
    else if (file && readFile && SECRET_KEY.test(key)) {
      try {
        // A trailing newline is the editor's, not the secret's.
        input[key] = readFile(file).replace(/\r?\n$/, '');
      } catch (err) {
        problems.push(`  ${key}_FILE: cannot read ${file} (${(err as { code?: string }).code ?? (err as Error).message})`);
      }
    }
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`));
  if (problems.length > 0 || !parsed.success) {
    throw new Error(`${service}: invalid configuration:\n${problems.join('\n')}`, { cause: parsed.error });
  }
  return parsed.data;
}

/**
 * One secret for a service that reads its env by hand (the simulator and its CLIs): `KEY`, or the content of the
 * file `KEY_FILE` names. Throws when that file cannot be read.
 *
 * @example
 * const password = envSecret(process.env, 'MQTT_PASSWORD', (path) => readFileSync(path, 'utf8'));
 */
export function envSecret(env: Record<string, string | undefined>, key: string, readFile: (path: string) => string): string | undefined {
  const value = env[key];
  if (value) return value;
  const file = env[`${key}_FILE`];
  if (!file) return undefined;
  try {
    return readFile(file).replace(/\r?\n$/, '');
  } catch (err) {
    throw new Error(`${key}_FILE: cannot read ${file} (${(err as { code?: string }).code ?? (err as Error).message})`, { cause: err });
  }
}
