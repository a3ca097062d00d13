import { randomUUID } from 'node:crypto';
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoClient, createSqsClient } from '../adapters/aws-clients';
import { chunkItems, pendingEntry, type PendingEntry } from './entry-items';
import { claimRound, ClaimRoundError, MAX_CLAIMS_PER_ROUND, type Placed } from './claim-round';
import { settlePending, type PendingClaims } from './pending';
import { markContiguous, readHead } from './source-head';
import { SqsSendError, sendPlaced, type SentMessage } from './sqs-send';
import { emptyStats, type ProducerStats } from './stats';
import { checkAll, ProducerInputError, type CheckedMessage, type ProducerMessage } from './validate';

export interface ProducerOptions {
  /** The SQS FIFO queue the workers read. */
  queueUrl: string;
  /** The progress table (the workers' PROGRESS_TABLE): the journal lives in it. */
  table: string;
  /** Your SQS client (credentials, retries, endpoint); without one, a client for `region` is made and destroyed by close(). */
  sqs?: SQSClient;
  dynamodb?: DynamoDBClient;
  /** Needed only when a client is not given; else AWS_REGION. */
  region?: string;
  /** How long after a claim's journaledAt its round may still rewrite its own entries to keep the caller's order (default 10000 ms); keep it well below the workers' 30 s grace. */
  rewriteWindowMs?: number;
}

export interface SendResult {
  sourceId: string;
  seq: bigint;
  /** SQS's MessageId. */
  messageId: string;
  /** The journal entry's message id: X-Message-Id when the message is delivered from the journal. */
  journalId: string;
}

/**
 * A send that stopped part-way (DynamoDB or SQS failing after retries). `sent` reached SQS;
 * `journaledUnsent` are claimed in the journal but not in SQS — the producer sends them before
 * anything new of their source on the next call; `notWritten` were neither.
 */
export class ProducerSendError extends Error {
  override name = 'ProducerSendError';
  constructor(
    message: string,
    readonly sent: SendResult[],
    readonly journaledUnsent: Array<{ sourceId: string; seq: bigint }>,
    readonly notWritten: ProducerMessage[],
  ) {
    super(message);
  }
}

const CACHE_LIMIT = 10_000;
/** Claim rounds one source may take in one call before the producer gives up (other writers keep winning). */
const MAX_ROUNDS_PER_MESSAGE = 50;
const DEFAULT_REWRITE_WINDOW_MS = 10_000;

/**
 * Journal-first producer: each message's seq is claimed by a conditional put of its journal entry
 * (the next seq of its source, contiguous), then the message goes to SQS with that seq. See
 * docs/producer.md for the protocol and its cost.
 */
export class Producer {
  private readonly sqs: SQSClient;
  private readonly dynamo: DynamoDBClient;
  private readonly owned: Array<{ destroy(): void }> = [];
  /** Next seq per source from this producer's last clean round; a stale one costs one conflict, never a wrong seq. */
  private readonly nextSeq = new Map<string, bigint>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /**
   * Claimed messages SQS did not take, per source: sent again before anything new of that source,
   * so this process never puts a later seq into SQS ahead of an earlier one.
   */
  private readonly unsent = new Map<string, PendingClaims>();
  /** Sources whose ledger this process has seen or made contiguous. */
  private readonly contiguous = new Set<string>();
  readonly stats: ProducerStats = emptyStats();

  constructor(private readonly opts: ProducerOptions) {
    if (!opts.queueUrl) throw new ProducerInputError('Producer needs queueUrl');
    if (!opts.table) throw new ProducerInputError('Producer needs table');
    const region = opts.region ?? process.env.AWS_REGION;
    if ((!opts.sqs || !opts.dynamodb) && !region) throw new ProducerInputError('Producer needs region (or AWS_REGION) when it makes its own SDK clients');
    const clientOpts = { region: region ?? '', requestTimeoutMs: 10_000 };
    this.sqs = opts.sqs ?? this.own(createSqsClient(clientOpts));
    this.dynamo = opts.dynamodb ?? this.own(createDynamoClient(clientOpts));
  }

  private own<T extends { destroy(): void }>(c: T): T {
    this.owned.push(c);
    return c;
  }

  /** Destroys only the clients the producer made itself. */
  close(): void {
    for (const c of this.owned) c.destroy();
  }

  async send(message: ProducerMessage): Promise<SendResult> {
    const [r] = await this.sendBatch([message]);
    return r as SendResult;
  }

