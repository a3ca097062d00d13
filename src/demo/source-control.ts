import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAuditLog } from '../adapters/audit-log';
import { DynamoJournal } from '../adapters/journal';
import { DynamoSourceControl } from '../adapters/source-control';
import { parkSource, skipHead, unparkSource, type ActionPorts, type ActionResult } from '../cli/source-actions';

/** The operator actions the demo needs: what `fifo-relay park`, `unpark` and `skip` do. */
export interface SourceControl {
  /** Each returns the lines the command prints. */
  park(sourceId: string, reason: string): Promise<string[]>;
  /** `unpark --dry-run`: what unpark would deliver, in order; changes nothing. */
  unparkDryRun(sourceId: string): Promise<string[]>;
  skip(sourceId: string, seq: string, reason: string, quietSeconds: number): Promise<string[]>;
  unpark(sourceId: string, reason: string): Promise<string[]>;
}

const printed = (command: string, r: ActionResult): string[] => {
  if (!r.ok) throw new Error(`${command} refused: ${r.line}`);
  return [r.line, ...(r.lines ?? [])];
};

/** The same actions as the park and unpark commands, on the demo's own client. */
export class CommandSourceControl implements SourceControl {
  private readonly ports: ActionPorts;

  constructor(
    client: DynamoDBClient,
    table: string,
    private readonly actor: string,
    private readonly now: () => number = Date.now,
  ) {
    this.ports = { control: new DynamoSourceControl(client, table), journal: new DynamoJournal(client, table), audit: new DynamoAuditLog(client, table) };
  }

  async park(sourceId: string, reason: string): Promise<string[]> {
    return printed('park', await parkSource(this.ports, { sourceId, reason, actor: this.actor, nowMs: this.now() }));
  }

  async unparkDryRun(sourceId: string): Promise<string[]> {
    return printed('unpark --dry-run', await unparkSource(this.ports, { sourceId, reason: 'dry run', actor: this.actor, nowMs: this.now(), dryRun: true, limit: 1000 }));
  }

  async skip(sourceId: string, seq: string, reason: string, quietSeconds: number): Promise<string[]> {
    return printed('skip', await skipHead(this.ports, { sourceId, seq, reason, actor: this.actor, nowMs: this.now(), quietMs: quietSeconds * 1000 }));
  }

  async unpark(sourceId: string, reason: string): Promise<string[]> {
    return printed('unpark', await unparkSource(this.ports, { sourceId, reason, actor: this.actor, nowMs: this.now(), dryRun: false, limit: 0 }));
  }
}
