import { CommandSchema } from '@linewatch/protocol';
import { describe, expect, it } from 'vitest';
import { RebaselineRequestSchema, rebaselineId } from './wafer-routes.js';

describe('re-baseline requests', () => {
  it('names the command readably, or by a digest when line and station ids are too long for the protocol', () => {
    expect(rebaselineId('fab1', 'etch-01', 1764400000000)).toBe('rebaseline/fab1/etch-01/1764400000000');
    const long = rebaselineId('l'.repeat(64), 's'.repeat(64), 1764400000000);
    expect(long).toMatch(/^rebaseline\/[0-9a-f]{16}\/1764400000000$/);
    expect(rebaselineId('l'.repeat(64), 's'.repeat(63), 1764400000000)).not.toBe(long);
    const command = { type: 'rebaseline', id: long, wafers: 5, requestedAt: 1764400000000 };
    expect(CommandSchema.safeParse(command).success).toBe(true);
  });

  it('defaults to 5 wafers and names every problem of a bad body', () => {
    expect(RebaselineRequestSchema.parse({})).toEqual({ wafers: 5 });
    expect(RebaselineRequestSchema.parse({ wafers: 50, reason: '  after PM ' })).toEqual({ wafers: 50, reason: 'after PM' });
    const bad = RebaselineRequestSchema.safeParse({ wafers: 0, reason: 7, extra: 1 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.message)).toEqual(expect.arrayContaining(['wafers must be at least 1', 'reason must be text']));
    expect(bad.error?.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
  });
});
