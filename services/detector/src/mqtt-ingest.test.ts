import { describe, expect, it } from 'vitest';
import { redactUrl } from '@linewatch/protocol';
import { stableHash } from './mqtt-ingest.js';

describe('stableHash', () => {
  it('is the FNV-1a 32-bit hash (stable across processes)', () => {
    expect(stableHash('')).toBe(0x811c9dc5);
    expect(stableHash('a')).toBe(0xe40c292c);
    expect(stableHash('foobar')).toBe(0xbf9cf968);
  });

  it('spreads stations over partitions', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 300; i++) counts[stableHash(`fab1/tool-${i}`) % 3]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(60);
  });
});

describe('redactUrl', () => {
  it('hides credentials in a broker URL', () => {
    expect(redactUrl('mqtt://user:secret@broker:1883')).not.toContain('secret');
    expect(redactUrl('mqtt://user:secret@broker:1883')).not.toContain('user');
    expect(redactUrl('mqtt://broker:1883')).toBe('mqtt://broker:1883');
  });
});
