/**
 * The hostile REST input test/e2e/rest-fuzz.int.test.ts draws from: InfluxQL break-outs, path segments and query values
 * that are wrong in type, range or encoding, every route with its method, and malformed bodies.
 */

/** Deterministic: a failing run replays exactly. */
export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
/** Ids crafted to break out of an InfluxQL string literal or regex, raw and pre-encoded. */
export const INJECTIONS = [
  "etch-01' OR line='secret-line",
  "etch-01' OR line = 'secret-line' --",
  'etch-01"; DROP DATABASE x',
  "etch-01'; DROP DATABASE x; --",
  '/.*/',
  '/^secret/',
  "etch-01' OR 1=1 --",
  'etch-01\\',
  "etch-01\\' OR 1=1",
  'etch-01 OR station=~/.*/',
  '*',
  'secret-line',
  "' or ''='",
  'etch-01%27%20OR%20line%3D%27secret-line',
  'etch-01\u0000',
  'etch-01\n',
];

/** Path segments: separators, bad percent-encodings, unicode, numbers-as-ids, over-long ids. */
export const SEGMENTS = [
  'etch-01', 'clean-01', 'nope-99', '', ' ', "'", '"', ';', '/', '\\', '..', '%', '%00', '%zz', '%E0%A4%A', '%2e%2e%2f',
  '☃', '𝔘𝔫𝔦', '\u202e', '<script>', '{}', '[]', '0', '-1', 'NaN', '1e309', 'x'.repeat(65), 'y'.repeat(5_000), ...INJECTIONS,
];
export const VALUES = [
  '', '-1', '0', '1', '5', '1.5', '1e3', '1e309', 'NaN', 'Infinity', '-Infinity', '0x10', '9'.repeat(30), '999999999999999',
  'null', 'true', '[]', '{}', "'", '"', ';', '/.*/', '☃', '%00', 'scores', 'firing,resolved', ',,,', 'process', 'pending',
  '2026-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '1970-01-01', 'yesterday', ' 5 ', '10s', '0s', '1ms', '99999999d', ...INJECTIONS,
];
export const KEYS = ['line', 'station', 'from', 'to', 'bucket', 'limit', 'only', 'state', 'class', 'status', 'x', '__proto__', 'constructor', 'a[b]'];

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
/** Every route with its method, plus paths and methods nobody serves. */
export const ROUTES: [Method, string][] = [
  ['GET', '/api/stations'], ['GET', '/api/stations/:id'], ['GET', '/api/stations/:id/history'], ['GET', '/api/stations/:id/wafers'],
  ['GET', '/api/anomalies'], ['GET', '/api/alerts'], ['GET', '/api/alerts/:id'], ['GET', '/api/webhooks'],
  ['GET', '/api/webhooks/:id/deliveries'], ['GET', '/api/deliveries'], ['GET', '/api/deliveries/:id/attempts'],
  ['GET', '/api/recordings'], ['GET', '/api/replay'], ['GET', '/healthz'], ['GET', '/readyz'], ['GET', '/api/:id'], ['GET', '/:id'],
  ['POST', '/api/stations/:id/baseline'], ['POST', '/api/replay'], ['DELETE', '/api/replay'], ['POST', '/api/alerts/:id/ack'],
  ['POST', '/api/webhooks'], ['PATCH', '/api/webhooks/:id'], ['DELETE', '/api/webhooks/:id'], ['POST', '/api/webhooks/:id/rotate'],
  ['POST', '/api/webhooks/:id/rotate/finish'], ['POST', '/api/webhooks/:id/test'], ['POST', '/api/deliveries/:id/redeliver'],
  ['POST', '/api/stations'], ['DELETE', '/api/anomalies'],
];

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
/** Bodies for the routes that take one: cut off, too deep, too big, mislabelled, or the right shape with wrong values. */
export const BODIES: { body: string; type: string }[] = [
  { body: '{"wafers": 3', type: 'application/json' },
  { body: '{"recording":"a.jsonl","speed":', type: 'application/json' },
  { body: `{"wafers":${nested(3_000)}}`, type: 'application/json' },
  { body: nested(7_000), type: 'application/json' },
  { body: '{"wafers": 3}', type: 'text/plain' },
  { body: 'wafers=3', type: 'application/x-www-form-urlencoded' },
  { body: '{"wafers": 3}', type: 'application/json; charset=utf-7' },
  { body: `{"reason":"${'r'.repeat(200_000)}"}`, type: 'application/json' },
  { body: `{"by":"${'b'.repeat(17_000)}"}`, type: 'application/json' },
  { body: '{"__proto__":{"admin":true},"wafers":3}', type: 'application/json' },
  { body: '{"constructor":{"prototype":{"x":1}}}', type: 'application/json' },
  { body: '{"wafers":-1,"reason":7}', type: 'application/json' },
  { body: '{"wafers":1e309}', type: 'application/json' },
  { body: '{"wafers":"NaN"}', type: 'application/json' },
  { body: '{"recording":"../../etc/passwd","speed":1}', type: 'application/json' },
  { body: `{"recording":${JSON.stringify(INJECTIONS[0])},"speed":"max"}`, type: 'application/json' },
  { body: '{"recording":"nope.jsonl","speed":1}', type: 'application/json' },
  { body: '{"by":"fuzz","comment":"x"}', type: 'application/json' },
  { body: '{"url":"ftp://127.0.0.1/","secret":"x"}', type: 'application/json' },
  { body: '{"secret":""}', type: 'application/json' },
  { body: 'null', type: 'application/json' },
  { body: '"just a string"', type: 'application/json' },
  { body: '\u0000\u0001\u0002', type: 'application/json' },
  { body: '', type: 'application/json' },
];
