import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { migrate } from './alert-db-migrate.js';
import { parseOrThrow } from './alert-db-query.js';
import {
  SubscriptionFileSchema,
  SubscriptionInputSchema,
  SubscriptionPatchSchema,
  WebhookSecretSchema,
  newSubscriptionId,
  newWebhookSecret,
  type SubscriptionFileEntry,
  type SubscriptionInput,
  type SubscriptionPatch,
} from './alert-db-subscription-input.js';
import type { Notification, Subscription } from './types.js';

export {
  CustomHeaderSchema,
  SubscriptionFileSchema,
  SubscriptionInputSchema,
  SubscriptionPatchSchema,
  type SubscriptionInput,
  type SubscriptionPatch,
} from './alert-db-subscription-input.js';

/** Rotation keeps this many secrets valid: the new one and the one receivers may still use. */
const VALID_SECRETS = 2;

const MIGRATIONS = [
  // 1: the subscription as JSON (secrets included) keyed by id; the outbox may reference webhook_subscription(id).
  `CREATE TABLE webhook_subscription (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     body TEXT NOT NULL
   )`,
] as const;

/** A subscription as the API may show it: no secrets, no header value (only its name). */
export type PublicSubscription = Omit<Subscription, 'secrets' | 'header'> & { header: { name: string } | null; secrets: number };

export function publicSubscription(s: Subscription): PublicSubscription {
  // Built field by field, not by spreading and deleting, so a field added to Subscription later stays private
  // until someone decides it may be shown.
  return {
    id: s.id,
    url: s.url,
    filter: { lines: [...s.filter.lines], stations: [...s.filter.stations], severities: [...s.filter.severities], classes: [...s.filter.classes] },
    includeReplay: s.includeReplay,
    header: s.header ? { name: s.header.name } : null,
    secrets: s.secrets.length,
    createdAt: s.createdAt,
  };
}

/**
 * Webhook subscriptions, managed over REST and from a config file. Each has its own signing secrets, newest
 * first; inputs are checked here too, so a caller that skipped the REST schema still cannot store a bad one.
 */
export class SubscriptionDb {
  private readonly insert: Database.Statement;
  private readonly replace: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly selectOne: Database.Statement;
  private readonly selectAll: Database.Statement;

  constructor(private readonly db: Database.Database) {
    migrate(db, 'subscriptions', MIGRATIONS);
    this.insert = db.prepare('INSERT INTO webhook_subscription (id, created_at, body) VALUES (@id, @createdAt, @body)');
    this.replace = db.prepare('UPDATE webhook_subscription SET body = @body WHERE id = @id');
    this.remove = db.prepare('DELETE FROM webhook_subscription WHERE id = ?');
    this.selectOne = db.prepare('SELECT body FROM webhook_subscription WHERE id = ?');
    this.selectAll = db.prepare('SELECT body FROM webhook_subscription ORDER BY created_at, id');
  }

  /** Creates a subscription with a fresh id and secret ('whsec_' + base64 of 32 random bytes). */
  create(input: SubscriptionInput, now: number): Subscription {
    const valid = parseOrThrow(SubscriptionInputSchema, input, 'subscription');
    const subscription: Subscription = {
      id: newSubscriptionId(),
      url: valid.url,
      filter: withFilter(EMPTY_FILTER, valid.filter),
      includeReplay: valid.includeReplay ?? false,
      header: valid.header ?? null,
      secrets: [valid.secret ?? newWebhookSecret()],
      createdAt: now,
    };
    this.insert.run({ id: subscription.id, createdAt: now, body: JSON.stringify(subscription) });
    return subscription;
  }

