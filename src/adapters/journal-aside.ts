
/**
 * A message kept out of the source's order: a head that can never be delivered or journaled
 * (a producer seq that went backwards), saved before SQS retention would delete it. Its sort key
 * (`aside#<messageId>`, written by DynamoAsideStore in aside-store.ts, the one aside adapter) sorts apart from the journal (`j#`), so replay, cleanup and the journal
 * count never see it; `fifo-relay status <id>` and an operator do.
 */
export interface AutoAsideEntry {
  sourceId: string;
  messageId: string;
  /** Why it is aside, e.g. 'seq-regression'. */
  reason: string;
  detail: string;
  body: string;
  contentType: string;
  seqText: string;
  sqsSeq: bigint;
  queueId: string;
  sentAt: number;
  firstSeenAt: number;
  asideAt: number;
}

export interface AutoAsidePort {
  /** Put-if-absent on the message id: 'exists' when another holder saved it first. */
  putAside(e: AutoAsideEntry): Promise<'written' | 'exists'>;
}
