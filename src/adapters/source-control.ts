import { FAILURE_ATTRIBUTE_NAMES } from './ledger-statements';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type QueryCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { LedgerPosition } from '../core/ledger-position';
import type { Sequence } from '../core/message';
import type { SourceControl, SourceState } from '../core/source-state';
import { LIST_STATE_ATTRIBUTE, STATE_INDEX, STATE_SINCE_ATTRIBUTE } from './table-indexes';
import { ledgerKey, parseSqsSeqText, PK, sqsSeqText } from './table-keys';

export { STATE_INDEX };

export type ControlWrite = { ok: true } | { ok: false; control: SourceControl };

export interface StateChange {
  actor: string;
  reason: string;
  nowMs: number;
  /** The controlVersion the caller read: the write fails if anyone acted since. */
  expectVersion: number;
}

/** The state fields of a source's ledger item: every write is one conditional UpdateItem. */
export interface ControlPort {
  read(sourceId: string): Promise<SourceControl>;
  /** One consistent BatchGetItem for all sources of a receive (rule 1). */
  readMany(sourceIds: string[]): Promise<Map<string, SourceControl>>;
  /** After a journal put: +1 journalVersion, only while parked or replaying (rule 4). */
  bumpJournal(sourceId: string): Promise<ControlWrite>;
  park(sourceId: string, c: StateChange): Promise<ControlWrite>;
  /** The holder of an aged head parks an active or closing source, only if nothing moved since it read it (rule 7). */
  autoPark(sourceId: string, c: StateChange & { position: LedgerPosition | undefined }): Promise<ControlWrite>;
  unpark(sourceId: string, c: StateChange): Promise<ControlWrite>;
  /** Gives up exactly the head: the position moves to seq, only if it still is what the caller read. */
  skip(sourceId: string, c: StateChange & { seq: Sequence; messageId: string; position: LedgerPosition | undefined }): Promise<ControlWrite>;
  acquireReplay(sourceId: string, r: { owner: string; nowMs: number; leaseMs: number; expectVersion: number }): Promise<ControlWrite>;
  toClosing(sourceId: string, r: { owner: string; nowMs: number; expectVersion: number; expectJournalVersion: number }): Promise<ControlWrite>;
  toActive(sourceId: string, r: { owner: string; expectVersion: number }): Promise<ControlWrite>;
  /** The failing head (headMessageId) is now in the journal: headJournaledAt, so views can say so truthfully. */
  markHeadJournaled?(sourceId: string, messageId: string, nowMs: number): Promise<void>;
  /** The failing head (headMessageId) was put aside (kept in the table, deleted from SQS): headAsideAt, so no view counts its retention. */
  markHeadAside?(sourceId: string, messageId: string, nowMs: number): Promise<void>;
  /** A failed replay attempt, for status: last error, head seq, attempts so far (cleared by every state change). */
  recordReplayFailure(sourceId: string, f: ReplayFailure): Promise<void>;
}

export interface ReplayFailure {
  error: string;
  /** The journal entry whose delivery failed; empty when the replay failed before a delivery. */
  seq: string;
  atMs: number;
  nextAttemptAtMs: number;
}

/** The replay-failure fields on the ledger item, removed by every state change. */
export const REPLAY_FAILURE_ATTRIBUTES = 'replayLastError, replayAttempts, replayFailedAt, replayNextAttemptAt, replayHeadSeq';

const STATES: ReadonlySet<string> = new Set(['parked', 'replaying', 'closing']);

