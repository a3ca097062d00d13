import { ScanCommand, type AttributeValue, type DynamoDBClient, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import type { SourceStatusReader } from '../adapters/source-status';
import type { TaskHealth } from '../core/app-health';
import { judgeApp } from '../core/app-health';
import type { StuckThresholds } from '../core/source-condition';
import { LEDGER_SK, PK, SK } from '../adapters/table-keys';
import { parkSource, type ActionPorts } from './source-actions';

/** Which sources an incident park takes: the stuck ones, those whose id starts with a prefix, or both. */
export interface Selection {
  stuck: boolean;
  prefix?: string;
}

export interface BulkPlan {
  /** Sources the park will act on, in the order it acts. */
  targets: string[];
  /** Selected but already parked: left alone. */
  alreadyParked: string[];
  /** Set when the app looks down across sources: parking stuck sources would not help. */
  appDown?: string;
}

/**
 * All ledger items whose source id starts with the prefix. There is no index by prefix: this is
 * a Scan of the whole table (journal and audit items included), paid once per command — its cost
 * is the table's size, which is why --dry-run says how many it found before anything is parked.
 */
export async function sourcesWithPrefix(client: DynamoDBClient, table: string, prefix: string): Promise<Array<{ sourceId: string; state: string }>> {
  const out: Array<{ sourceId: string; state: string }> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page: ScanCommandOutput = await client.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#sk = :ledger AND begins_with(#pk, :p)',
        ProjectionExpression: '#pk, #state',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#state': 'state' },
        ExpressionAttributeValues: { ':ledger': { S: LEDGER_SK }, ':p': { S: prefix } },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) out.push({ sourceId: item[PK]?.S ?? '', state: item.state?.S ?? 'active' });
    start = page.LastEvaluatedKey;
  } while (start);
  return out.sort((a, b) => (a.sourceId < b.sourceId ? -1 : a.sourceId > b.sourceId ? 1 : 0));
}

export async function planBulkPark(
  deps: { reader: Pick<SourceStatusReader, 'list'>; tasks: () => Promise<TaskHealth[]>; scanPrefix: (prefix: string) => Promise<Array<{ sourceId: string; state: string }>> },
  sel: Selection,
  thresholds: StuckThresholds,
  now: number,
): Promise<BulkPlan> {
  const plan: BulkPlan = { targets: [], alreadyParked: [] };
  if (sel.stuck) {
    const [list, tasks] = await Promise.all([deps.reader.list(thresholds, now, 100_000), deps.tasks().catch(() => [])]);
    const app = judgeApp(list.sources, tasks, now, 45_000);
    if (app.state === 'down') plan.appDown = app.summary ?? 'the app looks down';
    // Worst first, as status lists them: the closest to losing a head to retention is parked first.
    for (const s of list.sources) {
      if (sel.prefix !== undefined && !s.sourceId.startsWith(sel.prefix)) continue;
      if (s.condition === 'stuck') plan.targets.push(s.sourceId);
    }
    return plan;
  }
  for (const s of await deps.scanPrefix(sel.prefix ?? '')) (s.state === 'parked' ? plan.alreadyParked : plan.targets).push(s.sourceId);
  return plan;
}

/** Parks each target one by one (each its own audited, conditional write); a refusal does not stop the rest. */
export async function runBulkPark(ports: ActionPorts, targets: string[], a: { reason: string; actor: string; now: () => number }, out: (line: string) => void): Promise<{ parked: number; refused: number }> {
  let parked = 0;
  let refused = 0;
  for (const sourceId of targets) {
    const r = await parkSource(ports, { sourceId, reason: a.reason, actor: a.actor, nowMs: a.now() });
    if (r.ok) parked++;
    else refused++;
    out(r.ok ? r.line : `refused ${sourceId}: ${r.line}`);
    for (const l of r.ok ? (r.lines ?? []) : []) out(l);
  }
  return { parked, refused };
}
