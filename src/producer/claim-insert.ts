import { BatchExecuteStatementCommand, DeleteItemCommand, QueryCommand, ConditionalCheckFailedException, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JOURNAL_PREFIX, journalSk, PK, SK } from '../adapters/table-keys';
import { insertStatement } from './entry-items';
import type { ProducerStats } from './stats';

export interface InsertContext {
  client: DynamoDBClient;
  table: string;
  sourceId: string;
  claimId: string;
  stats: ProducerStats;
}

/** 'won': our insert landed; 'duplicate': the key existed (maybe our own earlier try); 'unknown': no answer after every try. */
export type InsertOutcome = 'won' | 'duplicate' | 'unknown';

/** Tries of one statement that failed for another reason than its key (throttling, no answer). */
export const INSERT_TRIES = 6;
const BACKOFF_MS = 100;
const BACKOFF_MAX_MS = 2000;

const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(BACKOFF_MAX_MS, BACKOFF_MS * 2 ** attempt)));

/**
 * Conditional inserts of journal headers, each failing on its own when its key exists. A
 * statement that failed for another reason is sent again, in seq order and in the same form,
 * with bounded backoff: a seq below claims that did land is never given up while tries remain.
 */
export async function insertHeaders(ctx: InsertContext, items: ReadonlyArray<Record<string, AttributeValue>>): Promise<InsertOutcome[]> {
  const out: InsertOutcome[] = items.map(() => 'unknown');
  let todo = items.map((_, i) => i);
  for (let attempt = 0; todo.length > 0 && attempt < INSERT_TRIES; attempt++) {
    if (attempt > 0) await pause(attempt);
    ctx.stats.dynamoWrites++;
    ctx.stats.itemsWritten += todo.length;
    try {
      const res = await ctx.client.send(new BatchExecuteStatementCommand({ Statements: todo.map((i) => insertStatement(ctx.table, items[i] as Record<string, AttributeValue>)) }));
      const left: number[] = [];
      todo.forEach((i, k) => {
        const r = res.Responses?.[k];
        if (r && !r.Error) out[i] = 'won';
        else if (r?.Error?.Code === 'DuplicateItem') out[i] = 'duplicate';
        else left.push(i);
      });
      todo = left;
    } catch {
      // The request may have been applied with its answer lost: its statements come back as
      // DuplicateItem next time, and claimsIn tells our own from another producer's.
    }
  }
  return out;
}

/** This call's claims between lo and hi, read consistently: seq → the journal id the entry holds. */
export async function claimsIn(ctx: InsertContext, lo: bigint, hi: bigint): Promise<Map<bigint, string>> {
  const out = new Map<bigint, string>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    ctx.stats.dynamoReads++;
    const page = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.table,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': { S: ctx.sourceId }, ':lo': { S: journalSk(lo) }, ':hi': { S: journalSk(hi) } },
        ProjectionExpression: '#sk, claimId, messageId',
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      if (item.claimId?.S === ctx.claimId) out.set(BigInt((item[SK]?.S ?? '').slice(JOURNAL_PREFIX.length)), item.messageId?.S ?? '');
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** claimsIn with a few tries: what a failed round reads to know which claims are its own. */
export async function claimsInRetried(ctx: InsertContext, lo: bigint, hi: bigint): Promise<Map<bigint, string>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await claimsIn(ctx, lo, hi);
    } catch (err) {
      if (attempt + 1 >= INSERT_TRIES) throw err;
      await pause(attempt + 1);
    }
  }
}

/**
 * Deletes our own claim at seq (a stale claim at or below the position); someone else's stays.
 * 'sealed': a worker sealed it for a journal fill, so the seq was delivered as this claim.
 */
export async function release(ctx: InsertContext, seq: bigint): Promise<'released' | 'sealed' | 'not-ours'> {
  ctx.stats.released++;
  ctx.stats.dynamoWrites++;
  try {
    await ctx.client.send(
      new DeleteItemCommand({
        TableName: ctx.table,
        Key: { [PK]: { S: ctx.sourceId }, [SK]: { S: journalSk(seq) } },
        ConditionExpression: 'claimId = :c AND attribute_not_exists(sealedAt)',
        ExpressionAttributeValues: { ':c': { S: ctx.claimId } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'released';
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    return err.Item?.claimId?.S === ctx.claimId && err.Item.sealedAt !== undefined ? 'sealed' : 'not-ours';
  }
}
