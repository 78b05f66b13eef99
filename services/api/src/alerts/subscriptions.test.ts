import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SubscriptionDb, openAlertingDatabase, publicSubscription, validateWebhookUrl } from './alert-db.js';
import { alertOf } from './testing/alert-db-fixtures.js';
import type { Alert, Notification, Subscription } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'lw-subscriptions-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NOW = 1_700_000_000_000;
const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const secretBytes = (secret: string): number => Buffer.from(secret.slice('whsec_'.length), 'base64').length;
const notification = (alert: Alert): Notification => ({ id: `${alert.id}/firing/${alert.severity}`, kind: 'firing', alert, at: alert.startedAt });

let file: string;
let db: Database.Database;
let subs: SubscriptionDb;
let files = 0;
beforeEach(() => {
  file = join(root, `case-${++files}.db`);
  db = openAlertingDatabase(file);
  subs = new SubscriptionDb(db);
});
afterEach(() => db.close());

describe('SubscriptionDb', () => {
  it('creates a subscription with defaults, an id and a 32-byte whsec_ secret, and keeps it across reopening', () => {
    const created = subs.create({ url: 'https://mes.example.com/hooks/linewatch' }, NOW);
    expect(created).toMatchObject({
      url: 'https://mes.example.com/hooks/linewatch',
      filter: { lines: [], stations: [], severities: [], classes: [] },
      includeReplay: false,
      header: null,
      createdAt: NOW,
    });
    expect(created.id).toMatch(/^sub_[0-9a-f]{32}$/);
    expect(created.secrets).toHaveLength(1);
    expect(created.secrets[0]).toMatch(SECRET);
    expect(secretBytes(created.secrets[0]!)).toBe(32);
    const other = subs.create({ url: 'https://mes.example.com/other' }, NOW + 1);
    expect(other.id).not.toBe(created.id);
    expect(other.secrets[0]).not.toBe(created.secrets[0]);

    db.close();
    db = openAlertingDatabase(file);
    subs = new SubscriptionDb(db);
    expect(subs.get(created.id)).toEqual(created);
    expect(subs.list()).toEqual([created, other]);
  });

  it('rotates to two valid secrets, newest first, and drops all but the newest', () => {
    const { id, secrets } = subs.create({ url: 'http://127.0.0.1:9000/hook' }, NOW);
    const original = secrets[0]!;
    const rotated = subs.rotateSecret(id);
    expect(rotated.secrets).toHaveLength(2);
    expect(rotated.secrets[1]).toBe(original);
    expect(rotated.secrets[0]).toMatch(SECRET);
    expect(rotated.secrets[0]).not.toBe(original);
    expect(subs.get(id)?.secrets).toEqual(rotated.secrets);
    // Rotating again before dropping keeps two: the newest and the one before it.
    const again = subs.rotateSecret(id);
    expect(again.secrets).toEqual([again.secrets[0], rotated.secrets[0]]);
    const dropped = subs.dropOldSecrets(id);
    expect(dropped.secrets).toEqual([again.secrets[0]]);
    expect(subs.get(id)?.secrets).toEqual([again.secrets[0]]);
    expect(() => subs.rotateSecret('sub_missing')).toThrow(/no subscription sub_missing/);
    expect(() => subs.dropOldSecrets('sub_missing')).toThrow(/no subscription/);
  });

  it('updates what the patch gives, filter keys one by one, and removes the header with null', () => {
    const s = subs.create(
      { url: 'https://a.example/hook', filter: { lines: ['fab1'], severities: ['critical'] }, header: { name: 'X-Api-Key', value: 'k-123' } },
      NOW,
    );
    const changed = subs.update(s.id, { url: 'https://b.example/hook', filter: { stations: ['etch-01'] }, includeReplay: true });
    expect(changed).toEqual({
      ...s,
      url: 'https://b.example/hook',
      filter: { lines: ['fab1'], stations: ['etch-01'], severities: ['critical'], classes: [] },
      includeReplay: true,
    });
    expect(subs.get(s.id)).toEqual(changed);
    expect(subs.update(s.id, {}).header).toEqual({ name: 'X-Api-Key', value: 'k-123' });
    expect(subs.update(s.id, { header: null }).header).toBeNull();
    expect(() => subs.update('sub_missing', { includeReplay: true })).toThrow(/no subscription sub_missing/);
    expect(() => subs.update(s.id, { url: 'ftp://b.example/' })).toThrow(/invalid subscription change: url/);
    expect(subs.get(s.id)?.url).toBe('https://b.example/hook');
  });

  it('deletes', () => {
    const s = subs.create({ url: 'https://a.example/hook' }, NOW);
    expect(subs.delete(s.id)).toBe(true);
    expect(subs.get(s.id)).toBeUndefined();
    expect(subs.delete(s.id)).toBe(false);
    expect(subs.list()).toEqual([]);
  });

  it('matches a notification by each filter, empty filters matching everything', () => {
    const any = subs.create({ url: 'https://any.example/' }, NOW);
    const byLine = subs.create({ url: 'https://line.example/', filter: { lines: ['fab2', 'fab1'] } }, NOW + 1);
    const byStation = subs.create({ url: 'https://station.example/', filter: { stations: ['cmp-01'] } }, NOW + 2);
    const bySeverity = subs.create({ url: 'https://severity.example/', filter: { severities: ['critical'] } }, NOW + 3);
    const byClass = subs.create({ url: 'https://class.example/', filter: { classes: ['data_quality'] } }, NOW + 4);
    const matched = (patch: Partial<Alert>) => subs.matching(notification(alertOf(NOW, patch))).map((s) => s.id);

    expect(matched({})).toEqual([any.id, byLine.id]);
    expect(matched({ line: 'fab3' })).toEqual([any.id]);
    expect(matched({ station: 'cmp-01' })).toEqual([any.id, byLine.id, byStation.id]);
    expect(matched({ severity: 'critical' })).toEqual([any.id, byLine.id, bySeverity.id]);
    expect(matched({ class: 'data_quality' })).toEqual([any.id, byLine.id, byClass.id]);
    const all = subs.create(
      { url: 'https://all.example/', filter: { lines: ['fab1'], stations: ['cmp-01'], severities: ['critical'], classes: ['data_quality'] } },
      NOW + 5,
    );
    expect(matched({ station: 'cmp-01', severity: 'critical', class: 'data_quality' })).toContain(all.id);
    expect(matched({ station: 'cmp-01', severity: 'critical', class: 'process' })).not.toContain(all.id);
  });

  it('sends replayed alerts only to subscriptions that include replays', () => {
    const live = subs.create({ url: 'https://live.example/' }, NOW);
    const replays = subs.create({ url: 'https://replays.example/', includeReplay: true }, NOW + 1);
    expect(subs.matching(notification(alertOf(NOW, { replay: true }))).map((s) => s.id)).toEqual([replays.id]);
    expect(subs.matching(notification(alertOf(NOW))).map((s) => s.id)).toEqual([live.id, replays.id]);
  });

  it('checks filters and the custom header', () => {
    const create = (input: object) => () => subs.create({ url: 'https://a.example/', ...input }, NOW);
    expect(create({ filter: { lines: ['fab 1'] } })).toThrow(/filter\.lines\.0/);
    expect(create({ filter: { severities: ['info'] } })).toThrow(/filter\.severities\.0/);
    expect(create({ filter: { classes: ['safety'] } })).toThrow(/filter\.classes\.0/);
    expect(create({ filter: { sites: ['a'] } })).toThrow(/sites/);
    expect(create({ header: { name: 'X Key', value: 'v' } })).toThrow(/header\.name/);
    for (const name of ['webhook-signature', 'Webhook-Id', 'webhook-timestamp', 'Host', 'content-type', 'Content-Length']) {
      expect(create({ header: { name, value: 'v' } }), name).toThrow(/header\.name: this header is set by linewatch/);
    }
    expect(create({ header: { name: 'X-Key', value: 'a\r\nX-Evil: 1' } })).toThrow(/header\.value/);
    expect(create({ header: { name: 'X-Key', value: '' } })).toThrow(/header\.value/);
    expect(create({ header: { name: 'Authorization', value: 'Bearer abc' } })()).toMatchObject({ header: { name: 'Authorization', value: 'Bearer abc' } });
    expect(subs.list()).toHaveLength(1);
  });
});

