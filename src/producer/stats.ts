/** What a producer did, for the cost table and the multi-producer figures (docs/producer.md). */
export interface ProducerStats {
  messages: number;
  claimRounds: number;
  /** Claim statements that met an entry another producer had already written. */
  conflicts: number;
  /** Claims found to be at or below the ledger position (a stale cache), deleted again. */
  released: number;
  /** Own claims rewritten so that one call's messages keep their order after a partial conflict. */
  rewrites: number;
  /** Messages of one call that landed after a later one because a rewrite came too late. */
  reordered: number;
  headReads: number;
  dynamoReads: number;
  /** Write calls (PutItem, UpdateItem, DeleteItem, BatchExecuteStatement). */
  dynamoWrites: number;
  /** Items written by those calls (journal headers, chunks, rewrites, the contiguous flag). */
  itemsWritten: number;
  sqsCalls: number;
}

export function emptyStats(): ProducerStats {
  return { messages: 0, claimRounds: 0, conflicts: 0, released: 0, rewrites: 0, reordered: 0, headReads: 0, dynamoReads: 0, dynamoWrites: 0, itemsWritten: 0, sqsCalls: 0 };
}
