import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CsvParser, detectDelimiter, type CsvRecord, type Delimiter } from './csv-parser.js';

/** Text read before the delimiter is guessed: enough for the header and dozens of rows of any real file. */
const SNIFF_CHARS = 64 * 1024;

/**
 * One streamed read of a CSV file: the records in order, the delimiter (given, or detected from the first
 * 64 KiB) and, once the read has finished, the SHA-256 of the bytes, which names the data in a recording's
 * source and tells the importer's second read that the file did not change under it.
 */
export class CsvSource {
  private detected: Delimiter | undefined;
  private hash: string | undefined;

  constructor(readonly path: string, private readonly given?: Delimiter) {
    this.detected = given;
  }

  /** The delimiter in use; known once `batches()` has yielded its first batch. */
  get delimiter(): Delimiter | undefined {
    return this.detected;
  }

  /** Hex SHA-256 of the whole file; known once `batches()` has run to the end. */
  get sha256(): string | undefined {
    return this.hash;
  }

  /**
   * The file's records, a chunk's worth at a time (one await per chunk, not per row, is what keeps a million rows
   * fast). Stopping early (`break`) closes the file. Throws on a file that is not UTF-8.
   */
  async *batches(): AsyncGenerator<CsvRecord[]> {
    const stream = createReadStream(this.path, { highWaterMark: 256 * 1024 });
    const hash = createHash('sha256');
    // fatal: a Latin-1 export would otherwise turn into U+FFFD in names and values without a word.
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let parser: CsvParser | undefined;
    let sample = '';
    let bytes = 0;
    const decode = (chunk?: Buffer): string => {
      try {
        return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
      } catch (err) {
        throw new Error(`${this.path}: not UTF-8 text (near byte ${bytes}); convert it first, e.g. iconv -f latin1 -t utf-8`, { cause: err });
      }
    };
    const start = (complete: boolean): CsvParser => {
      if (complete && sample.trim() === '') throw new Error(`${this.path}: empty file, no header`);
      const delimiter = this.given ?? detectDelimiter(sample, complete);
      if (!delimiter) {
        throw new Error(`${this.path}: cannot tell the delimiter (no ',', ';' or tab splits the header); give --delimiter`);
      }
      this.detected = delimiter;
      return new CsvParser(delimiter);
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        const text = decode(chunk);
        bytes += chunk.length;
        if (!parser) {
          sample += text;
          if (sample.length < SNIFF_CHARS) continue;
          parser = start(false);
          yield parser.push(sample);
          sample = '';
          continue;
        }
        yield parser.push(text);
      }
      const tail = decode();
      if (!parser) {
        sample += tail;
        parser = start(true);
        yield parser.push(sample);
      } else {
        yield parser.push(tail);
      }
      yield parser.end();
      this.hash = hash.digest('hex');
    } finally {
      stream.destroy();
    }
  }

  /** The file's records one by one, for callers that stop early. */
  async *records(): AsyncGenerator<CsvRecord> {
    for await (const batch of this.batches()) yield* batch;
  }
}