describe('loadFile', () => {
  const FILE_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  const writeConfig = (entries: unknown): string => {
    const path = join(root, `subscriptions-${++files}.json`);
    writeFileSync(path, JSON.stringify(entries));
    return path;
  };

  it('inserts, then upserts by id, keeping given secrets and generated ones across reloads', () => {
    const config = writeConfig([
      { id: 'mes', url: 'https://mes.example/hook', filter: { lines: ['fab1'] }, includeReplay: false, header: null, secret: FILE_SECRET },
      { id: 'andon', url: 'https://andon.example/hook', header: { name: 'X-Api-Key', value: 'k' } },
    ]);
    expect(subs.loadFile(config, NOW)).toEqual(['mes', 'andon']);
    const mes = subs.get('mes')!;
    const andon = subs.get('andon')!;
    expect(mes).toEqual({
      id: 'mes',
      url: 'https://mes.example/hook',
      filter: { lines: ['fab1'], stations: [], severities: [], classes: [] },
      includeReplay: false,
      header: null,
      secrets: [FILE_SECRET],
      createdAt: NOW,
    });
    expect(andon.secrets).toHaveLength(1);
    expect(secretBytes(andon.secrets[0]!)).toBe(32);

    // A restart loads the same file again: nothing changes, above all not the generated secret.
    subs.loadFile(config, NOW + 60_000);
    expect(subs.get('mes')).toEqual(mes);
    expect(subs.get('andon')).toEqual(andon);

    // An edited file replaces the fields; a new secret is rotated in with the old still valid.
    const rotated = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const edited = writeConfig([{ id: 'mes', url: 'https://mes.example/v2', filter: { severities: ['critical'] }, secret: rotated }]);
    expect(subs.loadFile(edited, NOW + 120_000)).toEqual(['mes']);
    expect(subs.get('mes')).toEqual({ ...mes, url: 'https://mes.example/v2', filter: { ...mes.filter, lines: [], severities: ['critical'] }, secrets: [rotated, FILE_SECRET] });
    expect(subs.get('andon')).toEqual(andon);
  });

  it('loads nothing from a file with any invalid entry, naming every problem but no secret', () => {
    const badSecret = 'whsec_short';
    const config = writeConfig([
      { id: 'good', url: 'https://good.example/' },
      { id: 'bad id', url: 'ftp://x.example/', secret: badSecret },
      { id: 'good', url: 'https://twice.example/' },
    ]);
    let message = '';
    try {
      subs.loadFile(config, NOW);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/1\.id/);
    expect(message).toMatch(/1\.url: a webhook URL must use http or https/);
    expect(message).toMatch(/1\.secret/);
    expect(message).toMatch(/2\.id: subscription good appears twice/);
    expect(message).not.toContain(badSecret);
    expect(subs.list()).toEqual([]);
    expect(() => subs.loadFile(join(root, 'missing.json'), NOW)).toThrow(/cannot read the subscriptions file/);
  });
});

