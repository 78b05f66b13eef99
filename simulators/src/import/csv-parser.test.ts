import { describe, expect, it } from 'vitest';
import { CsvParser, detectDelimiter, isBlank, type CsvRecord, type Delimiter } from './csv-parser.js';

/** Parses `text` fed in pieces of `size` characters (every chunk boundary a parser can meet, for size 1). */
function parse(text: string, delimiter: Delimiter = ',', size = text.length || 1): CsvRecord[] {
  const parser = new CsvParser(delimiter);
  const records: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += size) records.push(...parser.push(text.slice(i, i + size)));
  return [...records, ...parser.end()];
}

const fields = (records: CsvRecord[]) => records.map((r) => r.fields);

describe('CsvParser', () => {
  it.each<[string, Delimiter]>([
    ['comma', ','],
    ['semicolon', ';'],
    ['tab', '\t'],
  ])('splits on %s', (_name, d) => {
    expect(fields(parse(`ts${d}a${d}b\n1${d}2${d}3\n`, d))).toEqual([['ts', 'a', 'b'], ['1', '2', '3']]);
  });

  it.each([
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['\\r', '\r'],
  ])('ends records on %s and numbers rows and lines alike', (_name, eol) => {
    const records = parse(`a,b${eol}1,2${eol}3,4${eol}`);
    expect(fields(records)).toEqual([['a', 'b'], ['1', '2'], ['3', '4']]);
    expect(records.map((r) => [r.row, r.line])).toEqual([[1, 1], [2, 2], [3, 3]]);
  });

  it('takes \\n, \\r\\n and \\r mixed in one file, split at every possible chunk boundary', () => {
    const text = 'a,b\r\n1,2\n3,4\r5,6\r\n7,8\r\r\n9,10';
    const expected = [['a', 'b'], ['1', '2'], ['3', '4'], ['5', '6'], ['7', '8'], [''], ['9', '10']];
    for (const size of [1, 2, 3, 5, 7, 1000]) {
      const records = parse(text, ',', size);
      expect(fields(records), `chunks of ${size}`).toEqual(expected);
      expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
  });

  it('reads RFC 4180 quotes: delimiter, escaped quote and line breaks inside a field', () => {
    const text = 'name,note\r\n"a,b","say ""hi"""\r\n"multi\r\nline\nfield",x\n"",""\n';
    for (const size of [1, 4, 1000]) {
      const records = parse(text, ',', size);
      expect(fields(records), `chunks of ${size}`).toEqual([['name', 'note'], ['a,b', 'say "hi"'], ['multi\r\nline\nfield', 'x'], ['', '']]);
      // The quoted record spans lines 3-5, so the next record is row 4 but starts on line 6.
      expect(records.map((r) => [r.row, r.line])).toEqual([[1, 1], [2, 2], [3, 3], [4, 6]]);
    }
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(fields(parse('size,n\n12" wafer,3\n'))).toEqual([['size', 'n'], ['12" wafer', '3']]);
  });

  it('marks text after a closing quote as a problem instead of guessing', () => {
    const [, bad, next] = parse('a,b\n"x"y,2\n3,4\n');
    expect(bad?.problem).toMatch(/text after a closing quote in field 1/);
    expect(next).toEqual({ row: 3, line: 3, fields: ['3', '4'] });
  });

  it('marks a quote that never closes', () => {
    const records = parse('a,b\n1,"open\n2,3\n');
    expect(records).toHaveLength(2);
    expect(records[1]?.problem).toMatch(/never closed/);
  });

  it('refuses a record longer than the limit (an unclosed quote in a big file)', () => {
    const parser = new CsvParser(',', 100);
    expect(() => parser.push(`a,"${'x'.repeat(200)}`)).toThrow(/line 1 is longer than 100 characters/);
  });

  it('gives the last record without a final line break, and nothing for a final one', () => {
    expect(fields(parse('a,b\n1,2'))).toEqual([['a', 'b'], ['1', '2']]);
    expect(fields(parse('a,b\n1,\n'))).toEqual([['a', 'b'], ['1', '']]);
    expect(parse('')).toEqual([]);
  });

  it('yields blank lines as blank records so they keep their row number', () => {
    const records = parse('a,b\n\n1,2\n');
    expect(records.map(isBlank)).toEqual([false, true, false]);
    expect(records[2]?.row).toBe(3);
  });
});

describe('detectDelimiter', () => {
  it.each<[string, Delimiter]>([
    ['ts,a,b\n1,2,3\n', ','],
    ['ts;a;b\n1;2,5;3\n', ';'],
    ['ts\ta\tb\n1\t2\t3\n', '\t'],
    // Commas in quoted header names do not fool it: only ';' splits every record alike.
    ['"ts";"rf, fwd";"p, mTorr"\n1;2;3\n4;5;6\n', ';'],
    // Decimal commas: ',' splits the rows into more fields than the header, ';' matches it.
    ['ts;a\n1,5;2,25\n2,5;3,5\n', ';'],
  ])('detects %j as %j', (sample, expected) => {
    expect(detectDelimiter(sample, true)).toBe(expected);
  });

  it('gives up when nothing splits the header', () => {
    expect(detectDelimiter('just one column\n1\n', true)).toBeUndefined();
  });
});
