import { ConditionalCheckFailedException, GetItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JOURNAL_PREFIX, ledgerKey, PK, SK } from '../adapters/table-keys';
import type { ProducerStats } from './stats';
import { ProducerInputError } from './validate';

/** Where a source's next claim starts, from one consistent look at its journal and ledger. */
export interface SourceHead {
  next: bigint;
  contiguous: boolean;
}

/** The ledger's producer position, or a refusal when the source is delivered by SQS SequenceNumber. */
export async function ledgerProducerSeq(client: DynamoDBClient, table: string, sourceId: string, stats: ProducerStats): Promise<{ producerSeq: bigint; contiguous: boolean; lastMessageId: string | undefined }> {
  stats.dynamoReads++;
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: ledgerKey(sourceId), ConsistentRead: true, ProjectionExpression: 'producerSeq, sqsSeq, contiguous, lastMessageId' }),
  );
  const item = out.Item;
  if (item?.sqsSeq !== undefined && item.producerSeq === undefined) throw seqless(sourceId);
  return { producerSeq: item?.producerSeq?.N === undefined ? 0n : BigInt(item.producerSeq.N), contiguous: item?.contiguous?.BOOL === true, lastMessageId: item?.lastMessageId?.S };
}

const seqless = (sourceId: string) =>
  new ProducerInputError(`source ${sourceId} is already delivered by plain messages without a seq: the producer cannot take it over (use a new source id)`);

/**
 * Highest journal header of the source: its seq, or undefined when the journal is empty. Chunk
 * items sit outside the `j#` range (`jc#…`), so the first key of a descending Query is the top;
 * keys only, so the read costs the same whatever the bodies' size.
 */
async function journalTop(client: DynamoDBClient, table: string, sourceId: string, stats: ProducerStats): Promise<bigint | undefined> {
  stats.dynamoReads++;
  const page = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': { S: sourceId }, ':lo': { S: JOURNAL_PREFIX }, ':hi': { S: `${JOURNAL_PREFIX}~` } },
      ProjectionExpression: '#pk, #sk',
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: 1,
    }),
  );
  const sk = page.Items?.[0]?.[SK]?.S;
  if (sk === undefined) return undefined;
  const digits = sk.slice(JOURNAL_PREFIX.length);
  // Producer-seq keys are 40 digits; a worker's seq-less entries (`j#q…`) sort above them.
  if (!/^\d+$/.test(digits)) throw seqless(sourceId);
  return BigInt(digits);
}

/**
 * The journal first, then the ledger: an entry is deleted only once the ledger covers it, so an
 * entry gone between the two reads is still counted by the ledger read that follows.
 */
export async function readHead(client: DynamoDBClient, table: string, sourceId: string, stats: ProducerStats): Promise<SourceHead> {
  const top = await journalTop(client, table, sourceId, stats);
  const { producerSeq, contiguous } = await ledgerProducerSeq(client, table, sourceId, stats);
  const base = top !== undefined && top > producerSeq ? top : producerSeq;
  return { next: base + 1n, contiguous };
}

/**
 * Declares the source contiguous on its ledger item (created if missing), refused for a source
 * already delivered by SequenceNumber alone. The flag only ever goes on: no writer removes it.
 */
export async function markContiguous(client: DynamoDBClient, table: string, sourceId: string, stats: ProducerStats): Promise<void> {
  stats.dynamoWrites++;
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: ledgerKey(sourceId),
        UpdateExpression: 'SET contiguous = :t',
        ConditionExpression: 'attribute_not_exists(sqsSeq) OR attribute_exists(producerSeq)',
        ExpressionAttributeValues: { ':t': { BOOL: true } },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw seqless(sourceId);
    throw err;
  }
}
