import { canonicalSeq } from '../../core/message';
import { OPERATOR_OPTIONS, actorOf, operatorPorts, report, requireReason } from '../operator-context';
import { skipHead } from '../source-actions';
import { defineCommand } from '../spec';
import { UsageError } from '../usage';

/** Default quiet period before a skip: the default app timeout (10 s) + visibility (30 s), with room. */
export const DEFAULT_SKIP_QUIET_SECONDS = 60;

export const skip = defineCommand({
  name: 'skip',
  summary: 'give up exactly the head of a parked source (its body stays in the journal)',
  positionals: [{ name: 'sourceId', help: 'the source (MessageGroupId)', required: true }],
  options: {
    seq: { kind: 'string', value: 'N', help: 'the head\'s sequence: any other is refused', required: true },
    reason: { kind: 'string', value: 'TEXT', help: 'why (goes into the audit trail)', required: true },
    'quiet-seconds': {
      kind: 'int',
      value: 'S',
      help: 'time since the park before a skip is allowed; keep it above APP_TIMEOUT_MS + VISIBILITY_TIMEOUT_SECONDS',
      default: DEFAULT_SKIP_QUIET_SECONDS,
    },
    ...OPERATOR_OPTIONS,
  },
  details: ['Exit 1 with one line when refused (not parked, not the head, quiet period not over): nothing changed.'],
  async run(v, args, out) {
    const seq = canonicalSeq(v.seq);
    if (seq === undefined) throw new UsageError(`--seq must be a whole number, got "${v.seq}"`);
    const reason = requireReason(v.reason);
    const ports = operatorPorts(v.table);
    try {
      return report(await skipHead(ports, { sourceId: args[0] ?? '', seq, reason, actor: actorOf(v.actor), nowMs: Date.now(), quietMs: v['quiet-seconds'] * 1000 }), out, 'skip');
    } finally {
      ports.close();
    }
  },
});
