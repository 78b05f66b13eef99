import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Guards the endpoints that change something with `Authorization: Bearer <API_TOKEN>`. No token configured: 403
 * saying how to enable them (a fresh install must not be open). No or malformed header: 401. Wrong token: 403.
 * Tokens are compared as SHA-256 digests in constant time, so neither timing nor length leaks the token.
 *
 * @example
 * router.post('/api/replay', requireToken(config.API_TOKEN), handler);
 */
export function requireToken(token: string): RequestHandler {
  const expected = token ? digest(token) : undefined;
  return (req, res, next) => {
    if (!expected) {
      throw new HttpError(403, 'forbidden', 'this API has no API_TOKEN set, so it refuses changes; set API_TOKEN in its environment (npm start generates one) and send it as "Authorization: Bearer <token>"');
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="linewatch"');
      throw new HttpError(401, 'unauthorized', 'this needs the API token: send "Authorization: Bearer <API_TOKEN>"');
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) throw new HttpError(403, 'forbidden', 'the API token is wrong');
    next();
  };
}
