import { hostname, userInfo } from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAuditLog } from '../adapters/audit-log';
import { DynamoJournal } from '../adapters/journal';
import { DynamoSourceControl } from '../adapters/source-control';
import { commandClients } from './aws';
import type { ActionPorts, ActionResult } from './source-actions';
import type { OptionSpec } from './spec';
import { UsageError } from './usage';

/** Options every operator action shares. */
export const OPERATOR_OPTIONS = {
  table: { kind: 'string', value: 'NAME', help: 'progress table', env: 'PROGRESS_TABLE', required: true },
  actor: { kind: 'string', value: 'NAME', help: 'who acts, for the audit trail; else user@host', env: 'FIFO_RELAY_ACTOR' },
} as const satisfies Record<string, OptionSpec>;

/** The table's ports for one operator command; close() releases the client. */
export function operatorPorts(table: string): ActionPorts & { dynamo: DynamoDBClient; close(): void } {
  const aws = commandClients();
  return {
    dynamo: aws.dynamo,
    control: new DynamoSourceControl(aws.dynamo, table),
    journal: new DynamoJournal(aws.dynamo, table),
    audit: new DynamoAuditLog(aws.dynamo, table),
    close: () => aws.destroy(),
  };
}

/**
 * Who is acting: --actor, else $FIFO_RELAY_ACTOR, else the local user and host. (The AWS caller
 * identity would need the STS client as one more dependency; CloudTrail records the principal
 * of every write regardless.)
 */
export function actorOf(given: string | undefined): string {
  if (given !== undefined && given.trim() !== '') return given.trim();
  return `${userInfo().username}@${hostname()}`;
}

export function requireReason(reason: string | undefined): string {
  if (reason === undefined || reason.trim() === '') throw new UsageError('--reason is required: it goes into the audit trail');
  if (reason.length > 500) throw new UsageError(`--reason is at most 500 characters, got ${reason.length}`);
  return reason.trim();
}

/** Exit codes: 0 done, 1 refused (one line on stderr naming the command, nothing changed). */
export function report(r: ActionResult, out: (line: string) => void, command: string): number {
  if (!r.ok) {
    process.stderr.write(`fifo-relay ${command}: refused: ${r.line}\n`);
    return 1;
  }
  out(r.line);
  for (const l of r.lines ?? []) out(l);
  return 0;
}
