import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newSecret, secretKey, sign, signatureHeader, verify } from './signature.js';

// The worked example of the Standard Webhooks specification.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const body = JSON.stringify({ version: '4', status: 'firing', alerts: [{ fingerprint: 'fab1/etch-01/model/1764400000000' }] });
const msgId = 'msg_0123456789abcdef0123456789abcdef';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function headersOf(signature: string, timestamp: number, id = msgId): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

describe('sign', () => {
  it('reproduces the specification example', () => {
    expect(sign(SPEC.secret, SPEC.msgId, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it('is accepted by the independent standardwebhooks implementation', () => {
    const secret = newSecret();
    const ts = nowSeconds();
    const signature = sign(secret, msgId, ts, body);
    expect(new Webhook(secret).verify(body, headersOf(signature, ts))).toEqual(JSON.parse(body));
    // And theirs is ours, byte for byte.
    expect(signature).toBe(new Webhook(secret).sign(msgId, new Date(ts * 1000), body));
  });

  it('refuses what is not a whsec_ secret', () => {
    expect(() => sign('s3cret', msgId, 1, body)).toThrow(/not a signing secret/);
    expect(() => sign('whsec_', msgId, 1, body)).toThrow(/not a signing secret/);
    expect(() => sign('whsec_c2hvcnQ=', msgId, 1, body)).toThrow(/not a signing secret/); // 5 bytes
    expect(() => sign(`whsec_${Buffer.alloc(23, 7).toString('base64')}`, msgId, 1, body)).toThrow(/not a signing secret/);
    expect(() => sign(`whsec_${Buffer.alloc(65, 7).toString('base64')}`, msgId, 1, body)).toThrow(/not a signing secret/);
    expect(sign(`whsec_${Buffer.alloc(64, 7).toString('base64')}`, msgId, 1, body)).toMatch(/^v1,/);
    expect(secretKey(newSecret())?.length).toBe(32);
  });
});

describe('signatureHeader during a rotation', () => {
  const next = newSecret();
  const previous = newSecret();

  it('carries one signature per secret, each accepted by standardwebhooks on its own', () => {
    const ts = nowSeconds();
    const header = signatureHeader([next, previous], msgId, ts, body);
    expect(header.split(' ')).toHaveLength(2);
    for (const secret of [next, previous]) expect(new Webhook(secret).verify(body, headersOf(header, ts))).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSecret()).verify(body, headersOf(header, ts))).toThrow(/No matching signature/);
  });

  it('skips invalid secrets and refuses to sign with none', () => {
    expect(signatureHeader(['not-a-secret', previous], msgId, 1, body).split(' ')).toHaveLength(1);
    expect(() => signatureHeader(['not-a-secret'], msgId, 1, body)).toThrow(/no valid signing secret/);
    expect(() => signatureHeader([], msgId, 1, body)).toThrow(/no valid signing secret/);
  });
});

describe('verify', () => {
  const secret = newSecret();
  const now = 1_764_400_000;

  it('accepts a signature made by standardwebhooks, with either secret of a rotation', () => {
    const theirs = new Webhook(secret).sign(msgId, new Date(now * 1000), body);
    expect(verify([secret], headersOf(theirs, now), body, now)).toBe(true);
    expect(verify([newSecret(), secret], headersOf(theirs, now), body, now)).toBe(true);
    expect(verify([secret], headersOf(`v1,${'A'.repeat(43)}= ${theirs}`, now), body, now)).toBe(true);
  });

  it('finds the headers whatever their case', () => {
    const headers = { 'Webhook-Id': msgId, 'Webhook-Timestamp': String(now), 'Webhook-Signature': sign(secret, msgId, now, body) };
    expect(verify([secret], headers, body, now)).toBe(true);
  });

  it('rejects a wrong secret, a changed body, a changed id and a changed timestamp', () => {
    const signature = sign(secret, msgId, now, body);
    expect(verify([newSecret()], headersOf(signature, now), body, now)).toBe(false);
    expect(verify([secret], headersOf(signature, now), body.replace('firing', 'resolved'), now)).toBe(false);
    expect(verify([secret], headersOf(signature, now, 'msg_other'), body, now)).toBe(false);
    expect(verify([secret], headersOf(signature, now + 1), body, now)).toBe(false);
  });

  it('rejects missing or malformed headers', () => {
    const signature = sign(secret, msgId, now, body);
    expect(verify([secret], { 'webhook-id': msgId, 'webhook-timestamp': String(now) }, body, now)).toBe(false);
    expect(verify([secret], headersOf(signature.replace('v1,', 'v2,'), now), body, now)).toBe(false);
    expect(verify([secret], headersOf(signature.slice(0, -4), now), body, now)).toBe(false);
    expect(verify([secret], { ...headersOf(signature, now), 'webhook-timestamp': '1764400000.5' }, body, now)).toBe(false);
    expect(verify(['not-a-secret'], headersOf(signature, now), body, now)).toBe(false);
  });

  it('rejects a timestamp outside the tolerance, either way, as standardwebhooks does', () => {
    for (const offset of [-301, 301]) {
      const ts = nowSeconds() + offset;
      const signature = sign(secret, msgId, ts, body);
      expect(verify([secret], headersOf(signature, ts), body, ts - offset)).toBe(false);
      expect(() => new Webhook(secret).verify(body, headersOf(signature, ts))).toThrow(/timestamp too (old|new)/);
    }
    for (const offset of [-300, 300]) {
      const ts = now + offset;
      expect(verify([secret], headersOf(sign(secret, msgId, ts, body), ts), body, now)).toBe(true);
    }
    const old = now - 3_600;
    expect(verify([secret], headersOf(sign(secret, msgId, old, body), old), body, now, 7_200)).toBe(true);
  });
});
