import { GetItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { DynamoJournal, entryOfItem, sha256 } from '../adapters/journal';
import type { SourceStory } from '../adapters/source-status';
import { journalSk, PK, SEQLESS_RANGE, SK } from '../adapters/table-keys';

/** A journal entry as `show` prints it (docs/table-layout.md): metadata always, the body only when asked. */
export interface ShownEntry {
  seq: string;
  kind: string;
  messageId: string;
  contentType: string;
  bytes: number;
  bodySha256: string;
  sentAt?: number;
  firstSeenAt?: number;
  journaledAt?: number;
  skippedAt?: number;
  skippedBy?: string;
  chunks: number;
  body?: string;
}

const num = (v: AttributeValue | undefined) => (v?.N === undefined ? undefined : Number(v.N));
type Item = Record<string, AttributeValue>;

/** The header of the entry whose seq is seq: a producer-seq key first, else the seq-less range filtered on seq. */
async function findHeader(client: DynamoDBClient, table: string, sourceId: string, seq: bigint): Promise<Item | undefined> {
  const byKey = await client.send(new GetItemCommand({ TableName: table, Key: { [PK]: { S: sourceId }, [SK]: { S: journalSk(seq) } }, ConsistentRead: true }));
  if (byKey.Item && entryOfItem(byKey.Item)) return byKey.Item;
  let start: Item | undefined;
  do {
    const page: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
        FilterExpression: '#seq = :seq',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#seq': 'seq' },
        ExpressionAttributeValues: { ':pk': { S: sourceId }, ':lo': { S: SEQLESS_RANGE.lo }, ':hi': { S: SEQLESS_RANGE.hi }, ':seq': { S: seq.toString() } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    const hit = (page.Items ?? []).find((i) => entryOfItem(i) !== undefined);
    if (hit) return hit;
    start = page.LastEvaluatedKey;
  } while (start);
  return undefined;
}

/**
 * Reads one journal entry through the journal's own layout (docs/table-layout.md). The body is
 * put together and checked against the header's bodySha256 only when it is asked for.
 */
export async function readJournalEntry(client: DynamoDBClient, table: string, sourceId: string, seq: bigint, withBody: boolean): Promise<ShownEntry | undefined> {
  const header = await findHeader(client, table, sourceId, seq);
  const entry = header && entryOfItem(header);
  if (!header || !entry) return undefined;
  const chunks = entry.chunks ?? 1;
  let body: string | undefined;
  if (withBody) {
    body = (await new DynamoJournal(client, table).load(entry).catch((err: Error) => {
      throw new Error(`journal entry ${sourceId} seq ${seq}: its body does not match the header's bodySha256 (chunks missing or foreign): ${err.message}`);
    })).body;
    if (sha256(body) !== entry.bodySha256) throw new Error(`journal entry ${sourceId} seq ${seq}: its body does not match the header's bodySha256 (chunks missing or foreign)`);
  }
  const e: ShownEntry = {
    seq: entry.seq.text || seq.toString(),
    kind: entry.seq.kind,
    messageId: entry.messageId,
    contentType: entry.contentType,
    bytes: body !== undefined ? Buffer.byteLength(body, 'utf8') : Buffer.byteLength(entry.body, 'utf8'),
    bodySha256: entry.bodySha256,
    chunks,
  };
  const set = <K extends keyof ShownEntry>(k: K, v: ShownEntry[K] | undefined) => {
    if (v !== undefined) e[k] = v;
  };
  set('sentAt', num(header.sentAt));
  set('firstSeenAt', num(header.firstSeenAt));
  set('journaledAt', num(header.journaledAt));
  set('skippedAt', num(header.skippedAt));
  set('skippedBy', header.skippedBy?.S);
  set('body', body);
  return e;
}

const iso = (ms: number | undefined) => (ms === undefined || ms === 0 ? '-' : new Date(ms).toISOString());

export function entryLines(sourceId: string, e: ShownEntry): string[] {
  return [
    `source        ${sourceId}`,
    `journal seq   ${e.seq} (${e.kind === 'sqs' ? 'SQS SequenceNumber' : 'producer seq'})`,
    `message       ${e.messageId}`,
    `content type  ${e.contentType}`,
    `body          ${e.chunks > 1 ? `${e.chunks} chunks` : e.body !== undefined || e.bytes > 0 ? `${e.bytes} bytes` : 'in the header'}, sha256 ${e.bodySha256}`,
    `sent          ${iso(e.sentAt)}`,
    `first seen    ${iso(e.firstSeenAt)}`,
    `journaled     ${iso(e.journaledAt)}`,
    ...(e.skippedAt !== undefined ? [`skipped       ${iso(e.skippedAt)} by ${e.skippedBy ?? '?'}`] : []),
  ];
}

export function headLines(story: SourceStory, now: number): string[] {
  const s = story.source;
  const h = s.head;
  if (!h) return [];
  const left = h.retentionDeadlineAt === undefined ? 'unknown' : h.retentionDeadlineAt - now > 0 ? `${iso(h.retentionDeadlineAt)} (SQS deletes it then)` : `past (${iso(h.retentionDeadlineAt)})`;
  return [
    `source        ${s.sourceId}`,
    `state         ${s.state}${s.condition !== s.state ? `, ${s.condition}` : ''}`,
    `failing head  seq ${h.seq || '(none: invalid message)'}, message ${h.messageId}`,
    `attempts      ${h.attempt}`,
    `first failure ${iso(h.since)}`,
    `last failure  ${iso(h.failedAt)}`,
    `next attempt  ${iso(h.nextAttemptAt)}`,
    `last error    ${h.lastError.replace(/\s+/g, ' ').slice(0, 300)}`,
    `last HTTP     ${h.lastStatus ?? '- (timeout, network error or invalid message)'}`,
    `held by       ${h.heldBy ?? 'unknown'}`,
    `sent          ${iso(h.sentAt)}`,
    `retention     ${s.headJournaled ? 'journaled: SQS retention no longer applies' : left}`,
  ];
}

/** Bytes a terminal would act on (escape sequences), shown as \u escapes instead; a pipe or file gets the body as it is. */
export function forTerminal(body: string): string {
  // eslint-disable-next-line no-control-regex
  return body.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
