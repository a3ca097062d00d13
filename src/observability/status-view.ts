import type { ConditionCounts, SourceSummary, StuckThresholds } from '../core/source-condition';
import type { RetryingHead } from '../worker/lane';
import type { Worker, WorkerStats } from '../worker/worker';
import type { TableStatusCache } from './table-status';
import { Throughput } from './throughput';

/** What /status answers (as JSON, or rendered as the page). */
export interface StatusView {
  generatedAt: number;
  /** This task only. */
  task: WorkerStats & { retrying: RetryingHead[] };
  /** This task's circuit breaker, 429 pause and rate limit. */
  flow: ReturnType<Worker['flowStatus']>;
  throughput: { perSecond10s: number; perSecond60s: number; deliveredSinceStart: number };
  /** Every task's sources, from the table. */
  table: {
    readAt: number;
    ageMs: number;
    error?: string;
    thresholds: StuckThresholds;
    counts: ConditionCounts;
    truncated: boolean;
    sources: SourceSummary[];
  };
  /** The queue's MessageRetentionPeriod, to judge how short a time left is. */
  retentionSeconds: number;
}

const EMPTY_COUNTS: ConditionCounts = { stuck: 0, retrying: 0, parked: 0, replaying: 0, closing: 0 };

export class StatusService {
  private readonly throughput: Throughput;

  constructor(
    private readonly worker: Worker,
    readonly cache: TableStatusCache,
    private readonly retentionSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.throughput = new Throughput(now);
    worker.on('delivered', () => this.throughput.add());
  }

  async view(): Promise<StatusView> {
    const snap = await this.cache.get();
    const now = this.now();
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      generatedAt: now,
      task: { ...this.worker.stats(), retrying: this.worker.retryingHeads() },
      flow: this.worker.flowStatus(),
      throughput: { perSecond10s: round(this.throughput.perSecond(10)), perSecond60s: round(this.throughput.perSecond(59)), deliveredSinceStart: this.throughput.total },
      table: {
        readAt: snap.readAt,
        ageMs: snap.readAt ? now - snap.readAt : 0,
        ...(snap.error === undefined ? {} : { error: snap.error }),
        thresholds: this.cache.thresholds,
        counts: snap.list?.counts ?? EMPTY_COUNTS,
        truncated: snap.list?.truncated ?? false,
        // Time left is as of the read; the page shows the read's age next to it.
        sources: snap.list?.sources ?? [],
      },
      retentionSeconds: this.retentionSeconds,
    };
  }
}