  get(id: string): Subscription | undefined {
    const row = this.selectOne.get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Subscription) : undefined;
  }

  /** Oldest first. */
  list(): Subscription[] {
    return (this.selectAll.all() as { body: string }[]).map((row) => JSON.parse(row.body) as Subscription);
  }

  /** Replaces what the patch gives (filter keys one by one; `header: null` removes it). Unknown id → throws. */
  update(id: string, patch: SubscriptionPatch): Subscription {
    const valid = parseOrThrow(SubscriptionPatchSchema, patch, 'subscription change');
    return this.change(id, (s) => ({
      ...s,
      ...(valid.url !== undefined ? { url: valid.url } : {}),
      filter: withFilter(s.filter, valid.filter),
      ...(valid.includeReplay !== undefined ? { includeReplay: valid.includeReplay } : {}),
      ...(valid.header !== undefined ? { header: valid.header } : {}),
    }));
  }

  /** True when it existed. Deliveries already queued for it are the outbox's to settle. */
  delete(id: string): boolean {
    return this.remove.run(id).changes > 0;
  }

  /** Adds a new secret in front (the client's, or a generated one); the previous stays valid (two at once) until dropOldSecrets. Older ones go. */
  rotateSecret(id: string, secret?: string): Subscription {
    const next = secret === undefined ? newWebhookSecret() : parseOrThrow(WebhookSecretSchema, secret, 'secret');
    return this.change(id, (s) => ({ ...s, secrets: [next, ...s.secrets.filter((old) => old !== next)].slice(0, VALID_SECRETS) }));
  }

  /** Keeps only the newest secret, once every receiver verifies with it. */
  dropOldSecrets(id: string): Subscription {
    return this.change(id, (s) => ({ ...s, secrets: s.secrets.slice(0, 1) }));
  }

  /** Subscriptions a notification goes to: filters (empty = any) on line, station, severity, class; replayed alerts only to includeReplay ones. */
  matching(n: Notification): Subscription[] {
    const { alert } = n;
    const admits = <T>(allowed: readonly T[], value: T): boolean => allowed.length === 0 || allowed.includes(value);
    return this.list().filter(
      (s) =>
        (!alert.replay || s.includeReplay) &&
        admits(s.filter.lines, alert.line) &&
        admits(s.filter.stations, alert.station) &&
        admits(s.filter.severities, alert.severity) &&
        admits(s.filter.classes, alert.class),
    );
  }

  /**
   * Loads subscriptions from a config file (JSON: [{ id, url, filter, includeReplay, header, secret }]): upsert by
   * id, all or nothing. The file states the whole subscription, so omitted fields take their defaults. Secrets:
   * a file without one keeps the stored secrets (one is generated for a new subscription), so a restart never
   * rotates them; a file secret already valid changes nothing; a new file secret goes in front of the previous
   * one, like rotateSecret. Subscriptions missing from the file are kept: they may have been made over REST.
   * Returns the ids loaded.
   */
  loadFile(file: string, now: number): string[] {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read the subscriptions file ${file}`, { cause: err });
    }
    const entries = parseOrThrow(SubscriptionFileSchema, json, `subscriptions file ${file}`);
    this.db.transaction(() => {
      for (const entry of entries) this.upsertFromFile(entry, now);
    })();
    return entries.map((e) => e.id);
  }

  private upsertFromFile(entry: SubscriptionFileEntry, now: number): void {
    const existing = this.get(entry.id);
    const subscription: Subscription = {
      id: entry.id,
      url: entry.url,
      filter: withFilter(EMPTY_FILTER, entry.filter),
      includeReplay: entry.includeReplay ?? false,
      header: entry.header ?? null,
      secrets: fileSecrets(entry.secret, existing?.secrets),
      createdAt: existing?.createdAt ?? now,
    };
    const body = JSON.stringify(subscription);
    if (existing) this.replace.run({ id: entry.id, body });
    else this.insert.run({ id: entry.id, createdAt: now, body });
  }

  /** Reads, changes and writes one subscription inside one transaction. */
  private change(id: string, edit: (s: Subscription) => Subscription): Subscription {
    return this.db.transaction(() => {
      const current = this.get(id);
      if (!current) throw new Error(`no subscription ${id}`);
      const next = edit(current);
      this.replace.run({ id, body: JSON.stringify(next) });
      return next;
    })();
  }
}

type Filter = Subscription['filter'];
const EMPTY_FILTER: Filter = { lines: [], stations: [], severities: [], classes: [] };

/** The filter with the keys the change gives replaced; a key given as undefined keeps its value. */
function withFilter(base: Filter, change: Partial<Filter> | undefined): Filter {
  return {
    lines: change?.lines ?? base.lines,
    stations: change?.stations ?? base.stations,
    severities: change?.severities ?? base.severities,
    classes: change?.classes ?? base.classes,
  };
}

function fileSecrets(given: string | undefined, stored: string[] | undefined): string[] {
  if (given === undefined) return stored?.length ? stored : [newWebhookSecret()];
  if (stored?.includes(given)) return stored;
  return [given, ...(stored ?? [])].slice(0, VALID_SECRETS);
}
