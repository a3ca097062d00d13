import type { SourceList } from '../adapters/source-status';
import type { StuckThresholds } from '../core/source-condition';

export interface TableSnapshot {
  /** When the table was read (ms); 0 before the first read finished. */
  readAt: number;
  list?: SourceList;
  /** The last read's failure, when it failed (the previous list, if any, is kept). */
  error?: string;
}

export interface TableStatusOptions {
  thresholds: StuckThresholds;
  refreshMs: number;
  now?: () => number;
  /** Upper bound on sources read per index. */
  limit?: number;
  onError?: (err: Error) => void;
}

/**
 * The cross-task list every page view and metrics scrape shows, read from the table at most
 * once per refresh interval and only while someone asks: a page open in ten browsers costs the
 * same few index queries as one. Callers get the cached copy at once; a stale one triggers a
 * single refresh in the background.
 */
export class TableStatusCache {
  private snapshot: TableSnapshot = { readAt: 0 };
  private refreshing: Promise<TableSnapshot> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly reader: { list(t: StuckThresholds, now: number, limit?: number): Promise<SourceList> },
    private readonly opts: TableStatusOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get thresholds(): StuckThresholds {
    return this.opts.thresholds;
  }

  /**
   * The cached snapshot. A slightly stale one is returned at once and refreshed in the
   * background; one nobody asked for in a while (two intervals or more) is read again first.
   */
  async get(): Promise<TableSnapshot> {
    const age = this.now() - this.snapshot.readAt;
    if (age < this.opts.refreshMs) return this.snapshot;
    const refresh = this.refresh();
    return age >= 2 * this.opts.refreshMs ? refresh : this.snapshot;
  }

  /** One read at a time, whoever asks. */
  refresh(): Promise<TableSnapshot> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async read(): Promise<TableSnapshot> {
    const at = this.now();
    try {
      const list = await this.reader.list(this.opts.thresholds, at, this.opts.limit ?? 1000);
      this.snapshot = { readAt: at, list };
    } catch (err) {
      this.opts.onError?.(err as Error);
      // Keep the last good list, marked with the error; retry on the next interval, not on every view.
      this.snapshot = { ...this.snapshot, readAt: at, error: (err as Error).message };
    }
    return this.snapshot;
  }
}
