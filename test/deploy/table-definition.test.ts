/**
 * The table's key schema and indexes come from src/adapters/table-indexes.ts. `fifo-relay setup`,
 * the LocalStack hook and the CDK table must each create exactly that: this fails when any of
 * them differs (an index missing, a key renamed, a type changed).
 */
import { readFileSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
