import { BatchGetItemCommand, QueryCommand, type BatchGetItemCommandOutput, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  countByCondition,
  summarize,
  worstFirst,
  type ConditionCounts,
  type FailingHead,
  type SourceRecord,
  type SourceState,
  type SourceSummary,
  type StuckThresholds,
} from '../core/source-condition';
import { ASIDE_PREFIX } from './aside-store';
import { STUCK_INDEX } from './progress-ledger';
import { STATE_INDEX } from './source-control';
import { AUDIT_PREFIX, JOURNAL_PREFIX, journalSk, LEDGER_SK, parseSqsSeqText, PK, SEQLESS_RANGE, SK } from './table-keys';

export const LISTED_STATES = ['parked', 'replaying', 'closing'] as const;

type Item = Record<string, AttributeValue>;

const num = (v: AttributeValue | undefined): number | undefined => (v?.N === undefined ? undefined : Number(v.N));
const str = (v: AttributeValue | undefined): string | undefined => v?.S;

function stateOf(item: Item): SourceState {
  const s = item.state?.S;
  return s === 'parked' || s === 'replaying' || s === 'closing' ? s : 'active';
}

/** A ledger item as the operator's read model sees it; unknown or missing attributes are left out. */
export function recordOf(item: Item): SourceRecord {
  const r: SourceRecord = { sourceId: str(item[PK]) ?? '', state: stateOf(item) };
  const set = <K extends keyof SourceRecord>(k: K, v: SourceRecord[K] | undefined) => {
    if (v !== undefined) r[k] = v;
  };
  set('stateSince', num(item.stateSince));
  set('stateReason', str(item.stateReason));
  set('stateActor', str(item.stateActor));
  set('producerSeq', item.producerSeq?.N);
  set('sqsSeq', parseSqsSeqText(str(item.sqsSeq))?.toString());
  set('updatedAt', num(item.updatedAt));
  set('lastMessageId', str(item.lastMessageId));
  set('journalCount', num(item.journalCount));
  if (item.gapSeq?.N !== undefined) r.gap = { seq: item.gapSeq.N, since: num(item.gapSince) ?? 0 };
  if (item.stuck?.S !== undefined || item.stuckSince?.N !== undefined) {
    const head: FailingHead = {
      seq: str(item.headSeq) ?? '',
      messageId: str(item.headMessageId) ?? '',
      attempt: num(item.attempt) ?? 0,
      since: num(item.stuckSince) ?? 0,
      failedAt: num(item.failedAt) ?? 0,
      nextAttemptAt: num(item.nextAttemptAt) ?? 0,
      lastError: str(item.lastError) ?? '',
    };
    const lastStatus = num(item.lastStatus);
    const sentAt = num(item.headSentAt);
    const deadline = num(item.retentionDeadlineAt);
    if (lastStatus !== undefined) head.lastStatus = lastStatus;
    if (sentAt !== undefined) head.sentAt = sentAt;
    if (deadline !== undefined) head.retentionDeadlineAt = deadline;
    const journaledAt = num(item.headJournaledAt);
    if (journaledAt !== undefined) head.journaledAt = journaledAt;
    const asideAt = num(item.headAsideAt);
    if (asideAt !== undefined) head.asideAt = asideAt;
    if (item.heldBy?.S !== undefined) head.heldBy = item.heldBy.S;
    r.head = head;
  }
  return r;
}

export interface SourceList {
  sources: SourceSummary[];
  counts: ConditionCounts;
  /** True when an index held more than the limit: counts are then lower bounds. */
  truncated: boolean;
}

export interface JournalSummary {
  entries: number;
  firstSeq?: string;
  lastSeq?: string;
  oldestJournaledAt?: number;
}

export interface AuditRecord {
  at: number;
  action: string;
  actor: string;
  reason: string;
  details?: string;
}

/** Messages put aside for the source (`aside#<messageId>` items): kept for an operator, never delivered. */
export interface AsideSummary {
  count: number;
  messageIds: string[];
}

export interface SourceStory {
  source: SourceSummary;
  journal: JournalSummary;
  audit: AuditRecord[];
  /** Absent when nobody looked. */
  aside?: AsideSummary;
}

/** The header of a journal entry; its chunks (`j#<seq>#c000`) are parts of it, not entries. */
const isJournalHeader = (sk: string) => sk.startsWith(JOURNAL_PREFIX) && !sk.includes('#', JOURNAL_PREFIX.length);

// Everything a story needs, and never a journal body: a source's journal can be large.
const STORY_ATTRIBUTES = [
  PK, SK, 'state', 'stateSince', 'stateReason', 'stateActor', 'producerSeq', 'sqsSeq', 'updatedAt', 'lastMessageId', 'journalCount',
  'stuck', 'stuckSince', 'lastError', 'attempt', 'headMessageId', 'headSeq', 'failedAt', 'nextAttemptAt', 'lastStatus', 'headSentAt',
  'retentionDeadlineAt', 'headJournaledAt', 'headAsideAt', 'heldBy', 'seq', 'journaledAt', 'action', 'actor', 'reason', 'at', 'details', 'gapSeq', 'gapSince',
];

/**
 * The operators' read model over the progress table: the cross-task list from the two sparse
 * indexes (its cost grows with troubled sources, not all sources), and one source's whole story
 * with one Query on its partition.
 */
