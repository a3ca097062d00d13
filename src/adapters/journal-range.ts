import { ConditionalCheckFailedException, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { entryOfItem, headerSkOf, type JournalEntry, type JournalPort } from './journal';
import { journalSk, PK, SK } from './table-keys';

/** A contiguous source's missing seqs, read straight from their keys. */
export interface JournalRangePort {
  /** Producer-seq entries from … to (inclusive), in seq order, at most limit, with their bodies. */
  producerRange(sourceId: string, from: bigint, to: bigint, limit: number): Promise<JournalEntry[]>;
  /**
   * Fences a journal-first claim before it is delivered from the journal: the producer rewrites or
   * releases its own claim only while it is not sealed, so what this returns (the entry as it now
   * stands, with its body) is what the seq holds for good. Undefined: the entry is gone.
   */
  seal(entry: JournalEntry, nowMs: number): Promise<JournalEntry | undefined>;
}

/** A claim the producer may still rewrite: journal-first, not yet numbered by SQS. */
export const isRewritableClaim = (e: JournalEntry): boolean => e.seq.kind === 'producer' && e.seq.queueId === '';

/**
 * One consistent Query of exactly the keys j#<from> … j#<to>: producer-seq keys sort in seq order,
 * so the cost is the entries found (at most limit), not the journal below the position.
 */
export class DynamoJournalRange implements JournalRangePort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly journal: Pick<JournalPort, 'load'>,
  ) {}

  async seal(entry: JournalEntry, nowMs: number): Promise<JournalEntry | undefined> {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { [PK]: { S: entry.sourceId }, [SK]: { S: headerSkOf(entry) } },
          UpdateExpression: 'SET sealedAt = if_not_exists(sealedAt, :now)',
          ConditionExpression: 'attribute_exists(#sk)',
          ExpressionAttributeNames: { '#sk': SK },
          ExpressionAttributeValues: { ':now': { N: String(nowMs) } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const sealed = out.Attributes && entryOfItem(out.Attributes);
      return sealed === undefined ? undefined : this.journal.load(sealed);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async producerRange(sourceId: string, from: bigint, to: bigint, limit: number): Promise<JournalEntry[]> {
    if (to < from || limit <= 0) return [];
    const out: JournalEntry[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: sourceId }, ':lo': { S: journalSk(from) }, ':hi': { S: journalSk(to) } },
          ConsistentRead: true,
          Limit: limit - out.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const e = entryOfItem(item);
        if (e !== undefined && e.seq.kind === 'producer' && e.skippedAt === undefined) out.push(await this.journal.load(e));
      }
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }
}
