import type { AttributeValue, BatchStatementError, BatchStatementRequest, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { LedgerPosition } from '../core/ledger-position';
import type { Sequence } from '../core/message';
import { LEDGER_SK, ledgerKey, PK, SK, sqsSeqText } from './table-keys';

export type AdvanceResult = { status: 'advanced' } | { status: 'stale'; position: LedgerPosition | undefined };

export interface AdvanceOptions {
  /** A contiguous source: the advance lands only on position seq − 1 (see AdvanceRequest.exactNext). */
  exactNext?: boolean;
}

/**
 * An exact-next advance whose position is below seq − 1: recording it would pass a hole. Thrown,
 * not returned as stale, so the message is kept and comes back (the app sees its key again).
 */
export function exactNextRefused(sourceId: string, seq: Sequence, position: LedgerPosition | undefined): Error {
  const err = new Error(`exact-next advance of ${sourceId} to seq ${seq.text} refused: the position is ${String(position?.producerSeq ?? 0n)}`);
  err.name = 'ExactNextRefused';
  return err;
}

/** Stale when the position covers seq; an exact-next advance that met a lower position is an error. */
export function settleStale(sourceId: string, seq: Sequence, position: LedgerPosition | undefined, exactNext: boolean | undefined): AdvanceResult {
  if (exactNext && seq.kind === 'producer' && !(position?.producerSeq !== undefined && position.producerSeq >= seq.value)) throw exactNextRefused(sourceId, seq, position);
  return { status: 'stale', position };
}

/** One advance of a source's ledger item, as DynamoLedger.advance takes it. */
export interface AdvanceRequest {
  sourceId: string;
  seq: Sequence;
  messageId: string;
  nowMs: number;
  /** The caller's read just found no item: try INSERT first, saving the UPDATE that would fail. */
  insertFirst?: boolean;
  /** A contiguous source: the advance lands only on position seq − 1, never past a hole. */
  exactNext?: boolean;
}

/** Success ends a failure streak: the attributes recordFailure sets, removed by every advance. */
export const FAILURE_ATTRIBUTE_NAMES = ['stuck', 'stuckSince', 'lastError', 'attempt', 'headMessageId', 'headSeq', 'failedAt', 'nextAttemptAt', 'lastStatus', 'headSentAt', 'retentionDeadlineAt', 'heldBy', 'headJournaledAt', 'headAsideAt', 'gapSeq', 'gapSince'];
const REMOVE = FAILURE_ATTRIBUTE_NAMES.map((a) => ` REMOVE ${a}`).join('');

const quoted = (table: string) => `"${table.replace(/"/g, '""')}"`;

/**
 * PartiQL twin of DynamoLedger.advance(): the same SETs, the same REMOVEs and the same
 * forward-only condition (IS MISSING is PartiQL's attribute_not_exists). The statement text
 * depends only on table and sequence kind, so DynamoDB sees a handful of distinct statements.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.update.html
 */
export function advanceStatement(table: string, r: AdvanceRequest): BatchStatementRequest {
  const set = 'SET sqsSeq = ? SET sqsQueueId = ? SET sqsSeqKind = ? SET lastMessageId = ? SET updatedAt = ?';
  const params: AttributeValue[] = [{ S: sqsSeqText(r.seq.sqs) }, { S: r.seq.queueId }, { S: r.seq.kind }, { S: r.messageId }, { N: String(r.nowMs) }];
  const key = `${PK} = ? AND ${SK} = '${LEDGER_SK}'`;
  let statement: string;
  if (r.seq.kind === 'producer' && r.exactNext) {
    const prev = r.seq.value - 1n;
    const cond = prev === 0n ? 'producerSeq IS MISSING' : 'producerSeq = ?';
    statement = `UPDATE ${quoted(table)} ${set} SET producerSeq = ?${REMOVE} WHERE ${key} AND ${cond}`;
    params.push({ N: r.seq.text }, { S: r.sourceId });
    if (prev !== 0n) params.push({ N: prev.toString() });
  } else if (r.seq.kind === 'producer') {
    statement = `UPDATE ${quoted(table)} ${set} SET producerSeq = ?${REMOVE} WHERE ${key} AND (producerSeq IS MISSING OR producerSeq < ?)`;
    params.push({ N: r.seq.text }, { S: r.sourceId }, { N: r.seq.text });
  } else {
    statement = `UPDATE ${quoted(table)} ${set}${REMOVE} WHERE ${key} AND (sqsSeq IS MISSING OR sqsQueueId <> ? OR sqsSeq < ?)`;
    params.push({ S: r.sourceId }, { S: r.seq.queueId }, { S: sqsSeqText(r.seq.sqs) });
  }
  // A stale statement comes back with the item as it is, as advance()'s ConditionalCheckFailedException does.
  return { Statement: statement, Parameters: params, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' };
}

/** The first write of a new source: what advance()'s UpdateItem writes when the item is missing. */
export function insertStatement(table: string, r: AdvanceRequest): BatchStatementRequest {
  const params: AttributeValue[] = [{ S: r.sourceId }, { S: sqsSeqText(r.seq.sqs) }, { S: r.seq.queueId }, { S: r.seq.kind }, { S: r.messageId }, { N: String(r.nowMs) }];
  let fields = `'${PK}': ?, '${SK}': '${LEDGER_SK}', 'sqsSeq': ?, 'sqsQueueId': ?, 'sqsSeqKind': ?, 'lastMessageId': ?, 'updatedAt': ?`;
  if (r.seq.kind === 'producer') {
    fields += `, 'producerSeq': ?`;
    params.push({ N: r.seq.text });
  }
  return { Statement: `INSERT INTO ${quoted(table)} VALUE {${fields}}`, Parameters: params };
}

/** A statement's own failure (throttled, internal error, …) as an Error named by its code. */
export function statementError(e: BatchStatementError): Error {
  const err = new Error(`ledger advance failed in a batch: ${e.Code ?? 'unknown'}: ${e.Message ?? ''}`);
  err.name = e.Code ?? 'BatchStatementError';
  return err;
}

/** A contiguous source waits for gap.seq: gapSeq, and gapSince from the first hold of this gap (every advance removes both). */
export function gapUpdate(table: string, sourceId: string, gap: { seq: bigint; nowMs: number }): UpdateItemCommandInput {
  const prev = gap.seq - 1n;
  const values: Record<string, AttributeValue> = { ':g': { N: gap.seq.toString() }, ':now': { N: String(gap.nowMs) } };
  if (prev !== 0n) values[':prev'] = { N: prev.toString() };
  return {
    TableName: table,
    Key: ledgerKey(sourceId),
    UpdateExpression: 'SET gapSeq = :g, gapSince = if_not_exists(gapSince, :now)',
    // Only while the hole is still position + 1: a late write cannot mark a source that moved on.
    ConditionExpression: prev === 0n ? 'attribute_not_exists(producerSeq)' : 'producerSeq = :prev',
    ExpressionAttributeValues: values,
  };
}
