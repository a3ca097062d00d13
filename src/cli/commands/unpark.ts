import { OPERATOR_OPTIONS, actorOf, operatorPorts, report, requireReason } from '../operator-context';
import { unparkSource } from '../source-actions';
import { defineCommand } from '../spec';

export const unpark = defineCommand({
  name: 'unpark',
  summary: 'replay a parked source\'s journal in order, then resume it from SQS',
  positionals: [{ name: 'sourceId', help: 'the source (MessageGroupId)', required: true }],
  options: {
    reason: { kind: 'string', value: 'TEXT', help: 'why (goes into the audit trail; required unless --dry-run)' },
    'dry-run': { kind: 'flag', help: 'print what would be delivered, change nothing' },
    limit: { kind: 'int', value: 'N', help: 'entries a dry run lists at most', default: 100 },
    ...OPERATOR_OPTIONS,
  },
  details: ['Exit 1 with one line when refused (unknown source, not parked): nothing changed.'],
  async run(v, args, out) {
    const dryRun = v['dry-run'];
    const reason = dryRun ? (v.reason ?? '') : requireReason(v.reason);
    const ports = operatorPorts(v.table);
    try {
      return report(await unparkSource(ports, { sourceId: args[0] ?? '', reason, actor: actorOf(v.actor), nowMs: Date.now(), dryRun, limit: v.limit }), out, 'unpark');
    } finally {
      ports.close();
    }
  },
});
