import { ConditionalCheckFailedException, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { claimsIn, claimsInRetried, insertHeaders, release, type InsertContext } from './claim-insert';
import { headerItem, type PendingEntry } from './entry-items';
import { ledgerProducerSeq } from './source-head';
import type { ProducerStats } from './stats';

/** A message whose seq is ours: its journal header names it at seq (or, when `owed`, must still be written there). */
export interface Placed {
  entry: PendingEntry;
  seq: bigint;
  /** Our insert at this seq never got an answer while a later seq of ours landed: the hole is ours to fill. */
  owed?: boolean;
}

export interface RoundResult {
  placed: Placed[];
  /** Messages not placed this round, in the caller's order. */
  rest: PendingEntry[];
  /** The next seq to try without a fresh read, or undefined when the round met other writers. */
  next: bigint | undefined;
}

export interface RoundContext extends InsertContext {
  client: DynamoDBClient;
  now: () => number;
  stats: ProducerStats;
  /**
   * Own claims are rewritten only this soon after the claim's journaledAt: the workers deliver a
   * producer entry from the journal only once it is older than their grace (30 s), so its content
   * is final well before anyone may deliver it.
   */
  rewriteWindowMs: number;
}

/**
 * A round that failed after its inserts: `ours` are the claims it holds (read back consistently),
 * in seq order with the message each holds; `proven` is false when the ledger proof was not done.
 */
export class ClaimRoundError extends Error {
  override name = 'ClaimRoundError';
  constructor(
    message: string,
    readonly ours: Placed[],
    readonly proven: boolean,
  ) {
    super(message);
  }
}

/** Statements per BatchExecuteStatement. */
export const MAX_CLAIMS_PER_ROUND = 25;

type Owner = { kind: 'mine'; journalId: string } | { kind: 'taken' } | { kind: 'owed' } | { kind: 'free' };

/**
 * One claim round (docs/producer.md, "Claim protocol"): conditional inserts of the entries for
 * next, next+1, … (one at a time under contention); a consistent ledger read proves the claims
 * above the position; then the claims this round won are filled with the caller's messages in order.
 * `freshHead`: next came from a head read of this call, not from the cache.
 */
export async function claimRound(ctx: RoundContext, entries: readonly PendingEntry[], next: bigint, single: boolean, freshHead: boolean): Promise<RoundResult> {
  const batch = entries.slice(0, single ? 1 : MAX_CLAIMS_PER_ROUND);
  const seqs = batch.map((_, i) => next + BigInt(i));
  const lo = next;
  const hi = seqs[seqs.length - 1] as bigint;
  ctx.stats.claimRounds++;
  const at = ctx.now();
  const outcomes = await insertHeaders(
    ctx,
    batch.map((e, i) => headerItem(e, seqs[i] as bigint, ctx.claimId, at)),
  );
  let proven = false;
  try {
    const owners: Owner[] = outcomes.map((o, i) => (o === 'won' ? { kind: 'mine', journalId: (batch[i] as PendingEntry).journalId } : { kind: 'free' }));
    if (outcomes.some((o) => o !== 'won')) {
      // A lost answer's statements come back as DuplicateItem: the range tells our own from others'.
      const ours = await claimsIn(ctx, lo, hi);
      outcomes.forEach((o, i) => {
        const journalId = ours.get(seqs[i] as bigint);
        if (journalId !== undefined) owners[i] = { kind: 'mine', journalId };
        else if (o === 'duplicate') {
          ctx.stats.conflicts++;
          owners[i] = { kind: 'taken' };
        }
      });
      // A seq with no answer below one we hold is ours to fill: never left as a hole.
      const topMine = owners.map((o) => o.kind).lastIndexOf('mine');
      owners.forEach((o, i) => {
        if (o.kind === 'free' && i < topMine) owners[i] = { kind: 'owed' };
      });
    }

    const ledger = await ledgerProducerSeq(ctx.client, ctx.table, ctx.sourceId, ctx.stats);
    proven = true;
    const mine: Array<{ seq: bigint; journalId?: string }> = [];
    for (const [i, o] of owners.entries()) {
      const seq = seqs[i] as bigint;
      if (o.kind === 'owed') mine.push({ seq });
      if (o.kind !== 'mine') continue;
      if (seq > ledger.producerSeq) mine.push({ seq, journalId: o.journalId });
      // Our own entry, delivered from the journal before this read: it is placed, not stale.
      else if (freshHead && seq === ledger.producerSeq && ledger.lastMessageId === o.journalId) mine.push({ seq, journalId: o.journalId });
      // Sealed by a worker's journal fill: delivered (or being delivered) as this claim, so it is placed.
      else if ((await release(ctx, seq)) === 'sealed') mine.push({ seq, journalId: o.journalId });
    }
    const clean = mine.length === batch.length && mine.every((m) => m.journalId !== undefined);

    const byId = new Map(batch.map((e) => [e.journalId, e]));
    let placed: Placed[];
    if (clean || ctx.now() - at < ctx.rewriteWindowMs) {
      // Fill the seqs we hold with the first messages, in order: a later message never lands below an earlier one.
      placed = mine.map((m, j) => ({ seq: m.seq, entry: batch[j] as PendingEntry, ...(m.journalId === undefined ? { owed: true } : {}) }));
      for (const [j, m] of mine.entries()) {
        const want = batch[j] as PendingEntry;
        if (m.journalId === undefined || m.journalId === want.journalId) continue;
        if ((await rewrite(ctx, want, m.seq, at)) === 'written') continue;
        // A worker sealed this claim for a journal fill: it keeps the message it was claimed with,
        // and so does every later seq (a message never lands at two seqs); the ones left unplaced
        // are claimed again above.
        placed = mine.map((c, k) => (k < j ? (placed[k] as Placed) : { seq: c.seq, entry: (c.journalId === undefined ? batch[seqs.indexOf(c.seq)] : byId.get(c.journalId)) as PendingEntry, ...(c.journalId === undefined ? { owed: true } : {}) }));
        ctx.stats.reordered += placed.filter((p, k) => p.entry !== batch[k]).length;
        break;
      }
    } else {
      // Past the window a rewrite could race a delivery from the journal: each seq keeps the message it was claimed with.
      placed = mine.map((m) => {
        const i = seqs.indexOf(m.seq);
        return { seq: m.seq, entry: (m.journalId === undefined ? batch[i] : byId.get(m.journalId)) as PendingEntry, ...(m.journalId === undefined ? { owed: true } : {}) };
      });
      ctx.stats.reordered += placed.filter((p, j) => p.entry !== batch[j]).length;
    }
    if (placed.some((p) => p.owed)) throw new ClaimRoundError(`source ${ctx.sourceId}: the claim of seq ${placed.find((p) => p.owed)?.seq} got no answer after every try`, placed, true);
    const used = new Set(placed.map((p) => p.entry));
    const rest = entries.filter((e) => !used.has(e));
    return { placed, rest, next: clean ? hi + 1n : undefined };
  } catch (err) {
    if (err instanceof ClaimRoundError) throw err;
    // Whatever failed after the inserts, the claims we hold are read back and kept: never orphaned.
    const ours = await claimsInRetried(ctx, lo, hi);
    const byId = new Map(batch.map((e) => [e.journalId, e]));
    const placed = [...ours]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .flatMap(([seq, journalId]) => {
        const entry = byId.get(journalId);
        return entry ? [{ seq, entry }] : [];
      });
    throw new ClaimRoundError(`source ${ctx.sourceId}: ${(err as Error).message}`, placed, proven);
  }
}

/**
 * Puts the wanted message into our own claim, unless a worker sealed it for a journal fill
 * (then the claim keeps its message: what the worker delivers is final). journaledAt stays the
 * claim's time, which the workers' settle time and grace count from.
 */
async function rewrite(ctx: RoundContext, entry: PendingEntry, seq: bigint, at: number): Promise<'written' | 'sealed'> {
  ctx.stats.rewrites++;
  ctx.stats.dynamoWrites++;
  ctx.stats.itemsWritten++;
  try {
    await ctx.client.send(
      new PutItemCommand({
        TableName: ctx.table,
        Item: headerItem(entry, seq, ctx.claimId, at),
        ConditionExpression: 'claimId = :c AND attribute_not_exists(sealedAt)',
        ExpressionAttributeValues: { ':c': { S: ctx.claimId } },
      }),
    );
    return 'written';
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return 'sealed';
    throw err;
  }
}
