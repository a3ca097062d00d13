/**
 * The table's key schema and indexes come from src/adapters/table-indexes.ts. `fifo-relay setup`,
 * the LocalStack hook and the CDK table must each create exactly that: this fails when any of
 * them differs (an index missing, a key renamed, a type changed).
 */
import { readFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as tableIndexes from '../../src/adapters/table-indexes';
import { createTableRequest, TABLE_INDEXES } from '../../src/adapters/table-indexes';
import { ensureTable } from '../../src/cli/setup';
import { LOCALSTACK_TABLE_JSON, localstackTableJson } from '../../infra/bin/write-localstack-table';
import { resourcesOf, synthRelayApp } from '../infra/synth-relay-app';
import { callsOf, createTableRequestOf, runHook } from './localstack-hook';

interface KeyElement { AttributeName?: string; KeyType?: string }
interface TableShape {
  AttributeDefinitions?: Array<{ AttributeName?: string; AttributeType?: string }>;
  KeySchema?: KeyElement[];
  GlobalSecondaryIndexes?: Array<{ IndexName?: string; KeySchema?: KeyElement[]; Projection?: { ProjectionType?: string } }>;
}

/** What matters of a table's shape, in a form that does not depend on the order of the lists. */
function shape(t: TableShape) {
  const keys = (k: KeyElement[] | undefined) => (k ?? []).map((e) => `${e.AttributeName}:${e.KeyType}`);
  return {
    attributes: (t.AttributeDefinitions ?? []).map((a) => `${a.AttributeName}:${a.AttributeType}`).sort(),
    key: keys(t.KeySchema),
    indexes: (t.GlobalSecondaryIndexes ?? [])
      .map((i) => ({ name: i.IndexName, key: keys(i.KeySchema), projection: i.Projection?.ProjectionType }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
  };
}

/** The CreateTable input `fifo-relay setup` sends, recorded by a client that answers like DynamoDB. */
async function setupRequest(): Promise<TableShape> {
  let created: TableShape | undefined;
  const client = {
    send: async (command: { constructor: { name: string }; input: TableShape }) => {
      if (command.constructor.name === 'CreateTableCommand') {
        created = command.input;
        return {};
      }
      if (!created) throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
      return { Table: { TableStatus: 'ACTIVE' } };
    },
  } as unknown as DynamoDBClient;
  expect(await ensureTable(client, 'ledger')).toEqual({ created: true });
  return created!;
}

describe('one definition of the progress table', () => {
  const expected = shape(createTableRequest());

  it('names both sparse listings the worker queries', () => {
    expect(TABLE_INDEXES.map((i) => i.name).sort()).toEqual(['state-by-since', 'stuck-by-since']);
    expect(expected.indexes.map((i) => i.name)).toEqual(['state-by-since', 'stuck-by-since']);
  });

  it('is what `fifo-relay setup` creates', async () => {
    expect(shape(await setupRequest())).toEqual(expected);
  });

  it('is what the LocalStack hook creates', () => {
    const [create] = callsOf(runHook({ FIFO_RELAY_TABLE: 'ledger', FIFO_RELAY_TABLE_JSON: LOCALSTACK_TABLE_JSON }), 'dynamodb', 'create-table');
    const request = createTableRequestOf(create!);
    expect(request).toMatchObject({ TableName: 'ledger', BillingMode: 'PAY_PER_REQUEST' });
    expect(shape(request as TableShape)).toEqual(expected);
  });

  it('is what the CDK app creates', () => {
    const tables = Object.values(resourcesOf(synthRelayApp({ regions: 'us-east-1' }).table, 'AWS::DynamoDB::GlobalTable'));
    expect(tables).toHaveLength(1);
    expect(shape(tables[0]!.Properties as TableShape)).toEqual(expected);
  });

  it('is what the committed deploy/localstack/progress-table.json holds (regenerate: npx tsx infra/bin/write-localstack-table.ts)', () => {
    expect(readFileSync(LOCALSTACK_TABLE_JSON, 'utf8')).toBe(localstackTableJson());
  });
});

describe('the index attribute names, spelled once', () => {
  // The adapters that write and query the indexes must take the names from table-indexes.ts: a
  // name typed out again there would keep working until someone renames it in one place only.
  const literals = ['stuck', 'stuckSince', 'listState', 'stateSince'];
  const adapters = ['src/adapters/progress-ledger.ts', 'src/adapters/source-control.ts'];

  it('are exported by table-indexes.ts and are the indexes\' keys', () => {
    const indexes = tableIndexes as unknown as Record<string, unknown>;
    const keyNames = TABLE_INDEXES.flatMap((i) => [i.partitionKey.name, i.sortKey.name]).sort();
    expect(keyNames).toEqual([...literals].sort());
    const exported = ['STUCK_ATTRIBUTE', 'STUCK_SINCE_ATTRIBUTE', 'LIST_STATE_ATTRIBUTE', 'STATE_SINCE_ATTRIBUTE'].map((n) => indexes[n]);
    expect(exported).toEqual(['stuck', 'stuckSince', 'listState', 'stateSince']);
  });

  it.each(adapters)('are not typed out again in %s, in expressions or item reads', (path) => {
    const code = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\/\/|\*|\/\*\*)/.test(line))
      .join('\n');
    // Inside a string or template (an expression such as 'stuck = :flag'), or read off an item (item.stuckSince).
    const found = literals.filter((name) => new RegExp(`(['\`][^'\`\\n]*\\b${name}\\b[^'\`\\n]*['\`])|(item\\.${name}\\b)`).test(code));
    expect(found).toEqual([]);
  });
});
