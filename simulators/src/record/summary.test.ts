import type { RecordingHeader } from '@linewatch/recording';
import { describe, expect, it } from 'vitest';
import { describeError } from '../replay/cli-error.js';
import { InvalidTally } from './invalid-tally.js';
import { formatSummary } from './summary.js';

const header: RecordingHeader = {
  format: 'linewatch-recording', version: 1, createdAt: 0, source: { kind: 'mqtt', detail: 'mqtt://***@broker:1883' },
  lines: ['fab1'], stations: [{ line: 'fab1', station: 'etch-01', type: 'etch', sensors: ['a', 'b'], telemetry: 600 }],
  start: Date.parse('2026-11-20T08:00:00Z'), end: Date.parse('2026-11-20T08:01:00Z'),
  counts: { telemetry: 600, state: 2, meta: 1, truth: 0, labelled: 0 }, labels: 'none',
};

describe('record summary', () => {
  it('says what is in the file and lists every reason a message was refused', () => {
    const invalid = new InvalidTally();
    invalid.add('linewatch/v1/fab1/etch-01/telemetry', 'invalid JSON: x');
    invalid.add('linewatch/v1/fab1/cmp-01/telemetry', 'invalid JSON: x');
    invalid.add('linewatch/v1/fab1/etch-01/meta', 'schema: order: Too small');
    const text = formatSummary({ path: 'a.jsonl.gz', bytes: 2048, header, invalid, wallMs: 2_000 });
    expect(text).toContain('entries     telemetry 600, state 2, meta 1, truth 0; labels none');
    expect(text).toContain('fab1/etch-01 (etch): 600 snapshots, 2 sensors');
    expect(text).toContain('time range  2026-11-20T08:00:00.000Z .. 2026-11-20T08:01:00.000Z (60.0 s of data)');
    expect(text).toContain('invalid     3 (not recorded):');
    expect(text).toMatch(/2 x invalid JSON: x \(first on linewatch\/v1\/fab1\/etch-01\/telemetry\)\n.*1 x schema: order: Too small/);
  });

  it('shows an error with its causes, one line each', () => {
    const err = new Error('replay cannot connect to mqtt://h:1883', { cause: new Error('connect ECONNREFUSED') });
    expect(describeError(err)).toBe('replay cannot connect to mqtt://h:1883\n  because: connect ECONNREFUSED');
    expect(describeError('plain')).toBe('plain');
  });
});
