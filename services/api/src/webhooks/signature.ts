import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): a secret is `whsec_` + base64 of the key
 * bytes, and a signature is `v1,` + base64(HMAC-SHA256(key, `${msgId}.${timestamp}.${body}`)). A header carries
 * one signature per valid secret, space-separated, so a receiver holding either secret accepts the message
 * while a secret is rotated.
 */

const SECRET_PREFIX = 'whsec_';
const VERSION = 'v1';
/** Standard Webhooks' default: replays older (or newer) than five minutes are refused. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** Standard Webhooks' range, the same the subscription store accepts: 24 to 64 random bytes. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SHA256_BYTES = 32;

/** The key bytes of a `whsec_` secret, or null when it is not one (so it can be skipped, never half-used). */
export function secretKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= MIN_KEY_BYTES && key.length <= MAX_KEY_BYTES ? key : null;
}

/**
 * A new random signing secret.
 *
 * @example
 * newSecret() // 'whsec_' + 44 base64 characters (32 random bytes)
 */
export function newSecret(bytes = 32): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

function digest(key: Buffer, msgId: string, timestamp: number, body: string): Buffer {
  return createHmac('sha256', key).update(`${msgId}.${timestamp}.${body}`, 'utf8').digest();
}

/**
 * One `v1,` signature of a message.
 *
 * @example
 * sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 */
export function sign(secret: string, msgId: string, timestamp: number, body: string): string {
  const key = secretKey(secret);
  if (!key) throw new Error('not a signing secret: expected whsec_ and 24 to 64 base64-encoded bytes');
  return `${VERSION},${digest(key, msgId, timestamp, body).toString('base64')}`;
}

/**
 * The `webhook-signature` header: one signature per valid secret, space-separated. Invalid secrets are skipped;
 * with none left there is nothing to sign with, and that is an error rather than an unsigned delivery.
 */
export function signatureHeader(secrets: string[], msgId: string, timestamp: number, body: string): string {
  const signatures = secrets.filter((s) => secretKey(s) !== null).map((s) => sign(s, msgId, timestamp, body));
  if (signatures.length === 0) throw new Error('no valid signing secret: cannot sign the delivery');
  return signatures.join(' ');
}

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const found = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return found === undefined ? undefined : headers[found];
}

/**
 * True when the message carries a valid signature by any of the secrets and its timestamp is within the
 * tolerance of `nowSeconds` (either way, so a replayed or post-dated message is refused). Digests are compared
 * in constant time.
 */
export function verify(
  secrets: string[],
  headers: Record<string, string | undefined>,
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  const msgId = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!msgId || !timestampText || !signatures || !/^\d{1,12}$/.test(timestampText)) return false;
  const timestamp = Number(timestampText);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;

  const offered = signatures
    .split(' ')
    .map((s) => s.split(','))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts[0] === VERSION)
    .map(([, b64]) => Buffer.from(b64, 'base64'))
    .filter((d) => d.length === SHA256_BYTES);
  let valid = false;
  for (const secret of secrets) {
    const key = secretKey(secret);
    if (!key) continue;
    const expected = digest(key, msgId, timestamp, body);
    // No early exit: the time taken does not tell which secret or which offered signature matched.
    for (const candidate of offered) valid = timingSafeEqual(expected, candidate) || valid;
  }
  return valid;
}
