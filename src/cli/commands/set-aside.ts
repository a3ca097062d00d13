import { DynamoAsideStore, REGRESSION_ERROR_PREFIX, type AsideEntry, type IntentWrite } from '../../adapters/aside-store';
import { DynamoAuditLog } from '../../adapters/audit-log';
import { commandClients } from '../aws';
import { OPERATOR_OPTIONS, actorOf, requireReason } from '../operator-context';
import { defineCommand } from '../spec';
import { UsageError } from '../usage';

const NAME = 'set-aside';

function refusal(sourceId: string, messageId: string, w: Extract<IntentWrite, { ok: false }>): string {
  const accepts = `set-aside accepts only a source whose recorded failing head is that message and failed as a seq regression ("${REGRESSION_ERROR_PREFIX}: …"; see fifo-relay status ${sourceId})`;
  if (!w.exists) return `source "${sourceId}" has no ledger item; ${accepts}`;
  if (w.headMessageId === undefined) return `source "${sourceId}" has no failing head recorded (RECORD_FAILURES must be on); ${accepts}`;
  if (w.headMessageId !== messageId) return `the failing head of "${sourceId}" is message ${w.headMessageId}, not ${messageId}; ${accepts}`;
  return `the head ${messageId} of "${sourceId}" failed with "${(w.lastError ?? '').slice(0, 120)}", not a seq regression; ${accepts}`;
}

export const describeAside = (e: AsideEntry): string =>
  `aside  message ${e.messageId}  seq ${e.seq}  ${e.contentType}  ${Buffer.byteLength(e.body, 'utf8')} bytes  sent ${new Date(e.sentAt).toISOString()}  set aside ${new Date(e.asideAt).toISOString()} by ${e.intent.actor}: ${e.intent.reason}  (${e.detail})`;

export const setAside = defineCommand({
  name: NAME,
  summary: 'move a seq-regression head out of its source\'s way: kept in the table (aside) for inspection, then deleted from SQS',
  positionals: [{ name: 'sourceId', help: 'the source (MessageGroupId)', required: true }],
  options: {
    'message-id': { kind: 'string', value: 'ID', help: 'the head\'s SQS MessageId (fifo-relay status SOURCE shows it)' },
    reason: { kind: 'string', value: 'TEXT', help: 'why (goes into the audit trail and the aside item)' },
    wait: { kind: 'int', value: 'S', help: 'wait up to S seconds for the worker holding the head to carry it out (0: do not wait)', default: 0, min: 0 },
    list: { kind: 'flag', help: 'list the source\'s messages set aside (body size, seq, who, why) instead' },
    ...OPERATOR_OPTIONS,
  },
  details: [
    'Accepted only while the source\'s recorded failing head is exactly that message and it failed as a seq regression: a producer seq below the one already delivered, which can be neither delivered nor journaled in order (for example the same `send` run twice).',
    'The command records the request on the source\'s ledger item; the worker that holds the head (at its next attempt, when its backoff ends) puts the message, body and attributes, into an aside item, writes the audit record, and only then deletes it from SQS. Nothing else of the source changes.',
    'Exit 1 with one line when refused: nothing changed. Needs the park operator policy.',
  ],
  async run(v, args, out) {
    const sourceId = args[0] ?? '';
    const aws = commandClients();
    const store = new DynamoAsideStore(aws.dynamo, v.table);
    try {
      if (v.list) {
        const entries = await store.list(sourceId);
        out(`${entries.length} message(s) set aside for ${sourceId}`);
        for (const e of entries) out(describeAside(e));
        return 0;
      }
      if (v['message-id'] === undefined || v['message-id'].trim() === '') throw new UsageError('--message-id is required (or --list)');
      const messageId = v['message-id'].trim();
      const reason = requireReason(v.reason);
      const actor = actorOf(v.actor);
      const at = Date.now();
      if (await store.has(sourceId, messageId)) {
        out(`message ${messageId} of ${sourceId} is already set aside`);
        return 0;
      }
      const w = await store.request(sourceId, { messageId, actor, reason, at });
      if (!w.ok) {
        process.stderr.write(`fifo-relay ${NAME}: refused: ${refusal(sourceId, messageId, w)}\n`);
        return 1;
      }
      await new DynamoAuditLog(aws.dynamo, v.table).record({ sourceId, action: 'set-aside', actor, reason, at, details: { requested: true, messageId } }).catch((err: Error) => out(`warning: the request is recorded but its audit record could not be written: ${err.message}`));
      out(`set-aside of message ${messageId} (${sourceId}) recorded: the worker holding the head keeps it aside, then deletes it from SQS, at its next attempt`);
      if (v.wait <= 0) return 0;
      for (const until = Date.now() + v.wait * 1000; Date.now() < until; ) {
        if (await store.has(sourceId, messageId)) {
          out(`done: message ${messageId} is set aside (fifo-relay ${NAME} ${sourceId} --list) and deleted from SQS`);
          return 0;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      out(`not done within ${v.wait} s: the head is still waiting out its backoff; the request stays recorded`);
      return 1;
    } finally {
      aws.destroy();
    }
  },
});
