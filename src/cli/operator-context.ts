import { hostname, userInfo } from 'node:os';
import { createDynamoClient } from '../adapters/aws-clients';
import { DynamoAuditLog } from '../adapters/audit-log';
import { DynamoJournal } from '../adapters/journal';
import { DynamoSourceControl } from '../adapters/source-control';
import type { ActionPorts, ActionResult } from './source-actions';
import { required, UsageError } from './usage';

export interface Out {
  write(text: string): unknown;
}

/** The table's ports for one operator command; close() releases the client. */
export function operatorPorts(): ActionPorts & { close(): void } {
  const table = required('table', process.env.PROGRESS_TABLE, 'PROGRESS_TABLE');
  const region = required('region', process.env.AWS_REGION, 'AWS_REGION');
  const dynamo = createDynamoClient({ region, requestTimeoutMs: 10_000 });
  return {
    control: new DynamoSourceControl(dynamo, table),
    journal: new DynamoJournal(dynamo, table),
    audit: new DynamoAuditLog(dynamo, table),
    close: () => dynamo.destroy(),
  };
}

/**
 * Who is acting, for the audit trail: --actor, else $FIFO_RELAY_ACTOR, else the local user and
 * host. (The AWS caller identity would need the STS client as one more dependency; IAM's own
 * CloudTrail records the principal of every write regardless.)
 */
export function actorOf(flag: string | undefined): string {
  if (flag !== undefined && flag.trim() !== '') return flag.trim();
  const env = process.env.FIFO_RELAY_ACTOR;
  if (env && env.trim() !== '') return env.trim();
  return `${userInfo().username}@${hostname()}`;
}

export function requireReason(reason: string | undefined): string {
  if (reason === undefined || reason.trim() === '') throw new UsageError('--reason "…" is required: it goes into the audit trail');
  if (reason.length > 500) throw new UsageError(`--reason is at most 500 characters, got ${reason.length}`);
  return reason.trim();
}

export function requireSource(positionals: string[]): string {
  const [sourceId, ...extra] = positionals;
  if (!sourceId) throw new UsageError('a source id is required');
  if (extra.length > 0) throw new UsageError(`one source id at a time, got ${positionals.length}`);
  return sourceId;
}

/** Exit codes: 0 done, 1 refused (one line on stderr, nothing changed). */
export function report(r: ActionResult, out: Out, err: Out): number {
  if (!r.ok) {
    err.write(`fifo-relay: refused: ${r.line}\n`);
    return 1;
  }
  out.write(`${r.line}\n`);
  for (const l of r.lines ?? []) out.write(`${l}\n`);
  return 0;
}