  /** Messages of one source get increasing seqs in the order given; sources are sent side by side. */
  async sendBatch(messages: readonly ProducerMessage[]): Promise<SendResult[]> {
    const checked = checkAll(messages);
    const bySource = new Map<string, CheckedMessage[]>();
    for (const m of checked) {
      const list = bySource.get(m.sourceId);
      if (list) list.push(m);
      else bySource.set(m.sourceId, [m]);
    }
    for (const [sourceId, list] of bySource) {
      const explicit = list.filter((m) => m.explicitSeq !== undefined).length;
      if (explicit > 0 && explicit < list.length) throw new ProducerInputError(`nothing sent: source ${sourceId} mixes messages with and without seq in one call`);
    }
    // Explicit seqs are checked for every source before anything is written.
    await Promise.all([...bySource].map(([sourceId, list]) => (list[0]?.explicitSeq === undefined ? undefined : this.locked(sourceId, () => this.checkExplicit(sourceId, list)))));

    const results = new Map<CheckedMessage, SendResult>();
    const failures: Error[] = [];
    const unsent: Array<{ sourceId: string; seq: bigint }> = [];
    const notWritten: ProducerMessage[] = [];
    await Promise.all(
      [...bySource].map(([sourceId, list]) =>
        this.locked(sourceId, () => this.sendSource(sourceId, list, results)).catch((err: unknown) => {
          failures.push(err as Error);
          // Whatever failed, what this process still holds for the source is journaled, not lost.
          const held = this.unsent.get(sourceId)?.placed ?? [];
          unsent.push(...held.map((p) => ({ sourceId, seq: p.seq })));
          for (const m of list) if (!results.has(m) && !held.some((p) => p.entry.message === m)) notWritten.push(m);
        }),
      ),
    );
    const sent = checked.filter((m) => results.has(m)).map((m) => results.get(m) as SendResult);
    if (failures.length > 0) {
      if (failures.every((f) => f instanceof ProducerInputError) && sent.length === 0 && unsent.length === 0) throw failures[0] as Error;
      throw new ProducerSendError(`send stopped part-way: ${failures.map((f) => f.message).join('; ')}`, sent, unsent, notWritten);
    }
    return sent;
  }