export class SourceStatusReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async list(thresholds: StuckThresholds, now: number, limit = 1000): Promise<SourceList> {
    const [failing, ...states] = await Promise.all([
      this.queryIndex(STUCK_INDEX, 'stuck', '1', limit),
      ...LISTED_STATES.map((s) => this.queryIndex(STATE_INDEX, 'listState', s, limit)),
    ]);
    const bySource = new Map<string, SourceRecord>();
    for (const page of [failing, ...states]) {
      for (const item of page.items) {
        const r = recordOf(item);
        // Both indexes lag the table; a state seen in the state index wins over a copy without it.
        const seen = bySource.get(r.sourceId);
        if (!seen || seen.state === 'active') bySource.set(r.sourceId, r);
      }
    }
    await this.markJournaledHeads([...bySource.values()]);
    const sources = [...bySource.values()].map((r) => summarize(r, thresholds, now)).sort(worstFirst);
    return { sources, counts: countByCondition(sources), truncated: [failing, ...states].some((p) => p.truncated) };
  }

  /** Undefined when the table holds nothing for this source. */
  async describe(sourceId: string, thresholds: StuckThresholds, now: number): Promise<SourceStory | undefined> {
    const names: Record<string, string> = {};
    STORY_ATTRIBUTES.forEach((n, i) => (names[`#a${i}`] = n));
    let ledger: Item | undefined;
    const journal: JournalSummary = { entries: 0 };
    const audit: AuditRecord[] = [];
    const aside: AsideSummary = { count: 0, messageIds: [] };
    let found = false;
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#a0 = :pk',
          ExpressionAttributeValues: { ':pk': { S: sourceId } },
          ExpressionAttributeNames: names,
          ProjectionExpression: Object.keys(names).join(', '),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        found = true;
        const sk = item[SK]?.S ?? '';
        if (sk === LEDGER_SK) ledger = item;
        else if (isJournalHeader(sk)) {
          journal.entries++;
          const seq = item.seq?.S ?? sk.slice(JOURNAL_PREFIX.length).replace(/^0+(?=\d)/, '');
          journal.firstSeq ??= seq;
          journal.lastSeq = seq;
          const at = num(item.journaledAt);
          if (at !== undefined) journal.oldestJournaledAt = Math.min(journal.oldestJournaledAt ?? at, at);
        } else if (sk.startsWith(ASIDE_PREFIX)) {
          aside.count++;
          aside.messageIds.push(sk.slice(ASIDE_PREFIX.length));
        } else if (sk.startsWith(AUDIT_PREFIX)) {
          audit.push({
            at: num(item.at) ?? Date.parse(sk.slice(AUDIT_PREFIX.length, AUDIT_PREFIX.length + 24)),
            action: str(item.action) ?? '',
            actor: str(item.actor) ?? '',
            reason: str(item.reason) ?? '',
            ...(item.details?.S === undefined ? {} : { details: item.details.S }),
          });
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    if (!found) return undefined;
    const record: SourceRecord = ledger ? recordOf(ledger) : { sourceId, state: 'active' };
    await this.markJournaledHeads([record]);
    return { source: summarize(record, thresholds, now), journal, audit, aside };
  }

  /**
   * Sets headJournaled on every source that is not active and has a failing head: true only when
   * the journal holds the head's seq with the head's message id. One BatchGetItem per 100 such
   * sources, keys only; an active source's head is never journaled, so it costs nothing.
   */
  private async markJournaledHeads(records: SourceRecord[]): Promise<void> {
    const asked = new Map<string, SourceRecord>();
    for (const r of records) {
      if (r.state === 'active' || !r.head) continue;
      // The lane recorded that it journaled this very head (cleared by the head's next failure).
      r.headJournaled = r.head.journaledAt !== undefined;
      // An invalid head has no seq: it is never journaled.
      if (!r.headJournaled && /^\d+$/.test(r.head.seq)) asked.set(r.sourceId, r);
    }
    const pending = [...asked.values()];
    for (let i = 0; i < pending.length; i += 100) {
      let keys: Item[] | undefined = pending.slice(i, i + 100).map((r) => ({ [PK]: { S: r.sourceId }, [SK]: { S: journalSk(BigInt(r.head?.seq ?? '0')) } }));
      for (let round = 0; keys && keys.length > 0 && round < 5; round++) {
        const out: BatchGetItemCommandOutput = await this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: '#pk, messageId', ExpressionAttributeNames: { '#pk': PK } } } }),
        );
        for (const item of out.Responses?.[this.table] ?? []) {
          const r = asked.get(item[PK]?.S ?? '');
          if (r?.head && item.messageId?.S === r.head.messageId) r.headJournaled = true;
        }
        keys = out.UnprocessedKeys?.[this.table]?.Keys;
      }
      // Keys still unprocessed stay "not journaled": the page errs on the side of showing time left.
    }
    // A seq-less head sits at its receive key, which the failure record does not hold: one
    // filtered Query of the seq-less range for each head not found by its producer-seq key.
    for (const r of pending) if (!r.headJournaled && r.head) r.headJournaled = await this.seqlessHeadJournaled(r.sourceId, r.head.messageId);
  }

  private async seqlessHeadJournaled(sourceId: string, messageId: string): Promise<boolean> {
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
          FilterExpression: 'messageId = :m',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: sourceId }, ':lo': { S: SEQLESS_RANGE.lo }, ':hi': { S: SEQLESS_RANGE.hi }, ':m': { S: messageId } },
          ProjectionExpression: '#pk',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      if ((page.Items ?? []).length > 0) return true;
      start = page.LastEvaluatedKey;
    } while (start);
    return false;
  }

  private async queryIndex(index: string, keyName: string, keyValue: string, limit: number): Promise<{ items: Item[]; truncated: boolean }> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: index,
          KeyConditionExpression: '#k = :v',
          ExpressionAttributeNames: { '#k': keyName },
          ExpressionAttributeValues: { ':v': { S: keyValue } },
          Limit: Math.min(limit - items.length + 1, 1000),
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start && items.length <= limit);
    return { items: items.slice(0, limit), truncated: items.length > limit };
  }
}
