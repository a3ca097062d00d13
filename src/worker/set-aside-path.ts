import type { AuditPort } from '../adapters/audit-log';
import type { AsidePort } from '../adapters/aside-store';
import type { RelayMessage } from '../core/message';

/**
 * The holder's half of an operator's set-aside: a seq-regression head can never be delivered or
 * journaled in order, so on the operator's recorded request for exactly this message it is
 * kept in the table (an aside item with body and attributes) before the lane deletes it from
 * SQS. Safe to repeat: an aside item that already exists for the message is proof enough.
 */
export class SetAsidePath {
  constructor(
    private readonly store: AsidePort,
    private readonly audit: AuditPort,
    private readonly now: () => number,
  ) {}

  /** True: the head is kept aside and may be deleted from SQS. */
  async regression(m: RelayMessage, detail: string): Promise<boolean> {
    const intent = await this.store.pending(m.sourceId);
    if (intent?.messageId !== m.messageId) return this.store.has(m.sourceId, m.messageId);
    const at = this.now();
    await this.store.put({
      sourceId: m.sourceId,
      messageId: m.messageId,
      body: m.body,
      contentType: m.contentType,
      seq: m.seq.text,
      sqsSeq: m.seq.sqs.toString(),
      sentAt: m.sentAt,
      receiveCount: m.receiveCount,
      detail,
      intent,
      asideAt: at,
    });
    await this.audit.record({ sourceId: m.sourceId, action: 'set-aside', actor: intent.actor, reason: intent.reason, at, details: { messageId: m.messageId, seq: m.seq.text, sqsSeq: m.seq.sqs.toString(), detail } });
    await this.store.complete(m.sourceId, m.messageId);
    return true;
  }
}
