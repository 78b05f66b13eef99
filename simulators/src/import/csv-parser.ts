/** Field separators a plant CSV uses: comma, semicolon (European Excel) or tab. */
export const DELIMITERS = [',', ';', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/** One CSV record (a spreadsheet row), numbered the way a person finds it again. */
export interface CsvRecord {
  /** Record number from 1, blank lines included: the header is row 1, as in a spreadsheet. */
  row: number;
  /** Physical line the record starts on; differs from `row` once a quoted field held a line break. */
  line: number;
  fields: string[];
  /** Set when the record breaks RFC 4180 quoting; its fields are then not to be trusted. */
  problem?: string;
}

/** A quoted field that never closes would otherwise swallow the rest of the file into memory. */
export const MAX_RECORD_CHARS = 1 << 20;

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A `"` inside a quoted field: either the closing quote or the first half of `""`. */
  QuoteSeen,
}

/**
 * Push parser for RFC 4180 CSV that takes text in chunks of any size, so a file of a million rows streams
 * through in constant memory. Line breaks may be `\n`, `\r\n` or `\r`, mixed in one file, also across chunk
 * boundaries; quoted fields may hold the delimiter, `""` and line breaks. A `"` inside an unquoted field is kept
 * as text (`12" wafer`); text after a closing quote marks the record with a `problem` instead of guessing.
 *
 * @example
 * const parser = new CsvParser(',');
 * const records = [...parser.push('a,"b\r\nc"\r'), ...parser.push('\n1,2\n'), ...parser.end()];
 * // [{ row: 1, line: 1, fields: ['a', 'b\r\nc'] }, { row: 2, line: 3, fields: ['1', '2'] }]
 */
export class CsvParser {
  private readonly delimiter: number;
  private state = State.FieldStart;
  private field = '';
  private fields: string[] = [];
  /** The record has content (a character or a delimiter), so a line break ends a record, not a blank line. */
  private started = false;
  private problem: string | undefined;
  private chars = 0;
  private row = 0;
  private line = 1;
  private recordLine = 1;
  /** The last character seen was `\r`: a `\n` right after it (maybe in the next chunk) is the same break. */
  private afterCR = false;

  constructor(delimiter: Delimiter, private readonly maxRecordChars = MAX_RECORD_CHARS) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** Parses the next chunk; returns the records it completed. */
  push(text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.afterCR) {
        this.afterCR = false;
        if (text.charCodeAt(i) === LF) {
          if (this.state === State.Quoted) this.append('\n');
          i++;
          continue;
        }
      }
      if (this.state === State.Quoted) {
        i = this.quoted(text, i);
        continue;
      }
      const c = text.charCodeAt(i);
      if (this.state === State.QuoteSeen) {
        if (c === QUOTE) {
          this.append('"');
          this.state = State.Quoted;
          i++;
          continue;
        }
        this.state = State.Unquoted;
        if (c !== this.delimiter && c !== CR && c !== LF) {
          this.problem ??= `text after a closing quote in field ${this.fields.length + 1}`;
        }
      } else if (this.state === State.FieldStart && c === QUOTE) {
        this.state = State.Quoted;
        this.started = true;
        i++;
        continue;
      }
      let j = i;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === this.delimiter || d === CR || d === LF) break;
        j++;
      }
      if (j > i) {
        this.append(text.slice(i, j));
        this.state = State.Unquoted;
        this.started = true;
      }
      if (j === n) return out;
      const d = text.charCodeAt(j);
      if (d === this.delimiter) {
        this.fields.push(this.field);
        this.field = '';
        this.state = State.FieldStart;
        this.started = true;
      } else {
        this.afterCR = d === CR;
        this.line++;
        out.push(this.finishRecord());
      }
      i = j + 1;
    }
    return out;
  }

  /** Ends the input: returns the last record when the text did not end with a line break. */
  end(): CsvRecord[] {
    if (this.state === State.Quoted) {
      this.problem = 'a quoted field is never closed (the rest of the file is inside it)';
    }
    return this.started ? [this.finishRecord()] : [];
  }

  /** Copies quoted text up to the next `"`, counting the line breaks it holds. */
  private quoted(text: string, from: number): number {
    const quote = text.indexOf('"', from);
    const to = quote === -1 ? text.length : quote;
    for (let k = from; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === CR || (c === LF && (k === from || text.charCodeAt(k - 1) !== CR))) this.line++;
    }
    if (to > from) this.append(text.slice(from, to));
    if (quote === -1) {
      // A `\r` that ends the chunk pairs with a `\n` at the start of the next one: one line, not two.
      this.afterCR = to > from && text.charCodeAt(to - 1) === CR;
      return text.length;
    }
    this.state = State.QuoteSeen;
    return quote + 1;
  }

  private append(piece: string): void {
    this.chars += piece.length;
    if (this.chars > this.maxRecordChars) {
      throw new Error(`record starting on line ${this.recordLine} is longer than ${this.maxRecordChars} characters: is a quote never closed?`);
    }
    this.field += piece;
  }

  private finishRecord(): CsvRecord {
    this.fields.push(this.field);
    const record: CsvRecord = { row: ++this.row, line: this.recordLine, fields: this.fields };
    if (this.problem !== undefined) record.problem = this.problem;
    this.fields = [];
    this.field = '';
    this.state = State.FieldStart;
    this.started = false;
    this.problem = undefined;
    this.chars = 0;
    this.recordLine = this.line;
    return record;
  }
}

/** True for an empty line: one empty field. */
export function isBlank(record: CsvRecord): boolean {
  return record.fields.length === 1 && record.fields[0] === '' && record.problem === undefined;
}

/**
 * Picks the delimiter of a text sample (the start of a file): the candidate that splits the header into two or
 * more fields and splits most of the following records into as many, ties going to more fields. `undefined`
 * when no candidate splits the header.
 */
export function detectDelimiter(sample: string, complete: boolean): Delimiter | undefined {
  let best: { delimiter: Delimiter; consistent: number; width: number } | undefined;
  for (const delimiter of DELIMITERS) {
    const parser = new CsvParser(delimiter);
    let records: CsvRecord[];
    try {
      records = parser.push(sample);
      if (complete) records.push(...parser.end());
    } catch {
      continue;
    }
    const [header, ...rest] = records.filter((r) => !isBlank(r)).slice(0, 50);
    if (!header || header.fields.length < 2) continue;
    const width = header.fields.length;
    const consistent = rest.filter((r) => r.fields.length === width).length;
    if (!best || consistent > best.consistent || (consistent === best.consistent && width > best.width)) {
      best = { delimiter, consistent, width };
    }
  }
  return best?.delimiter;
}
