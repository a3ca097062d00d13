import {
  BatchExecuteStatementCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type BatchStatementResponse,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { JOURNAL_PREFIX, journalSk, PK, SK } from '../adapters/table-keys';
import { headerItem, insertStatement, type PendingEntry } from './entry-items';
import { ledgerProducerSeq } from './source-head';
import type { ProducerStats } from './stats';

/** A message whose seq is claimed: its journal header names it at seq. */
export interface Placed {
  entry: PendingEntry;
  seq: bigint;
}

export interface RoundResult {
  placed: Placed[];
  /** Messages not placed this round, in the caller's order. */
  rest: PendingEntry[];
  /** The next seq to try without a fresh read, or undefined when the round met other writers. */
  next: bigint | undefined;
}

export interface RoundContext {
  client: DynamoDBClient;
  table: string;
  sourceId: string;
  claimId: string;
  now: () => number;
  stats: ProducerStats;
  /**
   * Own claims are rewritten only this soon after they were made: a journal entry older than a
   * grace period may be delivered from the journal, so its content must be final by then.
   */
  rewriteWindowMs: number;
}

/** Statements per BatchExecuteStatement. */
export const MAX_CLAIMS_PER_ROUND = 25;
const SEND_TRIES = 5;

type Owner = { kind: 'mine'; journalId: string } | { kind: 'taken' } | { kind: 'free' };

const keyOf = (sourceId: string, seq: bigint): Record<string, AttributeValue> => ({ [PK]: { S: sourceId }, [SK]: { S: journalSk(seq) } });

async function ownerOf(ctx: RoundContext, seq: bigint): Promise<Owner> {
  ctx.stats.dynamoReads++;
  const out = await ctx.client.send(new GetItemCommand({ TableName: ctx.table, Key: keyOf(ctx.sourceId, seq), ConsistentRead: true, ProjectionExpression: 'claimId, messageId' }));
  if (!out.Item) return { kind: 'free' };
  return out.Item.claimId?.S === ctx.claimId ? { kind: 'mine', journalId: out.Item.messageId?.S ?? '' } : { kind: 'taken' };
}

/** A claim whose statement failed for another reason than the key: settled one at a time, put-if-absent. */
async function claimOne(ctx: RoundContext, entry: PendingEntry, seq: bigint): Promise<Owner> {
  for (let attempt = 1; ; attempt++) {
    const seen = await ownerOf(ctx, seq);
    if (seen.kind !== 'free') return seen;
    try {
      ctx.stats.dynamoWrites++;
      ctx.stats.itemsWritten++;
      await ctx.client.send(
        new PutItemCommand({ TableName: ctx.table, Item: headerItem(entry, seq, ctx.claimId, ctx.now()), ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': SK } }),
      );
      return { kind: 'mine', journalId: entry.journalId };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) continue;
      if (attempt >= SEND_TRIES) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}

/**
 * One claim round (docs/producer.md, "Claim protocol"): conditional inserts of the entries for
 * next, next+1, … in one BatchExecuteStatement; a consistent ledger read proves the claims above
 * the position (a claim at or below it met an entry already delivered and cleaned up, and is
 * deleted again); then the claims this round won are filled with the caller's messages in order.
 */
export async function claimRound(ctx: RoundContext, entries: readonly PendingEntry[], next: bigint): Promise<RoundResult> {
  const batch = entries.slice(0, MAX_CLAIMS_PER_ROUND);
  const seqs = batch.map((_, i) => next + BigInt(i));
  ctx.stats.claimRounds++;
  ctx.stats.dynamoWrites++;
  ctx.stats.itemsWritten += batch.length;
  const at = ctx.now();
  let responses: BatchStatementResponse[] | undefined;
  try {
    responses = (
      await ctx.client.send(new BatchExecuteStatementCommand({ Statements: batch.map((e, i) => insertStatement(ctx.table, headerItem(e, seqs[i] as bigint, ctx.claimId, at))) }))
    ).Responses;
  } catch {
    // The request may have been applied with its answer lost: each claim is settled on its own below.
    responses = undefined;
  }
  const claimedAt = Date.now();
  const owners: Owner[] = [];
  for (const [i, e] of batch.entries()) {
    const r = responses?.[i];
    if (r && !r.Error) owners.push({ kind: 'mine', journalId: e.journalId });
    else if (r?.Error?.Code === 'DuplicateItem') {
      ctx.stats.conflicts++;
      owners.push({ kind: 'taken' });
    } else owners.push(await claimOne(ctx, e, seqs[i] as bigint));
  }
  // The SDK retries a request whose answer was lost: its own earlier inserts then come back as
  // DuplicateItem. One consistent read of the round's range tells them from other producers' claims.
  if (owners.some((o) => o.kind === 'taken')) {
    const ours = await claimsIn(ctx, seqs[0] as bigint, seqs[seqs.length - 1] as bigint);
    owners.forEach((o, i) => {
      const journalId = ours.get(seqs[i] as bigint);
      if (o.kind === 'taken' && journalId !== undefined) {
        ctx.stats.conflicts--;
        owners[i] = { kind: 'mine', journalId };
      }
    });
  }

  const { producerSeq: position } = await ledgerProducerSeq(ctx.client, ctx.table, ctx.sourceId, ctx.stats);
  const mine: Array<{ seq: bigint; journalId: string }> = [];
  for (const [i, o] of owners.entries()) {
    const seq = seqs[i] as bigint;
    if (o.kind !== 'mine') continue;
    if (seq > position) mine.push({ seq, journalId: o.journalId });
    else await release(ctx, seq);
  }
  const clean = mine.length === batch.length;
  const lastTried = seqs[seqs.length - 1] as bigint;

  const byId = new Map(batch.map((e) => [e.journalId, e]));
  let placed: Placed[];
  if (clean || Date.now() - claimedAt < ctx.rewriteWindowMs) {
    // Fill the won seqs with the first messages, in order: a later message never lands below an earlier one.
    placed = mine.map((m, j) => ({ seq: m.seq, entry: batch[j] as PendingEntry }));
    for (const [j, m] of mine.entries()) {
      const want = batch[j] as PendingEntry;
      if (m.journalId !== want.journalId) await rewrite(ctx, want, m.seq);
    }
  } else {
    // Too late to rewrite safely: each won seq keeps the message it was claimed with.
    placed = mine.map((m) => ({ seq: m.seq, entry: byId.get(m.journalId) as PendingEntry }));
    ctx.stats.reordered += placed.filter((p, j) => p.entry !== batch[j]).length;
  }
  const used = new Set(placed.map((p) => p.entry));
  const rest = entries.filter((e) => !used.has(e));
  return { placed, rest, next: clean ? lastTried + 1n : undefined };
}

/** This call's claims between lo and hi: seq → the journal id the entry holds. */
async function claimsIn(ctx: RoundContext, lo: bigint, hi: bigint): Promise<Map<bigint, string>> {
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
      const sk = item[SK]?.S ?? '';
      if (item.claimId?.S === ctx.claimId && !sk.includes('#c')) out.set(BigInt(sk.slice(JOURNAL_PREFIX.length)), item.messageId?.S ?? '');
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

async function release(ctx: RoundContext, seq: bigint): Promise<void> {
  ctx.stats.released++;
  ctx.stats.dynamoWrites++;
  try {
    await ctx.client.send(
      new DeleteItemCommand({ TableName: ctx.table, Key: keyOf(ctx.sourceId, seq), ConditionExpression: 'claimId = :c', ExpressionAttributeValues: { ':c': { S: ctx.claimId } } }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}

async function rewrite(ctx: RoundContext, entry: PendingEntry, seq: bigint): Promise<void> {
  ctx.stats.rewrites++;
  ctx.stats.dynamoWrites++;
  ctx.stats.itemsWritten++;
  await ctx.client.send(
    new PutItemCommand({
      TableName: ctx.table,
      Item: headerItem(entry, seq, ctx.claimId, ctx.now()),
      ConditionExpression: 'claimId = :c',
      ExpressionAttributeValues: { ':c': { S: ctx.claimId } },
    }),
  );
}
