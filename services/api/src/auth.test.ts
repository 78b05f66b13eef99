import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { requireToken } from './auth.js';
import type { HttpError } from './http-error.js';

const TOKEN = 'a-long-enough-token-0123';

function check(token: string, authorization?: string): { passed: boolean; error?: HttpError; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const req = { get: (name: string) => (name.toLowerCase() === 'authorization' ? authorization : undefined) } as unknown as Request;
  const res = { setHeader: (k: string, v: string) => (headers[k] = v) } as unknown as Response;
  let passed = false;
  try {
    requireToken(token)(req, res, () => (passed = true));
    return { passed, headers };
  } catch (err) {
    return { passed, error: err as HttpError, headers };
  }
}

describe('requireToken', () => {
  it('lets the right bearer token through', () => {
    expect(check(TOKEN, `Bearer ${TOKEN}`).passed).toBe(true);
    expect(check(TOKEN, `bearer ${TOKEN}`).passed).toBe(true);
  });

  it('answers 401 with a challenge when the header is missing or not a bearer token', () => {
    for (const header of [undefined, '', TOKEN, `Basic ${TOKEN}`, 'Bearer ']) {
      const r = check(TOKEN, header);
      expect(r.passed).toBe(false);
      expect(r.error).toMatchObject({ status: 401, code: 'unauthorized' });
      expect(r.headers['WWW-Authenticate']).toMatch(/^Bearer/);
    }
  });

  it('answers 403 to a wrong token, whatever its length, without echoing it', () => {
    for (const wrong of ['x', `${TOKEN}x`, TOKEN.slice(0, -1), TOKEN.toUpperCase()]) {
      const r = check(TOKEN, `Bearer ${wrong}`);
      expect(r.error).toMatchObject({ status: 403, code: 'forbidden' });
      expect(r.error?.message).not.toContain(wrong);
    }
  });

  it('refuses everything with 403 and says how to enable it when no token is configured', () => {
    for (const header of [undefined, 'Bearer anything', 'Bearer ']) {
      const r = check('', header);
      expect(r.passed).toBe(false);
      expect(r.error).toMatchObject({ status: 403, code: 'forbidden' });
      expect(r.error?.message).toContain('API_TOKEN');
    }
  });
});
