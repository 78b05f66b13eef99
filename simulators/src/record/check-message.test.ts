import { describe, expect, it } from 'vitest';
import { checkMessage } from './check-message.js';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const meta = { line: 'fab1', station: 'etch-01', type: 'etch', name: 'Etch', order: 3, sensors: [{ name: 'a', unit: 'W', min: 0, max: 1 }] };

describe('checkMessage', () => {
  it('accepts the four recorded kinds, keeping the replay flag as received', () => {
    expect(checkMessage('linewatch/v1/fab1/etch-01/telemetry', bytes({ ts: 1, seq: 2, values: { a: 1 }, replay: true }), 1024)).toEqual({
      status: 'valid', message: { kind: 'telemetry', line: 'fab1', station: 'etch-01', msg: { ts: 1, seq: 2, values: { a: 1 }, replay: true } },
    });
    expect(checkMessage('linewatch/v1/fab1/etch-01/state', bytes({ state: 'STANDBY', since: 5 }), 1024).status).toBe('valid');
    expect(checkMessage('linewatch/v1/fab1/etch-01/meta', bytes(meta), 1024).status).toBe('valid');
    const truth = { id: 'x', line: 'fab1', station: 'etch-01', fault: 'step', sensors: ['a'], start: 1, end: null };
    expect(checkMessage('linewatch/v1/fab1/etch-01/truth', bytes(truth), 1024).status).toBe('valid');
  });

  it('says why a message is refused', () => {
    const reason = (topic: string, payload: Uint8Array, max = 1024) => {
      const r = checkMessage(topic, payload, max);
      return r.status === 'invalid' ? r.reason : r.status;
    };
    expect(reason('linewatch/v1/fab 1/etch-01/telemetry', bytes({}))).toMatch(/not a linewatch station topic/);
    expect(reason('linewatch/v1/fab1/etch-01/telemetry', bytes('{"ts":'))).toMatch(/invalid JSON/);
    expect(reason('linewatch/v1/fab1/etch-01/telemetry', bytes({ ts: 1, seq: -1, values: { a: 1 } }))).toMatch(/^schema: seq/);
    expect(reason('linewatch/v1/fab1/etch-01/telemetry', Buffer.from([0xff, 0xfe]))).toMatch(/UTF-8/);
    expect(reason('linewatch/v1/fab1/etch-01/telemetry', bytes({ ts: 1, seq: 1, values: { a: 1 } }), 10)).toMatch(/too large/);
    expect(reason('linewatch/v1/fab1/cmp-01/meta', bytes(meta))).toMatch(/meta ids fab1\/etch-01 do not match/);
    expect(reason('linewatch/v1/fab1/etch-01/status', bytes({}))).toMatch(/status messages are not recorded/);
  });

  it('an empty retained meta or state is a deletion, not an invalid message', () => {
    expect(checkMessage('linewatch/v1/fab1/etch-01/meta', Buffer.alloc(0), 1024)).toEqual({ status: 'cleared', kind: 'meta' });
    expect(checkMessage('linewatch/v1/fab1/etch-01/telemetry', Buffer.alloc(0), 1024).status).toBe('invalid');
  });
});
