import { actorOf, operatorPorts, report, requireReason, requireSource, type Out } from './operator-context';
import { parkSource } from './source-actions';

export interface ParkOptions {
  positionals: string[];
  reason?: string;
  actor?: string;
}

/** `fifo-relay park <sourceId> --reason "…"`: from now on the source's messages go to the journal. */
export async function parkCommand(opts: ParkOptions, out: Out, err: Out = process.stderr): Promise<number> {
  const sourceId = requireSource(opts.positionals);
  const reason = requireReason(opts.reason);
  const ports = operatorPorts();
  try {
    return report(await parkSource(ports, { sourceId, reason, actor: actorOf(opts.actor), nowMs: Date.now() }), out, err);
  } finally {
    ports.close();
  }
}
