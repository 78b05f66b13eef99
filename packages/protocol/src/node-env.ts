import { readFileSync } from 'node:fs';

/**
 * Reads a secret's file (`MQTT_PASSWORD_FILE`, a docker secret) for `parseEnv` and `envSecret`. Node only: the
 * services import it from `@linewatch/protocol/node`, the page never does.
 */
export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8');
}