describe('publicSubscription', () => {
  it('shows neither the secrets nor the header value', () => {
    const s: Subscription = subs.create({ url: 'https://a.example/', header: { name: 'X-Api-Key', value: 'header-value-42' } }, NOW);
    const rotated = subs.rotateSecret(s.id);
    const shown = publicSubscription(rotated);
    const json = JSON.stringify(shown);
    for (const secret of rotated.secrets) expect(json).not.toContain(secret.slice('whsec_'.length));
    expect(json).not.toContain('header-value-42');
    expect(shown).toEqual({ id: s.id, url: s.url, filter: s.filter, includeReplay: false, header: { name: 'X-Api-Key' }, secrets: 2, createdAt: NOW });
    expect(publicSubscription(subs.update(s.id, { header: null })).header).toBeNull();
  });
});

describe('validateWebhookUrl', () => {
  it('accepts http and https, loopback with a port included', () => {
    expect(validateWebhookUrl('http://127.0.0.1:8123/hook').port).toBe('8123');
    expect(validateWebhookUrl('https://mes.example.com/api/alerts?source=linewatch').hostname).toBe('mes.example.com');
  });

  it('rejects other schemes, credentials, relative and overlong URLs', () => {
    expect(() => validateWebhookUrl('ftp://files.example/hook')).toThrow(/http or https/);
    expect(() => validateWebhookUrl('javascript:alert(1)')).toThrow(/http or https/);
    expect(() => validateWebhookUrl('file:///etc/passwd')).toThrow(/http or https/);
    expect(() => validateWebhookUrl('https://user:pass@mes.example/hook')).toThrow(/credentials/);
    expect(() => validateWebhookUrl('https://user@mes.example/hook')).toThrow(/credentials/);
    expect(() => validateWebhookUrl('/hook')).toThrow(/absolute URL/);
    const long = `https://mes.example/${'a'.repeat(2048)}`;
    expect(() => validateWebhookUrl(long)).toThrow(/at most 2048/);
    expect(validateWebhookUrl(long.slice(0, 2048)).hostname).toBe('mes.example');
  });
});

describe('client-chosen secrets', () => {
  it('creates and rotates with the secret the client sends, so no response has to carry one', () => {
    const db = openAlertingDatabase(join(mkdtempSync(join(tmpdir(), 'lw-subs-secret-')), 'a.sqlite'));
    const subs = new SubscriptionDb(db);
    const first = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const second = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
    const s = subs.create({ url: 'http://127.0.0.1:9/hook', secret: first }, 1);
    expect(s.secrets).toEqual([first]);
    expect(subs.rotateSecret(s.id, second).secrets).toEqual([second, first]);
    expect(() => subs.rotateSecret(s.id, 'whsec_short')).toThrow(/secret/);
    expect(() => subs.create({ url: 'http://127.0.0.1:9/hook', secret: 'not-a-secret' }, 1)).toThrow(/secret/);
    db.close();
  });
});
