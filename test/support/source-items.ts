import { createHash, randomUUID } from 'node:crypto';
import { PutItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { auditSk, journalSk, ledgerKey, PK, SK } from '../../src/adapters/table-keys';

/**
 * Writes parked/replaying sources, journal entries and audit records straight into the table,
 * in the layout the park/journal commands use, so the read model, the CLI and the page can be
 * tested before (and independently of) those commands.
 */
export class SourceItems {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** `replayLease`: the replay is held by another task, so a running worker's replayer leaves it alone. */
  async setState(
    sourceId: string,
    state: 'parked' | 'replaying' | 'closing' | 'active',
    opts: { since?: number; reason?: string; actor?: string; replayLease?: { owner: string; untilMs: number } } = {},
  ): Promise<void> {
    const since = opts.since ?? Date.now();
    if (state === 'active') {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          UpdateExpression: 'SET controlVersion = if_not_exists(controlVersion, :zero) + :one REMOVE #state, listState, stateSince, stateReason, stateActor',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' } },
        }),
      );
      return;
    }
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: ledgerKey(sourceId),
        UpdateExpression:
          'SET #state = :s, listState = :s, stateSince = :since, stateReason = :reason, stateActor = :actor, controlVersion = if_not_exists(controlVersion, :zero) + :one' +
          (opts.replayLease ? ', replayOwner = :owner, replayLeaseUntil = :until' : ''),
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ...(opts.replayLease ? { ':owner': { S: opts.replayLease.owner }, ':until': { N: String(opts.replayLease.untilMs) } } : {}),
          ':s': { S: state },
          ':since': { N: String(since) },
          ':reason': { S: opts.reason ?? 'test' },
          ':actor': { S: opts.actor ?? 'tester' },
          ':zero': { N: '0' },
          ':one': { N: '1' },
        },
      }),
    );
  }

  async journal(sourceId: string, seq: bigint, body: string, opts: { chunks?: number; messageId?: string } = {}): Promise<void> {
    const now = Date.now();
    for (let i = 0; i < (opts.chunks ?? 0); i++) {
      await this.put({ [PK]: { S: sourceId }, [SK]: { S: `${journalSk(seq)}#c${String(i).padStart(3, '0')}` }, body: { S: body } });
    }
    await this.put({
      [PK]: { S: sourceId },
      [SK]: { S: journalSk(seq) },
      seq: { S: seq.toString() },
      seqKind: { S: 'producer' },
      key: { S: seq.toString() },
      messageId: { S: opts.messageId ?? randomUUID() },
      contentType: { S: 'application/json' },
      body: { S: body },
      bodySha256: { S: createHash('sha256').update(body).digest('hex') },
      sentAt: { N: String(now) },
      firstSeenAt: { N: String(now) },
      journaledAt: { N: String(now) },
      ...(opts.chunks ? { chunks: { N: String(opts.chunks) } } : {}),
    });
  }

  async audit(sourceId: string, action: string, opts: { at?: number; actor?: string; reason?: string } = {}): Promise<void> {
    const at = opts.at ?? Date.now();
    await this.put({
      [PK]: { S: sourceId },
      [SK]: { S: auditSk(at, randomUUID()) },
      action: { S: action },
      actor: { S: opts.actor ?? 'tester' },
      reason: { S: opts.reason ?? '' },
      at: { N: String(at) },
    });
  }

  private async put(item: Record<string, AttributeValue>): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: item }));
  }
}
