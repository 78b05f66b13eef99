import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { IdSchema, SeveritySchema } from '@linewatch/protocol';
import { AlertClassSchema } from './alert-db-query.js';

/** What a subscription may be given over REST or in the config file; the one place it is checked. */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Throws an Error unless the URL is http(s), has no credentials, and is at most 2048 chars. */
export function validateWebhookUrl(url: string): URL {
  if (typeof url !== 'string') throw new Error('a webhook URL must be a string');
  if (url.length > MAX_WEBHOOK_URL_LENGTH) throw new Error(`a webhook URL may have at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new Error('a webhook URL must be an absolute URL', { cause: err });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('a webhook URL must use http or https');
  // Credentials in a URL end up in logs and in the API's answers; use the custom header for them instead.
  if (parsed.username !== '' || parsed.password !== '') throw new Error('a webhook URL must not carry credentials; use a custom header');
  if (parsed.hostname === '') throw new Error('a webhook URL must name a host');
  return parsed;
}

const WebhookUrlSchema = z.string().superRefine((url, ctx) => {
  try {
    validateWebhookUrl(url);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/;
/** Printable ASCII with inner spaces or tabs: no CR/LF (header injection), nothing fetch would refuse to send. */
const HEADER_VALUE = /^[\x21-\x7e](?:[\t\x20-\x7e]{0,4094}[\x21-\x7e])?$/;
/**
 * Names the dispatcher sets itself (the signature must not be overridden, the body's framing must stay true)
 * and hop-by-hop names that Node's fetch refuses, which would fail every delivery.
 */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'host',
  'content-type',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);

export const CustomHeaderSchema = z.strictObject({
  name: z
    .string()
    .regex(HEADER_NAME, 'a header name must be an HTTP token of 1 to 256 characters')
    .refine((name) => !RESERVED_HEADER_NAMES.has(name.toLowerCase()), 'this header is set by linewatch and cannot be replaced'),
  value: z.string().regex(HEADER_VALUE, 'a header value must be 1 to 4096 printable ASCII characters without leading or trailing spaces'),
});

const distinct = <T>(values: T[]): T[] => [...new Set(values)];

export const SubscriptionFilterSchema = z.strictObject({
  lines: z.array(IdSchema).max(1000).transform(distinct).optional(),
  stations: z.array(IdSchema).max(1000).transform(distinct).optional(),
  severities: z.array(SeveritySchema).transform(distinct).optional(),
  classes: z.array(AlertClassSchema).transform(distinct).optional(),
});

/** Body of a new subscription. Omitted filters match everything. */
/** A signing secret chosen by the client, so that no API response ever has to carry one. */
export const WebhookSecretSchema = z.string().refine(isWebhookSecret, 'a secret must be whsec_ followed by base64 of 24 to 64 bytes');

export const SubscriptionInputSchema = z.strictObject({
  url: WebhookUrlSchema,
  filter: SubscriptionFilterSchema.optional(),
  includeReplay: z.boolean().optional(),
  header: CustomHeaderSchema.nullable().optional(),
  /** Omitted: one is generated (for subscriptions whose secret is read from the database or config file). */
  secret: WebhookSecretSchema.optional(),
});
export type SubscriptionInput = z.input<typeof SubscriptionInputSchema>;

/** A change to a subscription: what is given replaces, filter keys one by one; `header: null` removes it. Secrets change only by rotation. */
export const SubscriptionPatchSchema = SubscriptionInputSchema.omit({ secret: true }).partial();
export type SubscriptionPatch = z.input<typeof SubscriptionPatchSchema>;

/** Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 random bytes. */
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

export function isWebhookSecret(secret: string): boolean {
  if (!WEBHOOK_SECRET.test(secret)) return false;
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

/** A fresh signing secret: 32 random bytes, as Standard Webhooks recommends. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `sub_` + 128 random bits in hex: unguessable, and a valid protocol id for URLs and logs. */
export function newSubscriptionId(): string {
  return `sub_${randomBytes(16).toString('hex')}`;
}

/** One entry of the subscriptions config file; `secret` is optional and generated once when missing. */
export const SubscriptionFileEntrySchema = SubscriptionInputSchema.extend({
  id: IdSchema,
  secret: z.string().refine(isWebhookSecret, 'a secret must be whsec_ followed by base64 of 24 to 64 bytes').optional(),
});

export const SubscriptionFileSchema = z.array(SubscriptionFileEntrySchema).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `subscription ${entry.id} appears twice` });
    seen.add(entry.id);
  });
});
export type SubscriptionFileEntry = z.output<typeof SubscriptionFileEntrySchema>;
