import { SourceStatusReader } from '../../adapters/source-status';
import { DynamoTaskHealth } from '../../adapters/task-health';
import { commandClients } from '../aws';
import { OPERATOR_OPTIONS, actorOf, operatorPorts, report, requireReason } from '../operator-context';
import { planBulkPark, runBulkPark, sourcesWithPrefix } from '../park-bulk';
import { parkSource } from '../source-actions';
import { defineCommand } from '../spec';
import { statusOptions } from '../status';
import { UsageError, requiredEnv } from '../usage';

export const park = defineCommand({
  name: 'park',
  summary: 'park a source (or, in an incident, every stuck source or every source of a prefix): its messages move, in order, from SQS into the journal; nothing is delivered until unpark',
  positionals: [{ name: 'sourceId', help: 'the source (MessageGroupId); or use --stuck / --prefix' }],
  options: {
    reason: { kind: 'string', value: 'TEXT', help: 'why (goes into the audit trail; required unless --dry-run)' },
    stuck: { kind: 'flag', help: 'every source stuck now (as `fifo-relay status` judges it), worst first' },
    prefix: { kind: 'string', value: 'P', help: 'every source whose id starts with P (a Scan of the table); with --stuck: only stuck ones' },
    'dry-run': { kind: 'flag', help: 'print the sources it would park and their count; change nothing' },
    'even-if-app-down': { kind: 'flag', help: 'park stuck sources even when the app looks down across sources (parking does not help then)' },
    'stuck-attempts': { kind: 'string', value: 'N', help: 'with --stuck: stuck once a head failed N attempts (default $STUCK_ATTEMPTS, else 5)' },
    'stuck-after': { kind: 'string', value: 'DURATION', help: 'with --stuck: stuck once a head failed this long (default $STUCK_AFTER_SECONDS, else 15m)' },
    ...OPERATOR_OPTIONS,
  },
  details: [
    'Exit 1 with one line when refused (unknown source, already parked, app down for --stuck): nothing changed.',
    'With --stuck or --prefix each source is parked by its own audited, conditional write; the last line counts parked and refused (exit 1 if any was refused).',
    'Needs the park operator policy (CDK output ParkOperatorPolicyArn); --prefix also needs dynamodb:Scan on the table.',
  ],
  async run(v, args, out) {
    const bulk = v.stuck || v.prefix !== undefined;
    if (bulk && args[0] !== undefined) throw new UsageError('give a source id or --stuck / --prefix, not both');
    if (!bulk && args[0] === undefined) throw new UsageError('<sourceId> is required (or --stuck / --prefix P for many)');
    if (v.prefix === '') throw new UsageError('--prefix must not be empty');
    if (!bulk && v['dry-run']) throw new UsageError('--dry-run goes with --stuck or --prefix');
    const dryRun = v['dry-run'];
    const reason = dryRun ? (v.reason ?? '') : requireReason(v.reason);
    const ports = operatorPorts(v.table);
    try {
      if (!bulk) return report(await parkSource(ports, { sourceId: args[0] ?? '', reason, actor: actorOf(v.actor), nowMs: Date.now() }), out, 'park');
      const opts = statusOptions(
        {
          table: v.table,
          region: requiredEnv('AWS_REGION', 'the region of the table'),
          limit: 100_000,
          json: false,
          ...(v['stuck-attempts'] === undefined ? {} : { stuckAttempts: v['stuck-attempts'] }),
          ...(v['stuck-after'] === undefined ? {} : { stuckAfter: v['stuck-after'] }),
        },
        process.env,
      );
      const aws = commandClients();
      try {
        const plan = await planBulkPark(
          { reader: new SourceStatusReader(aws.dynamo, v.table), tasks: () => new DynamoTaskHealth(aws.dynamo, v.table).list(), scanPrefix: (p) => sourcesWithPrefix(aws.dynamo, v.table, p) },
          { stuck: v.stuck, ...(v.prefix === undefined ? {} : { prefix: v.prefix }) },
          opts.thresholds,
          Date.now(),
        );
        const what = `${v.stuck ? 'stuck ' : ''}source(s)${v.prefix !== undefined ? ` with prefix "${v.prefix}"` : ''}`;
        const skipped = plan.alreadyParked.length ? ` (${plan.alreadyParked.length} already parked, left alone)` : '';
        if (plan.appDown && !v['even-if-app-down'] && !dryRun) {
          return report({ ok: false, line: `${plan.appDown}; not parking ${plan.targets.length} ${what} (add --even-if-app-down to park them anyway)` }, out, 'park');
        }
        if (dryRun) {
          out(`dry run: park would act on ${plan.targets.length} ${what}${skipped}; nothing changed`);
          if (plan.appDown) out(`warning: ${plan.appDown}`);
          for (const id of plan.targets) out(id);
          return 0;
        }
        out(`parking ${plan.targets.length} ${what}${skipped}`);
        const r = await runBulkPark(ports, plan.targets, { reason, actor: actorOf(v.actor), now: Date.now }, out);
        out(`parked ${r.parked} of ${plan.targets.length}; ${r.refused} refused`);
        return r.refused > 0 ? 1 : 0;
      } finally {
        aws.destroy();
      }
    } finally {
      ports.close();
    }
  },
});
