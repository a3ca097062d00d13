import { claimsIn, insertHeaders, release, type InsertContext } from './claim-insert';
import type { Placed } from './claim-round';
import { headerItem, type PendingEntry } from './entry-items';
import { ledgerProducerSeq } from './source-head';

/** Claims of one source this process holds but has not got into SQS (docs/producer.md, "Errors"). */
export interface PendingClaims {
  claimId: string;
  placed: Placed[];
  /** False when the round failed before its ledger proof. */
  proven: boolean;
}

/**
 * Makes held claims ready to send, in seq order: an unproven claim at or below the position is
 * released (its message is claimed again), an owed seq is written first (put-if-absent, retried);
 * an owed seq another writer filled meanwhile gives its message back to be claimed again.
 * Throws, changing nothing in SQS, while an owed seq still cannot be written.
 */
export async function settlePending(ctx: InsertContext & { now: () => number }, pending: PendingClaims): Promise<{ ready: Placed[]; again: PendingEntry[] }> {
  const ordered = [...pending.placed].sort((a, b) => (a.seq < b.seq ? -1 : 1));
  const again: PendingEntry[] = [];
  let kept = ordered;
  if (!pending.proven) {
    const ledger = await ledgerProducerSeq(ctx.client, ctx.table, ctx.sourceId, ctx.stats);
    kept = [];
    for (const p of ordered) {
      if (p.seq > ledger.producerSeq || (!p.owed && p.seq === ledger.producerSeq && ledger.lastMessageId === p.entry.journalId)) kept.push(p);
      // Sealed by a worker's journal fill: delivered as this claim, so it is kept (its SQS copy is a duplicate).
      else if (!p.owed && (await release(ctx, p.seq)) === 'sealed') kept.push(p);
      else again.push(p.entry);
    }
  }
  const ready: Placed[] = [];
  for (const p of kept) {
    if (!p.owed) {
      ready.push(p);
      continue;
    }
    const [outcome] = await insertHeaders(ctx, [headerItem(p.entry, p.seq, ctx.claimId, ctx.now())]);
    if (outcome === 'unknown') throw new Error(`source ${ctx.sourceId}: seq ${p.seq} this producer owes still cannot be written; nothing above it is sent`);
    if (outcome === 'won' || (await claimsIn(ctx, p.seq, p.seq)).has(p.seq)) ready.push({ seq: p.seq, entry: p.entry });
    else again.push(p.entry);
  }
  return { ready, again };
}
