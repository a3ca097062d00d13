import { canonicalSeq } from '../core/message';
import { actorOf, operatorPorts, report, requireReason, requireSource, type Out } from './operator-context';
import { skipHead } from './source-actions';
import { UsageError } from './usage';

export interface SkipOptions {
  positionals: string[];
  seq?: string;
  reason?: string;
  actor?: string;
  /** Seconds since the park before a skip is allowed: longer than app timeout + visibility. */
  quietSeconds: number;
}

/** `fifo-relay skip <sourceId> --seq N --reason "…"`: give up exactly the head of a parked source. */
export async function skipCommand(opts: SkipOptions, out: Out, err: Out = process.stderr): Promise<number> {
  const sourceId = requireSource(opts.positionals);
  const seq = opts.seq === undefined ? undefined : canonicalSeq(opts.seq);
  if (seq === undefined) throw new UsageError(`--seq N (the head's sequence, a whole number) is required${opts.seq === undefined ? '' : `, got "${opts.seq}"`}`);
  const reason = requireReason(opts.reason);
  const ports = operatorPorts();
  try {
    return report(await skipHead(ports, { sourceId, seq, reason, actor: actorOf(opts.actor), nowMs: Date.now(), quietMs: opts.quietSeconds * 1000 }), out, err);
  } finally {
    ports.close();
  }
}
