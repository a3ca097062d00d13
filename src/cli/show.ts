import { createHash } from 'node:crypto';
import { QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import type { SourceStory } from '../adapters/source-status';
import { journalSk, PK, SK } from '../adapters/table-keys';

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

/**
 * Reads one journal entry, its header and chunks with one Query on the entry's key prefix. The
 * body is put together and checked against the header's bodySha256 only when it is asked for.
 */
export async function readJournalEntry(client: DynamoDBClient, table: string, sourceId: string, seq: bigint, withBody: boolean): Promise<ShownEntry | undefined> {
  const key = journalSk(seq);
  const items: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :k)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': { S: sourceId }, ':k': { S: key } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    // Only this entry's own items: `j#…0012` must not pick up `j#…00120`.
    for (const i of page.Items ?? []) if (i[SK]?.S === key || i[SK]?.S?.startsWith(`${key}#c`)) items.push(i);
    start = withBody ? page.LastEvaluatedKey : undefined;
  } while (start);
  const header = items.find((i) => i[SK]?.S === key);
  if (!header) return undefined;
  const chunks = num(header.chunks) ?? 1;
  let body: string | undefined;
  if (withBody) {
    body = chunks > 1 ? items.filter((i) => i[SK]?.S !== key).sort((a, b) => ((a[SK]?.S ?? '') < (b[SK]?.S ?? '') ? -1 : 1)).map((i) => i.data?.S ?? '').join('') : (header.body?.S ?? '');
    const sha = createHash('sha256').update(body, 'utf8').digest('hex');
    if (sha !== header.bodySha256?.S) throw new Error(`journal entry ${sourceId} seq ${seq}: its body does not match the header's bodySha256 (chunks missing or foreign)`);
  }
  const e: ShownEntry = {
    seq: header.seq?.S ?? seq.toString(),
    kind: header.seqKind?.S ?? 'producer',
    messageId: header.messageId?.S ?? '',
    contentType: header.contentType?.S ?? 'application/json',
    bytes: body !== undefined ? Buffer.byteLength(body, 'utf8') : Buffer.byteLength(header.body?.S ?? '', 'utf8'),
    bodySha256: header.bodySha256?.S ?? '',
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