export function controlOf(item: Record<string, AttributeValue> | undefined): SourceControl {
  if (!item) return { state: 'active', controlVersion: 0, journalVersion: 0, position: undefined, exists: false };
  const pos: LedgerPosition = {};
  if (item.producerSeq?.N !== undefined) pos.producerSeq = BigInt(item.producerSeq.N);
  const sqsSeq = parseSqsSeqText(item.sqsSeq?.S);
  if (sqsSeq !== undefined) pos.sqsSeq = sqsSeq;
  if (item.sqsQueueId?.S !== undefined) pos.sqsQueueId = item.sqsQueueId.S;
  const kind = item.sqsSeqKind?.S;
  if (kind === 'sqs' || kind === 'producer') pos.sqsSeqKind = kind;
  const raw = item.state?.S;
  const c: SourceControl = {
    state: raw !== undefined && STATES.has(raw) ? (raw as SourceState) : 'active',
    controlVersion: Number(item.controlVersion?.N ?? 0),
    journalVersion: Number(item.journalVersion?.N ?? 0),
    position: Object.keys(pos).length > 0 ? pos : undefined,
    exists: true,
  };
  const since = item[STATE_SINCE_ATTRIBUTE]?.N;
  if (since !== undefined) c.stateSince = Number(since);
  if (item.stateReason?.S !== undefined) c.stateReason = item.stateReason.S;
  if (item.stateActor?.S !== undefined) c.stateActor = item.stateActor.S;
  if (item.contiguous?.BOOL === true) c.contiguous = true;
  if (item.gapSeq?.N !== undefined) c.gap = { seq: BigInt(item.gapSeq.N), since: Number(item.gapSince?.N ?? 0) };
  return c;
}

const FAILURE_ATTRIBUTES = FAILURE_ATTRIBUTE_NAMES.join(', ');

/** Condition on the controlVersion read: a missing attribute counts as 0. */
export function versionIs(expect: number): string {
  return expect === 0 ? '(attribute_not_exists(controlVersion) OR controlVersion = :cv)' : 'controlVersion = :cv';
}

/** Condition that the position is still exactly what was read. */
function positionIs(pos: LedgerPosition | undefined, values: Record<string, AttributeValue>): string {
  const parts: string[] = [];
  if (pos?.producerSeq === undefined) parts.push('attribute_not_exists(producerSeq)');
  else {
    values[':pp'] = { N: pos.producerSeq.toString() };
    parts.push('producerSeq = :pp');
  }
  if (pos?.sqsSeq === undefined) parts.push('attribute_not_exists(sqsSeq)');
  else {
    values[':ps'] = { S: sqsSeqText(pos.sqsSeq) };
    parts.push('sqsSeq = :ps');
  }
  return parts.join(' AND ');
}

