import { actorOf, operatorPorts, report, requireReason, requireSource, type Out } from './operator-context';
import { unparkSource } from './source-actions';

export interface UnparkOptions {
  positionals: string[];
  reason?: string;
  actor?: string;
  dryRun?: boolean;
  limit: number;
}

/** `fifo-relay unpark <sourceId> [--dry-run]`: replay the journal in order, then resume from SQS. */
export async function unparkCommand(opts: UnparkOptions, out: Out, err: Out = process.stderr): Promise<number> {
  const sourceId = requireSource(opts.positionals);
  const dryRun = opts.dryRun ?? false;
  // A dry run changes nothing, so it needs no reason.
  const reason = dryRun ? (opts.reason ?? '') : requireReason(opts.reason);
  const ports = operatorPorts();
  try {
    return report(await unparkSource(ports, { sourceId, reason, actor: actorOf(opts.actor), nowMs: Date.now(), dryRun, limit: opts.limit }), out, err);
  } finally {
    ports.close();
  }
}
