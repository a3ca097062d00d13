import { DynamoLost } from '../../adapters/declare-lost';
import { canonicalSeq } from '../../core/message';
import { OPERATOR_OPTIONS, actorOf, operatorPorts, report, requireReason } from '../operator-context';
import { declareLost as declareLostAction } from '../source-actions';
import { defineCommand } from '../spec';
import { UsageError } from '../usage';
import { DEFAULT_SKIP_QUIET_SECONDS } from './skip';

export const declareLost = defineCommand({
  name: 'declare-lost',
  summary: 'give up exactly the missing seq of a contiguous source held at a gap (audited)',
  positionals: [{ name: 'sourceId', help: 'the source (MessageGroupId)', required: true }],
  options: {
    seq: { kind: 'string', value: 'N', help: 'the missing seq (the position + 1): any other is refused', required: true },
    reason: { kind: 'string', value: 'TEXT', help: 'why (goes into the audit trail)', required: true },
    'quiet-seconds': {
      kind: 'int',
      value: 'S',
      help: 'how old the gap must be; keep it above APP_TIMEOUT_MS + VISIBILITY_TIMEOUT_SECONDS',
      default: DEFAULT_SKIP_QUIET_SECONDS,
    },
    ...OPERATOR_OPTIONS,
  },
  details: ['Exit 1 with one line when refused (not contiguous, not held at that gap, quiet period not over): nothing changed.'],
  async run(v, args, out) {
    const text = canonicalSeq(v.seq);
    if (text === undefined) throw new UsageError(`--seq must be a whole number, got "${v.seq}"`);
    const seq = BigInt(text);
    if (seq < 1n) throw new UsageError(`--seq must be at least 1, got "${v.seq}"`);
    const reason = requireReason(v.reason);
    const ports = operatorPorts(v.table);
    try {
      const lost = new DynamoLost(ports.dynamo, v.table);
      return report(await declareLostAction({ ...ports, lost }, { sourceId: args[0] ?? '', seq, reason, actor: actorOf(v.actor), nowMs: Date.now(), quietMs: v['quiet-seconds'] * 1000 }), out, 'declare-lost');
    } finally {
      ports.close();
    }
  },
});
