import { describe, expect, it } from 'vitest';
import { parseImportArgs } from './args.js';

describe('parseImportArgs', () => {
  it('turns the LAM 9600 command line into importer options', () => {
    const argv = [
      '../shared/data/lam9600/faults.csv', '--run-column', 'wafer', '--wafer-column', 'wafer', '--time-column', 'time',
      '--time-origin', '2026-01-12T00:00:00Z', '--step-column', 'step', '--exclude', 't', '--line', 'lam9600', '--station', 'etch-01',
      '--type', 'etch', '--recipe', 'LAM9600-AL', '--label-column', 'label', '--fault-column', 'fault', '--out', 'recordings/lam9600/faults',
    ];
    expect(parseImportArgs(argv)).toEqual({
      input: '../shared/data/lam9600/faults.csv',
      options: {
        runColumn: 'wafer', waferColumn: 'wafer', timeColumn: 'time', timeOrigin: Date.UTC(2026, 0, 12), stepColumn: 'step', exclude: ['t'],
        line: 'lam9600', station: 'etch-01', type: 'etch', recipe: 'LAM9600-AL', labelColumn: 'label', faultColumn: 'fault',
        out: 'recordings/lam9600/faults',
      },
    });
  });

  it('reads delimiters by name, lists of excluded columns, labels and switches', () => {
    const parsed = parseImportArgs(['d.csv', '--delimiter', 'tab', '--exclude', 'a,b', '--exclude', 'c', '--label', '1', '--skip-bad-rows', '--allow-missing', '--run-gap', '5']);
    expect(parsed).toEqual({
      input: 'd.csv',
      options: { delimiter: '\t', exclude: ['a', 'b', 'c'], label: 1, skipBadRows: true, allowMissing: true, runGapS: 5 },
    });
    expect(parseImportArgs(['d.csv', '--delimiter', ';'])).toMatchObject({ options: { delimiter: ';' } });
  });

  it('takes a time origin without a zone as UTC', () => {
    expect(parseImportArgs(['d.csv', '--time-origin', '2026-01-05 06:00:00'])).toMatchObject({ options: { timeOrigin: Date.UTC(2026, 0, 5, 6) } });
  });

  it.each([
    [['--label', '2'], /--label/],
    [['--delimiter', '|'], /--delimiter: use ',', ';' or tab/],
    [['--time-origin', 'monday'], /--time-origin: time 'monday' is not ISO-8601/],
    [['--time-unit', 'h'], /--time-unit/],
    [['--run-gap', '-1'], /--run-gap/],
    [['--nope'], /Unknown option '--nope'/],
  ])('refuses %j with a message and the usage', (flags, message) => {
    expect(() => parseImportArgs(['d.csv', ...flags])).toThrow(message);
    expect(() => parseImportArgs(['d.csv', ...flags])).toThrow(/usage: npm run import/);
  });

  it('wants exactly one input', () => {
    expect(() => parseImportArgs([])).toThrow(/give a CSV file or a folder/);
    expect(() => parseImportArgs(['a.csv', 'b.csv'])).toThrow(/one input only/);
    expect(parseImportArgs(['--help'])).toBe('help');
  });
});
