import { readFileSync } from 'node:fs';

/**
 * Node-only helpers of the config contract (the services import them from `@linewatch/protocol/node`; the page
 * never does): secrets read from files, and broker TLS.
 */

/** Reads a secret's file (`MQTT_PASSWORD_FILE`, a docker secret) for `parseEnv` and `envSecret`. */
export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8');
}

/** TLS settings of a broker link, as mqtt.js takes them (`mqtts://` or `wss://` URLs). */
export interface BrokerTls {
  /** The CA that signed the broker's certificate, when it is not a public one. */
  ca?: Buffer;
  /** A client certificate and its key, for a broker that requires one (`require_certificate true`). */
  cert?: Buffer;
  key?: Buffer;
  /** false only with MQTT_TLS_INSECURE=true: accepts any broker certificate (for a test bench, never a fab). */
  rejectUnauthorized?: boolean;
}

/**
 * The broker TLS settings every service takes from env: MQTT_CA_FILE, MQTT_CERT_FILE and MQTT_KEY_FILE (PEM file
 * paths) and MQTT_TLS_INSECURE. Throws one Error naming what is wrong (an unreadable file, a certificate without its
 * key), so a service refuses to start rather than connect without the TLS it was told to use.
 *
 * @example
 * mqtt.connect('mqtts://broker:8883', { ...brokerTlsFromEnv(process.env), clientId })
 */
export function brokerTlsFromEnv(env: Record<string, string | undefined>, readFile: (path: string) => Buffer = (p) => readFileSync(p)): BrokerTls {
  const problems: string[] = [];
  const tls: BrokerTls = {};
  for (const [key, field] of [['MQTT_CA_FILE', 'ca'], ['MQTT_CERT_FILE', 'cert'], ['MQTT_KEY_FILE', 'key']] as const) {
    const file = env[key];
    if (!file) continue;
    try {
      tls[field] = readFile(file);
    } catch (err) {
      problems.push(`${key}: cannot read ${file} (${(err as { code?: string }).code ?? (err as Error).message})`);
    }
  }
  if (Boolean(env.MQTT_CERT_FILE) !== Boolean(env.MQTT_KEY_FILE)) problems.push('MQTT_CERT_FILE and MQTT_KEY_FILE go together: a client certificate needs its key');
  const insecure = env.MQTT_TLS_INSECURE;
  if (insecure !== undefined && insecure !== '' && insecure !== 'true' && insecure !== 'false') problems.push('MQTT_TLS_INSECURE must be true or false');
  if (insecure === 'true') tls.rejectUnauthorized = false;
  if (problems.length > 0) throw new Error(`broker TLS settings: ${problems.join('; ')}`);
  return tls;
}