export class DynamoSourceControl implements ControlPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async read(sourceId: string): Promise<SourceControl> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: ledgerKey(sourceId), ConsistentRead: true }));
    return controlOf(out.Item);
  }

  async readMany(sourceIds: string[]): Promise<Map<string, SourceControl>> {
    const result = new Map<string, SourceControl>();
    const unique = [...new Set(sourceIds)];
    for (const id of unique) result.set(id, controlOf(undefined));
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Array<Record<string, AttributeValue>> | undefined = unique.slice(i, i + 100).map(ledgerKey);
      for (let round = 0; keys && keys.length > 0; round++) {
        if (round > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** round)));
        if (round > 8) throw new Error(`BatchGetItem left ${keys.length} key(s) unprocessed after ${round} rounds`);
        const out: BatchGetItemCommandOutput = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.table] ?? []) result.set(item[PK]?.S ?? '', controlOf(item));
        keys = out.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return result;
  }

  bumpJournal(sourceId: string): Promise<ControlWrite> {
    return this.update(sourceId, 'SET journalVersion = if_not_exists(journalVersion, :zero) + :one', '#st IN (:parked, :replaying)', {});
  }

  park(sourceId: string, c: StateChange): Promise<ControlWrite> {
    // Parking a replaying or closing source is allowed: the replayer's next conditional step fails
    // on the new version. A replay whose closing drain keeps failing must not leave the operator
    // without a way to stop it while the source's SQS messages age towards retention.
    return this.update(sourceId, this.enter('parked'), `attribute_exists(${PK}) AND (attribute_not_exists(#st) OR #st IN (:replaying, :closing)) AND ${versionIs(c.expectVersion)}`, this.changeValues(c));
  }

  autoPark(sourceId: string, c: StateChange & { position: LedgerPosition | undefined }): Promise<ControlWrite> {
    const values = this.changeValues(c);
    // The head's journal entry was put before this write: it counts as an append (rule 4).
    const set = this.enter('parked', ', journalVersion = if_not_exists(journalVersion, :zero) + :one');
    // From closing too: a head held through a replay's last drain must not reach retention unjournaled.
    return this.update(sourceId, set, `(attribute_not_exists(#st) OR #st = :closing) AND ${versionIs(c.expectVersion)} AND ${positionIs(c.position, values)}`, values);
  }

  unpark(sourceId: string, c: StateChange): Promise<ControlWrite> {
    return this.update(sourceId, this.enter('replaying'), `#st = :parked AND ${versionIs(c.expectVersion)}`, this.changeValues(c));
  }

  skip(sourceId: string, c: StateChange & { seq: Sequence; messageId: string; position: LedgerPosition | undefined }): Promise<ControlWrite> {
    const values = this.changeValues(c);
    values[':s'] = { S: sqsSeqText(c.seq.sqs) };
    values[':q'] = { S: c.seq.queueId };
    values[':m'] = { S: c.messageId };
    values[':k'] = { S: c.seq.kind };
    values[':skseq'] = { S: c.seq.text };
    // The skip leaves its own trace on the item, in the same write: a crash before the audit record still shows what was given up.
    let set =
      'SET sqsSeq = :s, sqsQueueId = :q, sqsSeqKind = :k, lastMessageId = :m, updatedAt = :now, controlVersion = if_not_exists(controlVersion, :zero) + :one, ' +
      'lastSkipSeq = :skseq, lastSkipMessageId = :m, lastSkipAt = :now, lastSkipActor = :actor, lastSkipReason = :reason';
    if (c.seq.kind === 'producer') {
      values[':p'] = { N: c.seq.text };
      set += ', producerSeq = :p';
    }
    return this.update(sourceId, `${set} REMOVE ${FAILURE_ATTRIBUTES}`, `#st = :parked AND ${versionIs(c.expectVersion)} AND ${positionIs(c.position, values)}`, values);
  }

  acquireReplay(sourceId: string, r: { owner: string; nowMs: number; leaseMs: number; expectVersion: number }): Promise<ControlWrite> {
    return this.update(
      sourceId,
      'SET replayOwner = :me, replayLeaseUntil = :until',
      `#st IN (:replaying, :closing) AND ${versionIs(r.expectVersion)} AND (attribute_not_exists(replayLeaseUntil) OR replayLeaseUntil < :now OR replayOwner = :me)`,
      { ':me': { S: r.owner }, ':until': { N: String(r.nowMs + r.leaseMs) }, ':now': { N: String(r.nowMs) }, ':cv': { N: String(r.expectVersion) } },
    );
  }

  toClosing(sourceId: string, r: { owner: string; nowMs: number; expectVersion: number; expectJournalVersion: number }): Promise<ControlWrite> {
    return this.update(
      sourceId,
      `SET #st = :closing, ${LIST_STATE_ATTRIBUTE} = :closing, ${STATE_SINCE_ATTRIBUTE} = :now`,
      `#st = :replaying AND ${versionIs(r.expectVersion)} AND replayOwner = :me AND ${r.expectJournalVersion === 0 ? '(attribute_not_exists(journalVersion) OR journalVersion = :jv)' : 'journalVersion = :jv'}`,
      { ':me': { S: r.owner }, ':now': { N: String(r.nowMs) }, ':cv': { N: String(r.expectVersion) }, ':jv': { N: String(r.expectJournalVersion) } },
    );
  }

  toActive(sourceId: string, r: { owner: string; expectVersion: number }): Promise<ControlWrite> {
    return this.update(
      sourceId,
      `REMOVE #st, ${LIST_STATE_ATTRIBUTE}, ${STATE_SINCE_ATTRIBUTE}, stateReason, stateActor, replayOwner, replayLeaseUntil, ${REPLAY_FAILURE_ATTRIBUTES}`,
      `#st = :closing AND ${versionIs(r.expectVersion)} AND replayOwner = :me`,
      { ':me': { S: r.owner }, ':cv': { N: String(r.expectVersion) } },
    );
  }

  async markHeadJournaled(sourceId: string, messageId: string, nowMs: number): Promise<void> {
    await this.markHead(sourceId, messageId, nowMs, 'headJournaledAt');
  }

  async markHeadAside(sourceId: string, messageId: string, nowMs: number): Promise<void> {
    await this.markHead(sourceId, messageId, nowMs, 'headAsideAt');
  }

  private async markHead(sourceId: string, messageId: string, nowMs: number, attribute: 'headJournaledAt' | 'headAsideAt'): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          UpdateExpression: `SET ${attribute} = :now`,
          // Only the head the failure record names: a newer head's record must not look journaled.
          ConditionExpression: 'headMessageId = :m',
          ExpressionAttributeValues: { ':now': { N: String(nowMs) }, ':m': { S: messageId } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async recordReplayFailure(sourceId: string, f: ReplayFailure): Promise<void> {
    await this.update(
      sourceId,
      'SET replayLastError = :err, replayHeadSeq = :seq, replayFailedAt = :now, replayNextAttemptAt = :next, replayAttempts = if_not_exists(replayAttempts, :zero) + :one',
      '#st IN (:replaying, :closing)',
      { ':err': { S: f.error.slice(0, 1000) }, ':seq': { S: f.seq }, ':now': { N: String(f.atMs) }, ':next': { N: String(f.nextAttemptAtMs) } },
    );
  }

  /** Sources in one state, oldest state change first, from the sparse state-by-since index: every page, unless a limit is given. */
  async listInState(state: 'parked' | 'replaying' | 'closing', limit = Number.POSITIVE_INFINITY): Promise<string[]> {
    const out: string[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: STATE_INDEX,
          KeyConditionExpression: `${LIST_STATE_ATTRIBUTE} = :s`,
          ExpressionAttributeValues: { ':s': { S: state } },
          ProjectionExpression: '#pk',
          ExpressionAttributeNames: { '#pk': PK },
          Limit: Math.min(1000, Math.max(1, limit - out.length)),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(item[PK]?.S ?? '');
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  private enter(state: 'parked' | 'replaying', extraSet = ''): string {
    return (
      `SET #st = :${state}, ${LIST_STATE_ATTRIBUTE} = :${state}, ${STATE_SINCE_ATTRIBUTE} = :now, stateReason = :reason, stateActor = :actor, ` +
      `controlVersion = if_not_exists(controlVersion, :zero) + :one${extraSet} REMOVE replayOwner, replayLeaseUntil, ${REPLAY_FAILURE_ATTRIBUTES}`
    );
  }

  private changeValues(c: StateChange): Record<string, AttributeValue> {
    return {
      ':now': { N: String(c.nowMs) },
      ':reason': { S: c.reason.slice(0, 500) },
      ':actor': { S: c.actor.slice(0, 200) },
      ':cv': { N: String(c.expectVersion) },
    };
  }

  private async update(sourceId: string, expression: string, condition: string, values: Record<string, AttributeValue>): Promise<ControlWrite> {
    const all: Record<string, AttributeValue> = { ...values, ':zero': { N: '0' }, ':one': { N: '1' }, ':parked': { S: 'parked' }, ':replaying': { S: 'replaying' }, ':closing': { S: 'closing' } };
    // DynamoDB refuses values the expressions do not use.
    const used = Object.fromEntries(Object.entries(all).filter(([k]) => new RegExp(`${k}(?![A-Za-z0-9_])`).test(`${expression} ${condition}`)));
    const names = /#st\b/.test(`${expression} ${condition}`) ? { '#st': 'state' } : undefined;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: used,
          ExpressionAttributeNames: names,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return { ok: false, control: controlOf(err.Item) };
      throw err;
    }
  }
}
