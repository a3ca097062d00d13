import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { PK, SK } from './table-keys';

/**
 * The progress table's key schema and indexes, defined once. `fifo-relay setup`, the LocalStack
 * hook (through deploy/localstack/progress-table.json, written from this) and the CDK table all
 * take them from here, so a new index cannot reach one of them and miss the others.
 */
export type KeyAttributeType = 'S' | 'N';

export interface KeyAttribute {
  name: string;
  type: KeyAttributeType;
}

export interface TableIndex {
  name: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  /** Every index projects the whole item: the listings print the source's state and error. */
  projection: 'ALL';
}

export const TABLE_KEY: { partitionKey: KeyAttribute; sortKey: KeyAttribute } = {
  partitionKey: { name: PK, type: 'S' },
  sortKey: { name: SK, type: 'S' },
};

// Defined here rather than in the adapters that write them, which import them from here: one
// spelling for the table definition, the writes and the queries, and no import cycle.
/** Sparse index holding only sources whose head is failing: the operator's "stuck" list. */
export const STUCK_INDEX = 'stuck-by-since';
/** Sparse index of sources that are parked, replaying or closing, oldest state change first. */
export const STATE_INDEX = 'state-by-since';
export const STUCK_ATTRIBUTE = 'stuck';
export const STUCK_SINCE_ATTRIBUTE = 'stuckSince';
export const LIST_STATE_ATTRIBUTE = 'listState';
export const STATE_SINCE_ATTRIBUTE = 'stateSince';

/** Both are sparse: an item appears only while it carries the index's partition key attribute. */
export const TABLE_INDEXES: readonly TableIndex[] = [
  // Failing heads, oldest failure first (src/adapters/progress-ledger.ts writes stuck/stuckSince).
  { name: STUCK_INDEX, partitionKey: { name: STUCK_ATTRIBUTE, type: 'S' }, sortKey: { name: STUCK_SINCE_ATTRIBUTE, type: 'N' }, projection: 'ALL' },
  // Parked, replaying and closing sources, oldest state change first (src/adapters/source-control.ts).
  { name: STATE_INDEX, partitionKey: { name: LIST_STATE_ATTRIBUTE, type: 'S' }, sortKey: { name: STATE_SINCE_ATTRIBUTE, type: 'N' }, projection: 'ALL' },
];

/** The CreateTable request for the table and every index, without the table's name. */
export function createTableRequest(): Omit<CreateTableCommandInput, 'TableName'> {
  const attributes = new Map<string, KeyAttributeType>();
  for (const a of [TABLE_KEY.partitionKey, TABLE_KEY.sortKey, ...TABLE_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    const seen = attributes.get(a.name);
    if (seen !== undefined && seen !== a.type) throw new Error(`table attribute ${a.name} is declared both ${seen} and ${a.type}`);
    attributes.set(a.name, a.type);
  }
  return {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: [
      { AttributeName: TABLE_KEY.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: TABLE_KEY.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: i.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: i.projection },
    })),
  };
}
