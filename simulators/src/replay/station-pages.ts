import type { ReadingRow, Store } from '@linewatch/store';

export interface StationPagesOptions {
  store: Store;
  line: string;
  station: string;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** Most rows asked for at once. */
  pageSize: number;
}

/**
 * One station's readings over a range, in time order, read page by page so that nothing is lost.
 *
 * A store cuts a query at `limit` and keeps the newest rows, silently dropping the oldest. So every window is
 * asked for `pageSize + 1` rows: getting that many back means the window was cut, and it is asked again,
 * narrower (sized from the density of what came back), until it fits. A window that fits is complete. Windows
 * grow again while pages come back sparse, so an empty stretch costs few queries.
 */
export class StationPages {
  private next: number;
  private windowMs: number;
  private page: ReadingRow[] = [];
  private index = 0;
  /** Store queries made, for tests and logs. */
  queries = 0;

  constructor(private readonly options: StationPagesOptions) {
    if (!(options.to > options.from)) throw new Error(`empty range: from ${options.from} is not before to ${options.to}`);
    if (!(Number.isSafeInteger(options.pageSize) && options.pageSize >= 1)) throw new Error(`page size must be a positive integer, got ${options.pageSize}`);
    this.next = options.from;
    this.windowMs = options.to - options.from;
  }

  /** The next reading without taking it; undefined at the end of the range. */
  async peek(): Promise<ReadingRow | undefined> {
    while (this.index >= this.page.length) {
      if (this.next >= this.options.to) return undefined;
      await this.fetch();
    }
    return this.page[this.index];
  }

  /** Takes the reading `peek()` returned. */
  take(): ReadingRow {
    const row = this.page[this.index];
    if (!row) throw new Error('StationPages.take() without a reading; call peek() first');
    this.index++;
    return row;
  }

  /** The rows of the current page, for a first look at which sensors a station has. */
  get currentPage(): readonly ReadingRow[] {
    return this.page;
  }

  private async fetch(): Promise<void> {
    const { store, line, station, to, pageSize } = this.options;
    const from = this.next;
    const end = Math.min(to, from + this.windowMs);
    this.queries++;
    let rows: ReadingRow[];
    try {
      rows = await store.readings({ line, station, from, to: end, limit: pageSize + 1 });
    } catch (err) {
      throw new Error(`reading ${line}/${station} from the ${store.kind} store [${new Date(from).toISOString()}, ${new Date(end).toISOString()}) failed`, { cause: err });
    }
    if (rows.length > pageSize) {
      if (end - from <= 1) throw new Error(`${line}/${station}: more than ${pageSize} readings at ${new Date(from).toISOString()}; raise the page size`);
      // The rows kept are the newest; their density says how wide a window holds about half a page.
      const covered = Math.max(1, end - rows[0]!.ts);
      const fitted = Math.floor((covered * pageSize) / (2 * rows.length));
      this.windowMs = Math.max(1, Math.min(Math.floor((end - from) / 2), fitted));
      return;
    }
    this.page = rows;
    this.index = 0;
    this.next = end;
    if (rows.length < pageSize / 4) this.windowMs = Math.min(this.windowMs * 2, to - this.options.from);
  }
}
