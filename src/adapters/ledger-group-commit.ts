import type { LedgerPosition } from '../core/ledger-position';
import type { Sequence } from '../core/message';
import type { AdvanceOptions, AdvanceRequest, AdvanceResult, BatchAdvanceOutcome, FailureRecord, LedgerPort } from './progress-ledger';

/** DynamoDB's limit of statements per BatchExecuteStatement. */
export const MAX_STATEMENTS_PER_BATCH = 25;

/** The ledger as GroupCommitLedger needs it: the single calls, and many advances in one call. */
export interface BatchingLedger extends LedgerPort {
  advanceBatch(requests: readonly AdvanceRequest[]): Promise<BatchAdvanceOutcome[]>;
}

/** Sources whose last read found no item, remembered until their first advance (bounded). */
const MAX_REMEMBERED_MISSING = 10_000;

export interface GroupCommitOptions {
  /** Batched calls allowed in flight at once; advances beyond wait for the next one to return. */
  maxInFlight: number;
  maxBatch?: number;
}

interface Pending {
  request: AdvanceRequest;
  resolve(result: AdvanceResult): void;
  reject(error: Error): void;
}

/**
 * Group commit for ledger advances, invisible to its callers: each advance() returns its own
 * result as before, but advances pending at the same moment go to DynamoDB together. No timer:
 * an advance goes out at the end of the current event-loop turn when a call slot is free (one busy
 * source pays nothing), and those that arrive while every slot is taken form the next batch, up
 * to 25, sent as soon as a slot frees. A failed call or statement fails only its own callers.
 */
export class GroupCommitLedger implements LedgerPort {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly missing = new Set<string>();

  constructor(
    private readonly inner: BatchingLedger,
    private readonly opts: GroupCommitOptions,
  ) {
    this.maxBatch = Math.min(Math.max(opts.maxBatch ?? MAX_STATEMENTS_PER_BATCH, 1), MAX_STATEMENTS_PER_BATCH);
  }

  /** A lane reads a source it has not seen before advancing it: a miss makes its first write an INSERT. */
  async read(sourceId: string): Promise<LedgerPosition | undefined> {
    const position = await this.inner.read(sourceId);
    if (position) this.missing.delete(sourceId);
    else {
      if (this.missing.size >= MAX_REMEMBERED_MISSING) this.missing.delete(this.missing.values().next().value as string);
      this.missing.add(sourceId);
    }
    return position;
  }

  recordFailure(sourceId: string, failure: FailureRecord): Promise<void> {
    return this.inner.recordFailure(sourceId, failure);
  }

  async recordGap(sourceId: string, gap: { seq: bigint; nowMs: number }): Promise<void> {
    await this.inner.recordGap?.(sourceId, gap);
  }

  async clearGap(sourceId: string, seq: bigint): Promise<void> {
    await this.inner.clearGap?.(sourceId, seq);
  }

  advance(sourceId: string, seq: Sequence, messageId: string, nowMs: number, opts?: AdvanceOptions): Promise<AdvanceResult> {
    return new Promise((resolve, reject) => {
      const insertFirst = this.missing.delete(sourceId);
      this.queue.push({ request: { sourceId, seq, messageId, nowMs, insertFirst, ...(opts?.exactNext ? { exactNext: true } : {}) }, resolve, reject });
      if (!this.scheduled && this.inFlight < this.opts.maxInFlight) {
        // The rest of this turn's I/O callbacks (other lanes' app answers) join the same call.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      this.inFlight++;
      void this.send(this.takeBatch());
    }
  }

  /** Oldest first, one request per source: DynamoDB refuses a batch that names one key twice. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const sources = new Set<string>();
    const rest: Pending[] = [];
    for (const p of this.queue) {
      if (batch.length < this.maxBatch && !sources.has(p.request.sourceId)) {
        sources.add(p.request.sourceId);
        batch.push(p);
      } else rest.push(p);
    }
    this.queue = rest;
    return batch;
  }

  private async send(batch: Pending[]): Promise<void> {
    try {
      if (batch.length === 1) {
        // Alone: UpdateItem creates a missing item in the same call, where PartiQL would need two.
        const { request: r } = batch[0] as Pending;
        (batch[0] as Pending).resolve(await this.inner.advance(r.sourceId, r.seq, r.messageId, r.nowMs, r.exactNext ? { exactNext: true } : undefined));
        return;
      }
      const results = await this.inner.advanceBatch(batch.map((p) => p.request));
      batch.forEach((p, i) => {
        const r = results[i];
        if (r === undefined) p.reject(new Error('ledger batch returned no result for this advance'));
        else if (r instanceof Error) p.reject(r);
        else p.resolve(r);
      });
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    } finally {
      this.inFlight--;
      this.pump();
    }
  }
}