  /** One call at a time per source in this process: the order of calls is the order of seqs. */
  private locked<T>(sourceId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(sourceId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(sourceId, tail);
    void tail.then(() => {
      if (this.locks.get(sourceId) === tail) this.locks.delete(sourceId);
    });
    return run;
  }

  private async head(sourceId: string, fresh: boolean): Promise<bigint> {
    const cached = this.nextSeq.get(sourceId);
    if (!fresh && cached !== undefined) return cached;
    this.stats.headReads++;
    const h = await readHead(this.dynamo, this.opts.table, sourceId, this.stats);
    if (h.contiguous) this.contiguous.add(sourceId);
    return h.next;
  }

  /** Written only just before the first claim, so a refused call writes nothing at all. */
  private async declareContiguous(sourceId: string): Promise<void> {
    if (this.contiguous.has(sourceId)) return;
    await markContiguous(this.dynamo, this.opts.table, sourceId, this.stats);
    this.contiguous.add(sourceId);
  }

  private async checkExplicit(sourceId: string, list: CheckedMessage[]): Promise<void> {
    const next = await this.head(sourceId, true);
    list.forEach((m, i) => {
      if (m.explicitSeq !== next + BigInt(i)) throw new ProducerInputError(`nothing sent: seq ${m.explicitSeq} for source ${sourceId} is not the next one (next is ${next + BigInt(i)})`);
    });
  }

  private async writeChunks(entries: PendingEntry[]): Promise<void> {
    for (const e of entries) {
      for (const item of chunkItems(e)) {
        this.stats.dynamoWrites++;
        this.stats.itemsWritten++;
        // Keyed by the entry's own id: nobody else writes these keys, so no condition is needed.
        await this.dynamo.send(new PutItemCommand({ TableName: this.opts.table, Item: item }));
      }
    }
  }

  /**
   * Sends what an earlier call claimed but could not send, in seq order, before anything new:
   * proves claims whose round failed before its proof, fills owed seqs first. Returns the messages
   * whose claim turned out stale or taken: they are claimed again ahead of the call's own.
   */
  private async sendUnsent(sourceId: string): Promise<PendingEntry[]> {
    const pending = this.unsent.get(sourceId);
    if (!pending) return [];
    const { ready, again } = await settlePending({ client: this.dynamo, table: this.opts.table, sourceId, claimId: pending.claimId, stats: this.stats, now: Date.now }, pending);
    this.unsent.set(sourceId, { ...pending, placed: ready, proven: true });
    try {
      this.stats.messages += (await sendPlaced(this.sqs, this.opts.queueUrl, ready, this.stats)).length;
      this.unsent.delete(sourceId);
    } catch (err) {
      if (err instanceof SqsSendError) {
        this.stats.messages += err.sent.length;
        this.unsent.set(sourceId, { ...pending, placed: err.unsent, proven: true });
        throw new SqsSendError(`source ${sourceId}: seqs ${err.unsent.map((p) => p.seq).join(', ')} of an earlier call are still not in SQS: ${err.message}`, [], err.unsent);
      }
      throw err;
    }
    return again;
  }

  /** The sources the producer would refuse (delivered by plain seq-less messages), read without writing anything. */
  async refusedSources(sourceIds: readonly string[]): Promise<Array<{ sourceId: string; reason: string }>> {
    const out: Array<{ sourceId: string; reason: string }> = [];
    for (const sourceId of sourceIds) {
      try {
        await this.locked(sourceId, () => this.head(sourceId, true));
      } catch (err) {
        if (!(err instanceof ProducerInputError)) throw err;
        out.push({ sourceId, reason: err.message });
      }
    }
    return out;
  }

  /** Seqs this producer claimed for the source but has not yet got into SQS. */
  pendingSeqs(sourceId: string): bigint[] {
    return (this.unsent.get(sourceId)?.placed ?? []).map((p) => p.seq);
  }

  private async sendSource(sourceId: string, list: CheckedMessage[], results: Map<CheckedMessage, SendResult>): Promise<void> {
    const again = await this.sendUnsent(sourceId);
    let rest = [...again, ...list.map((m) => pendingEntry(m, randomUUID()))];
    const claimId = randomUUID();
    await this.writeChunks(rest.slice(again.length));
    const explicit = list[0]?.explicitSeq !== undefined;
    let fresh = explicit;
    // Once other writers are met, one message per round: a single claim never needs a rewrite.
    let single = explicit;
    let claimed = again.length > 0;
    const maxRounds = MAX_ROUNDS_PER_MESSAGE * Math.ceil(rest.length / MAX_CLAIMS_PER_ROUND + 1);
    for (let round = 0; rest.length > 0; round++) {
      if (round >= maxRounds) throw new Error(`source ${sourceId}: other producers won every claim for ${round} rounds`);
      const freshHead = fresh || !this.nextSeq.has(sourceId);
      const next = await this.head(sourceId, fresh);
      if (explicit && rest[0]?.message.explicitSeq !== next) {
        const text = `seq ${rest[0]?.message.explicitSeq} for source ${sourceId} is no longer the next one (next is ${next})`;
        throw claimed ? new Error(text) : new ProducerInputError(text);
      }
      await this.declareContiguous(sourceId);
      claimed = true;
      let r;
      try {
        r = await claimRound(
          { client: this.dynamo, table: this.opts.table, sourceId, claimId, now: Date.now, stats: this.stats, rewriteWindowMs: this.opts.rewriteWindowMs ?? DEFAULT_REWRITE_WINDOW_MS },
          rest,
          next,
          single,
          freshHead,
        );
      } catch (err) {
        this.remember(sourceId, undefined);
        if (err instanceof ClaimRoundError && err.ours.length > 0) this.unsent.set(sourceId, { claimId, placed: err.ours, proven: err.proven });
        throw err;
      }
      this.remember(sourceId, r.next);
      fresh = r.next === undefined;
      if (fresh) single = true;
      rest = r.rest;
      if (r.placed.length === 0) continue;
      try {
        this.record(sourceId, await sendPlaced(this.sqs, this.opts.queueUrl, r.placed, this.stats), results);
      } catch (err) {
        if (err instanceof SqsSendError) {
          this.record(sourceId, err.sent, results);
          this.unsent.set(sourceId, { claimId, placed: err.unsent, proven: true });
        }
        throw err;
      }
    }
  }

  private remember(sourceId: string, next: bigint | undefined): void {
    this.nextSeq.delete(sourceId);
    if (next === undefined) return;
    if (this.nextSeq.size >= CACHE_LIMIT) this.nextSeq.delete(this.nextSeq.keys().next().value as string);
    this.nextSeq.set(sourceId, next);
  }

  private record(sourceId: string, sent: SentMessage[], results: Map<CheckedMessage, SendResult>): void {
    for (const s of sent) {
      this.stats.messages++;
      results.set(s.placed.entry.message, { sourceId, seq: s.placed.seq, messageId: s.messageId, journalId: s.placed.entry.journalId });
    }
  }
}

export type { Placed };
