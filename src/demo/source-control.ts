import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAuditLog } from '../adapters/audit-log';
import { DynamoJournal } from '../adapters/journal';
import { DynamoSourceControl } from '../adapters/source-control';
import { parkSource, unparkSource, type ActionPorts } from '../cli/source-actions';

/** The operator actions the demo needs: what `fifo-relay park` and `fifo-relay unpark` do. */
export interface SourceControl {
  /** Returns the line the command prints. */
  park(sourceId: string, reason: string): Promise<string>;
  unpark(sourceId: string, reason: string): Promise<string>;
}

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

  async park(sourceId: string, reason: string): Promise<string> {
    const r = await parkSource(this.ports, { sourceId, reason, actor: this.actor, nowMs: this.now() });
    if (!r.ok) throw new Error(`park refused: ${r.line}`);
    return r.line;
  }

  async unpark(sourceId: string, reason: string): Promise<string> {
    const r = await unparkSource(this.ports, { sourceId, reason, actor: this.actor, nowMs: this.now(), dryRun: false, limit: 0 });
    if (!r.ok) throw new Error(`unpark refused: ${r.line}`);
    return r.line;
  }
}
