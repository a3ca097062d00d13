import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { isJournalEntryCovered, type LedgerPosition } from '../core/ledger-position';
import {
  compareReceiveOrder,
  entryOfItem,
  chunkKeyOf,
  entrySk,
  headerItem,
  headerSkOf,
  JournalConflictError,
  sha256,
  splitBody,
  type JournalEntry,
  type JournalPort,
  type JournalReader,
} from './journal';
import { chunkSk, JOURNAL_PREFIX, PK, PRODUCER_RANGE, SEQLESS_RANGE, SK } from './table-keys';

type Item = Record<string, AttributeValue>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts the reader's queries, so a range that ran out knows whether another range has read since. */
interface ReadClock {
  tick: number;
  /** The tick of the latest query that returned items. */
  lastItemsAt: number;
}

/** One key range of the journal, read forward a page at a time from where the last page ended. */
class RangeStream {
  private buffer: JournalEntry[] = [];
  private start: Item | undefined;
  /** The key of the last item read: a range that ran out is read again from here. */
  private lastKey: Item | undefined;
  private done = false;
  private queriedAt = -1;
  itemsRead = 0;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly sourceId: string,
    private readonly range: { lo: string; hi: string },
    private readonly pageSize: number,
    private readonly clock: ReadClock,
    private readonly accept: (item: Item) => JournalEntry | undefined,
  ) {}

  /**
   * A range that ran out is read again once another range has read items after it: an entry
   * appended here before those items were written (rule 4 appends while replay runs) was received
   * before them, and must come out first.
   */
  async head(): Promise<JournalEntry | undefined> {
    if (this.buffer.length === 0 && this.done && this.clock.lastItemsAt > this.queriedAt) {
      this.done = false;
      this.start = this.lastKey;
    }
    while (this.buffer.length === 0 && !this.done) {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: this.sourceId }, ':lo': { S: this.range.lo }, ':hi': { S: this.range.hi } },
          ConsistentRead: true,
          Limit: this.pageSize,
          ExclusiveStartKey: this.start,
        }),
      );
      this.queriedAt = ++this.clock.tick;
      const items = page.Items ?? [];
      this.itemsRead += items.length;
      if (items.length > 0) {
        this.clock.lastItemsAt = this.queriedAt;
        const last = items[items.length - 1] as Item;
        this.lastKey = { [PK]: last[PK] as AttributeValue, [SK]: last[SK] as AttributeValue };
      }
      this.buffer = items.flatMap((i) => this.accept(i) ?? []);
      this.start = page.LastEvaluatedKey;
      if (!this.start) this.done = true;
    }
    return this.buffer[0];
  }

  take(): void {
    this.buffer.shift();
  }
}

/**
 * Merges the producer-seq range and the seq-less range by receive key. Each range is in order by
 * itself, so one pass over both, a page at a time, yields the whole journal in receive order.
 */
class MergedReader implements JournalReader {
  private readonly streams: RangeStream[];
  private readonly clock: ReadClock = { tick: 0, lastItemsAt: -1 };
  passedBy: { count: number; firstSk: string } | undefined;

  constructor(client: DynamoDBClient, table: string, sourceId: string, pageSize: number) {
    // An item of an earlier layout is passed by, never a reason for the reader to fail (docs/table-layout.md).
    const accept = (item: Item): JournalEntry | undefined => {
      const e = entryOfItem(item);
      if (e === undefined) {
        this.passedBy ??= { count: 0, firstSk: item[SK]?.S ?? '' };
        this.passedBy.count++;
      }
      return e;
    };
    this.streams = [PRODUCER_RANGE, SEQLESS_RANGE].map((r) => new RangeStream(client, table, sourceId, r, pageSize, this.clock, accept));
  }

  get itemsRead(): number {
    return this.streams.reduce((n, s) => n + s.itemsRead, 0);
  }

  async next(): Promise<JournalEntry | undefined> {
    // Heads are settled only once a look at every range read no new items: a range read after
    // another may make a range that ran out worth reading again.
    for (;;) {
      const seen = this.clock.lastItemsAt;
      let best: { stream: RangeStream; entry: JournalEntry } | undefined;
      for (const stream of this.streams) {
        const entry = await stream.head();
        if (entry && (!best || compareReceiveOrder(entry, best.entry) < 0)) best = { stream, entry };
      }
      if (this.clock.lastItemsAt !== seen) continue;
      best?.stream.take();
      return best?.entry;
    }
  }
}

