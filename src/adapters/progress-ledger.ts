import {
  BatchExecuteStatementCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { LedgerPosition } from '../core/ledger-position';
import type { Sequence } from '../core/message';
import type { CallCutoff } from './call-cutoff';
import { advanceStatement, FAILURE_ATTRIBUTE_NAMES, gapUpdate, insertStatement, settleStale, statementError, type AdvanceOptions, type AdvanceRequest, type AdvanceResult } from './ledger-statements';
import { STUCK_ATTRIBUTE, STUCK_INDEX, STUCK_SINCE_ATTRIBUTE } from './table-indexes';
import { ledgerKey, parseSqsSeqText, PK, sqsSeqText } from './table-keys';

export { exactNextRefused, settleStale, type AdvanceOptions, type AdvanceRequest } from './ledger-statements';

export { STUCK_INDEX };
const STUCK_FLAG = '1';

export interface FailureRecord {
  messageId: string;
  seq: string;
  attempt: number;
  error: string;
  atMs: number;
  nextAttemptAtMs: number;
  /** The app's HTTP status; absent for timeouts, network errors and invalid messages. */
  lastStatus?: number;
  /** The head's SentTimestamp (ms). */
  headSentAt?: number;
  /** When SQS deletes the head: SentTimestamp plus the queue's retention. */
  retentionDeadlineAt?: number;
  /** The head's sequence: the record is written only while the position has not passed it. */
  headSeq?: Sequence;
}

export interface StuckSource {
  sourceId: string;
  stuckSince: number;
  attempt: number;
  lastError: string;
  headMessageId: string;
  headSeq: string;
  failedAt: number;
  nextAttemptAt: number;
  producerSeq?: string;
  sqsSeq?: string;
}

export type { AdvanceResult } from './ledger-statements';

/** The progress ledger as the worker sees it. */
export interface LedgerPort {
  read(sourceId: string): Promise<LedgerPosition | undefined>;
  /** Forward-only: 'stale' when the ledger already holds this sequence or a later one. */
  advance(sourceId: string, seq: Sequence, messageId: string, nowMs: number, opts?: AdvanceOptions): Promise<AdvanceResult>;
  recordFailure(sourceId: string, failure: FailureRecord): Promise<void>;
  /** A contiguous source waits for gap.seq (position + 1), in neither the queue nor the journal: gapSeq and gapSince, removed by the next advance. */
  recordGap?(sourceId: string, gap: { seq: bigint; nowMs: number }): Promise<void>;
  /** The missing seq turned up (in the journal): the gap record goes, so status and declare-lost stop treating it as missing. */
  clearGap?(sourceId: string, seq: bigint): Promise<void>;
}

/** What a batched advance gives each request: its result, or the error that failed only it. */
export type BatchAdvanceOutcome = AdvanceResult | Error;

/** Rounds of UPDATE → INSERT → UPDATE a request may take when other writers race on a new item. */
const MAX_ROUNDS = 3;

export function positionOf(item: Record<string, AttributeValue> | undefined): LedgerPosition | undefined {
  if (!item) return undefined;
  const pos: LedgerPosition = {};
  if (item.producerSeq?.N !== undefined) pos.producerSeq = BigInt(item.producerSeq.N);
  const sqsSeq = parseSqsSeqText(item.sqsSeq?.S);
  if (sqsSeq !== undefined) pos.sqsSeq = sqsSeq;
  if (item.sqsQueueId?.S !== undefined) pos.sqsQueueId = item.sqsQueueId.S;
  const kind = item.sqsSeqKind?.S;
  if (kind === 'sqs' || kind === 'producer') pos.sqsSeqKind = kind;
  return pos;
}

const FAILURE_ATTRIBUTES = FAILURE_ATTRIBUTE_NAMES.join(', ');

function staleOrError(r: AdvanceRequest, position: LedgerPosition | undefined): BatchAdvanceOutcome {
  try {
    return settleStale(r.sourceId, r.seq, position, r.exactNext);
  } catch (err) {
    return err as Error;
  }
}

export class DynamoLedger implements LedgerPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    /** Aborts calls still running at shutdown's hard deadline. */
    private readonly cutoff?: CallCutoff,
    /** This task's id, written with each failure: the operator sees which task holds the head. */
    private readonly heldBy?: string,
  ) {}

  private get callOptions(): { abortSignal?: AbortSignal } {
    return this.cutoff ? { abortSignal: this.cutoff.signal() } : {};
  }

  async read(sourceId: string): Promise<LedgerPosition | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: ledgerKey(sourceId),
        ConsistentRead: true,
        ProjectionExpression: 'producerSeq, sqsSeq, sqsQueueId, sqsSeqKind',
      }),
      this.callOptions,
    );
    return positionOf(out.Item);
  }

  async advance(sourceId: string, seq: Sequence, messageId: string, nowMs: number, opts?: AdvanceOptions): Promise<AdvanceResult> {
    const values: Record<string, AttributeValue> = {
      ':s': { S: sqsSeqText(seq.sqs) },
      ':q': { S: seq.queueId },
      ':m': { S: messageId },
      ':now': { N: String(nowMs) },
      ':k': { S: seq.kind },
    };
    let set = 'sqsSeq = :s, sqsQueueId = :q, sqsSeqKind = :k, lastMessageId = :m, updatedAt = :now';
    let condition: string;
    if (seq.kind === 'producer') {
      values[':p'] = { N: seq.text };
      set += ', producerSeq = :p';
      condition = 'attribute_not_exists(producerSeq) OR producerSeq < :p';
      if (opts?.exactNext) {
        // Never past a hole: only position seq − 1 moves to seq.
        const prev = seq.value - 1n;
        if (prev === 0n) condition = 'attribute_not_exists(producerSeq)';
        else {
          values[':prev'] = { N: prev.toString() };
          condition = 'producerSeq = :prev';
        }
      }
    } else {
      condition = 'attribute_not_exists(sqsSeq) OR sqsQueueId <> :q OR sqsSeq < :s';
    }
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          // Success ends any failure streak: the stuck entry goes in the same write, at no extra cost.
          UpdateExpression: `SET ${set} REMOVE ${FAILURE_ATTRIBUTES}`,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        this.callOptions,
      );
      return { status: 'advanced' };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return settleStale(sourceId, seq, positionOf(err.Item), opts?.exactNext);
      throw err;
    }
  }

  async recordGap(sourceId: string, gap: { seq: bigint; nowMs: number }): Promise<void> {
    try {
      await this.client.send(new UpdateItemCommand(gapUpdate(this.table, sourceId, gap)), this.callOptions);
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async clearGap(sourceId: string, seq: bigint): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({ TableName: this.table, Key: ledgerKey(sourceId), UpdateExpression: 'REMOVE gapSeq, gapSince', ConditionExpression: 'gapSeq = :g', ExpressionAttributeValues: { ':g': { N: seq.toString() } } }),
        this.callOptions,
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /**
   * Many advances in PartiQL BatchExecuteStatement calls of up to 25 statements: each statement
   * keeps advance()'s condition and updates and succeeds or fails on its own (no transaction, so
   * this works on MRSC tables too). A PartiQL UPDATE never creates an item: a statement that
   * fails its condition with no item to return is sent again as an INSERT, and an INSERT that
   * meets an item created meanwhile (DuplicateItem) goes back to UPDATE. Requests must name
   * distinct sources: DynamoDB refuses a whole batch that names one key twice.
   */
  async advanceBatch(requests: readonly AdvanceRequest[]): Promise<BatchAdvanceOutcome[]> {
    const out: Array<BatchAdvanceOutcome | undefined> = requests.map(() => undefined);
    let round: Array<{ at: number; insert: boolean }> = requests.map((r, at) => ({ at, insert: r.insertFirst === true }));
    for (let n = 0; n < MAX_ROUNDS && round.length > 0; n++) {
      const res = await this.client.send(
        new BatchExecuteStatementCommand({
          Statements: round.map(({ at, insert }) => (insert ? insertStatement : advanceStatement)(this.table, requests[at] as AdvanceRequest)),
        }),
        this.callOptions,
      );
      const next: typeof round = [];
      round.forEach(({ at, insert }, i) => {
        const response = res.Responses?.[i];
        const error = response?.Error;
        // No answer for a statement is not a success: the message must not be deleted on it.
        if (!response) out[at] = new Error('ledger advance got no answer for its statement in the batch');
        else if (!error) out[at] = { status: 'advanced' };
        else if (!insert && error.Code === 'ConditionalCheckFailed' && !error.Item && requests[at]?.exactNext && requests[at]?.seq.value !== 1n) out[at] = staleOrError(requests[at] as AdvanceRequest, undefined);
        else if (!insert && error.Code === 'ConditionalCheckFailed' && !error.Item) next.push({ at, insert: true });
        else if (!insert && error.Code === 'ConditionalCheckFailed') out[at] = staleOrError(requests[at] as AdvanceRequest, positionOf(error.Item));
        else if (insert && error.Code === 'DuplicateItem') next.push({ at, insert: false });
        else out[at] = statementError(error);
      });
      round = next;
    }
    return out.map((r) => r ?? new Error(`ledger advance still racing with other writers after ${MAX_ROUNDS} rounds`));
  }

  async recordFailure(sourceId: string, f: FailureRecord): Promise<void> {
    const values: Record<string, AttributeValue> = {
      ':flag': { S: STUCK_FLAG },
      ':at': { N: String(f.atMs) },
      ':err': { S: f.error.slice(0, 1000) },
      ':attempt': { N: String(f.attempt) },
      ':m': { S: f.messageId },
      ':seq': { S: f.seq },
      ':next': { N: String(f.nextAttemptAtMs) },
    };
    const set = [`${STUCK_ATTRIBUTE} = :flag`, `${STUCK_SINCE_ATTRIBUTE} = if_not_exists(${STUCK_SINCE_ATTRIBUTE}, :at)`, 'lastError = :err', 'attempt = :attempt', 'headMessageId = :m', 'headSeq = :seq', 'failedAt = :at', 'nextAttemptAt = :next'];
    // A head that fails is, by that, not (or no longer) journaled.
    const remove: string[] = ['headJournaledAt', 'headAsideAt'];
    if (this.heldBy !== undefined) {
      values[':heldBy'] = { S: this.heldBy };
      set.push('heldBy = :heldBy');
    }
    // An attribute this failure does not know is removed, so it never shows a previous head's value.
    const optional: Array<[string, number | undefined]> = [
      ['lastStatus', f.lastStatus],
      ['headSentAt', f.headSentAt],
      ['retentionDeadlineAt', f.retentionDeadlineAt],
    ];
    for (const [name, value] of optional) {
      if (value === undefined || !Number.isFinite(value)) remove.push(name);
      else {
        values[`:${name}`] = { N: String(value) };
        set.push(`${name} = :${name}`);
      }
    }
    // A task whose visibility lapsed can write after another task delivered the head: conditioned
    // on the position not having passed the head, that late write cannot mark a healthy source stuck.
    let condition: string | undefined;
    const h = f.headSeq;
    if (h?.kind === 'producer') {
      values[':hp'] = { N: h.text };
      condition = 'attribute_not_exists(producerSeq) OR producerSeq < :hp';
    } else if (h) {
      values[':hs'] = { S: sqsSeqText(h.sqs) };
      values[':hq'] = { S: h.queueId };
      condition = 'attribute_not_exists(sqsSeq) OR sqsQueueId <> :hq OR sqsSeq < :hs';
    }
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ...(condition ? { ConditionExpression: condition } : {}),
          ExpressionAttributeValues: values,
        }),
        this.callOptions,
      );
    } catch (err) {
      // The head was delivered meanwhile: nothing to record.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** Oldest-stuck first, from the sparse index: cost grows with stuck sources, not all sources. */
  async listStuck(limit: number): Promise<StuckSource[]> {
    const out: StuckSource[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: STUCK_INDEX,
          KeyConditionExpression: `${STUCK_ATTRIBUTE} = :flag`,
          ExpressionAttributeValues: { ':flag': { S: STUCK_FLAG } },
          ScanIndexForward: true,
          Limit: Math.min(limit - out.length, 1000),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        out.push({
          sourceId: item[PK]?.S ?? '',
          stuckSince: Number(item[STUCK_SINCE_ATTRIBUTE]?.N ?? 0),
          attempt: Number(item.attempt?.N ?? 0),
          lastError: item.lastError?.S ?? '',
          headMessageId: item.headMessageId?.S ?? '',
          headSeq: item.headSeq?.S ?? '',
          failedAt: Number(item.failedAt?.N ?? 0),
          nextAttemptAt: Number(item.nextAttemptAt?.N ?? 0),
          producerSeq: item.producerSeq?.N,
          sqsSeq: parseSqsSeqText(item.sqsSeq?.S)?.toString(),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }
}
