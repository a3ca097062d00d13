import { OPERATOR_OPTIONS, actorOf, operatorPorts, report, requireReason } from '../operator-context';
import { parkSource } from '../source-actions';
import { defineCommand } from '../spec';

export const park = defineCommand({
  name: 'park',
  summary: 'park a source: its messages move, in order, from SQS into the journal; nothing is delivered until unpark',
  positionals: [{ name: 'sourceId', help: 'the source (MessageGroupId)', required: true }],
  options: {
    reason: { kind: 'string', value: 'TEXT', help: 'why (goes into the audit trail)', required: true },
    ...OPERATOR_OPTIONS,
  },
  details: ['Exit 1 with one line when refused (unknown source, already parked): nothing changed.', 'Needs the park operator policy (CDK output ParkOperatorPolicyArn).'],
  async run(v, args, out) {
    const reason = requireReason(v.reason);
    const ports = operatorPorts(v.table);
    try {
      return report(await parkSource(ports, { sourceId: args[0] ?? '', reason, actor: actorOf(v.actor), nowMs: Date.now() }), out);
    } finally {
      ports.close();
    }
  },
});