export class DynamoJournal implements JournalPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async put(e: JournalEntry): Promise<'written' | 'exists'> {
    const sk = entrySk(e.seq);
    const parts = splitBody(e.body);
    if (parts.length > 1) {
      // Chunks first, each put-if-absent for this body: a header only ever names chunks of its own body.
      const existing = await this.header(e.sourceId, sk);
      if (existing) return this.compare(existing, e);
      for (const [i, data] of parts.entries()) {
        const ok = await this.putIfAbsent(
          { [PK]: { S: e.sourceId }, [SK]: { S: chunkSk(sk, i) }, data: { S: data }, bodySha256: { S: e.bodySha256 } },
          'attribute_not_exists(#sk) OR bodySha256 = :sha',
          { ':sha': { S: e.bodySha256 } },
        );
        if (!ok) throw new JournalConflictError(`journal chunk ${i} of ${e.sourceId} seq ${e.seq.text} belongs to a different body`);
      }
    }
    if (await this.putIfAbsent(headerItem(e, parts.length), 'attribute_not_exists(#sk)', {})) return 'written';
    const existing = await this.header(e.sourceId, sk);
    if (!existing) throw new Error(`journal entry ${e.sourceId} seq ${e.seq.text} both exists and does not`);
    return this.compare(existing, e);
  }

  reader(sourceId: string, pageSize: number): JournalReader {
    return new MergedReader(this.client, this.table, sourceId, pageSize);
  }

  async load(e: JournalEntry): Promise<JournalEntry> {
    // A chunked body is over 350,000 bytes, so an empty body means it has not been read yet.
    if (e.chunks === undefined || e.body !== '') return e;
    const parts: string[] = [];
    for (let i = 0; i < e.chunks; i++) {
      const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: e.sourceId }, [SK]: { S: chunkKeyOf(e, i) } }, ConsistentRead: true }));
      parts.push(out.Item?.data?.S ?? '');
    }
    const body = parts.join('');
    if (sha256(body) !== e.bodySha256) throw new Error(`journal entry ${e.sourceId} seq ${e.seq.text}: chunks do not match the header's bodySha256`);
    return { ...e, body };
  }

  async above(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]> {
    // The whole journal in receive order: an entry is judged only by a position of its own kind
    // and queue incarnation, never stranded below a bound that does not apply to it.
    const out: JournalEntry[] = [];
    const r = this.reader(sourceId, 100);
    for (let e = await r.next(); e && out.length < limit; e = await r.next()) {
      if (e.skippedAt === undefined && !isJournalEntryCovered(e.seq, position)) out.push(await this.load(e));
    }
    return out;
  }

  async covered(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]> {
    if (position === undefined) return [];
    const out: JournalEntry[] = [];
    const r = this.reader(sourceId, 100);
    for (let e = await r.next(); e && out.length < limit; e = await r.next()) if (isJournalEntryCovered(e.seq, position)) out.push(e);
    return out;
  }

  async hasUncoveredSeqless(sourceId: string, position: LedgerPosition | undefined): Promise<boolean> {
    const range = new RangeStream(this.client, this.table, sourceId, SEQLESS_RANGE, 100, { tick: 0, lastItemsAt: -1 }, entryOfItem);
    for (let e = await range.head(); e; range.take(), e = await range.head()) {
      if (e.skippedAt === undefined && !isJournalEntryCovered(e.seq, position)) return true;
    }
    return false;
  }

  async remove(e: JournalEntry): Promise<void> {
    await this.removeMany([e]);
  }

  async removeMany(entries: readonly JournalEntry[]): Promise<void> {
    // Headers first: an entry without its header does not exist, so a half-done removal leaves only dead chunks.
    const key = (e: JournalEntry, sk: string): WriteRequest => ({ DeleteRequest: { Key: { [PK]: { S: e.sourceId }, [SK]: { S: sk } } } });
    await this.batchWrite(entries.map((e) => key(e, headerSkOf(e))));
    await this.batchWrite(entries.flatMap((e) => Array.from({ length: e.chunks ?? 0 }, (_, i) => key(e, chunkKeyOf(e, i)))));
  }

  async markSkipped(e: JournalEntry, nowMs: number, actor: string, step: 'pending' | 'done'): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { [PK]: { S: e.sourceId }, [SK]: { S: headerSkOf(e) } },
        UpdateExpression: step === 'pending' ? 'SET skipPendingAt = :at, skippedBy = :by' : 'SET skippedAt = :at, skippedBy = :by',
        ConditionExpression: 'attribute_exists(#sk)',
        ExpressionAttributeNames: { '#sk': SK },
        ExpressionAttributeValues: { ':at': { N: String(nowMs) }, ':by': { S: actor } },
      }),
    );
  }

  async unmarkSkipped(e: JournalEntry): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { [PK]: { S: e.sourceId }, [SK]: { S: headerSkOf(e) } },
        UpdateExpression: 'REMOVE skipPendingAt, skippedBy',
        ConditionExpression: 'attribute_exists(#sk)',
        ExpressionAttributeNames: { '#sk': SK },
      }),
    );
  }

  async count(sourceId: string): Promise<number> {
    let n = 0;
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :j)',
          FilterExpression: 'attribute_exists(messageId)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: sourceId }, ':j': { S: JOURNAL_PREFIX } },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      n += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return n;
  }

  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: WriteRequest[] | undefined = requests.slice(i, i + 25);
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round > 8) throw new Error(`BatchWriteItem left ${pending.length} journal delete(s) unprocessed after ${round} rounds`);
        if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
        const out: BatchWriteItemCommandOutput = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }));
        pending = out.UnprocessedItems?.[this.table];
      }
    }
  }

  private async header(sourceId: string, sk: string): Promise<Item | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: sourceId }, [SK]: { S: sk } }, ConsistentRead: true }));
    return out.Item;
  }

  private compare(existing: Item, e: JournalEntry): 'exists' {
    if (existing.bodySha256?.S !== e.bodySha256) {
      throw new JournalConflictError(
        `journal already holds a different message at ${e.sourceId} seq ${e.seq.text} (message ${existing.messageId?.S ?? '?'} vs ${e.messageId}): refusing to treat it as written`,
      );
    }
    return 'exists';
  }

  private async putIfAbsent(item: Item, condition: string, values: Item): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#sk': SK },
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
