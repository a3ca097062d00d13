import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

/** The sparse index the operator's `status` command lists failing sources from. */
export const STUCK_INDEX_NAME = 'stuck-by-since';
/** Sparse index of parked, replaying and closing sources (src/adapters/source-control.ts). */
export const STATE_INDEX_NAME = 'state-by-since';

/** One item collection per source (ledger, journal, audit): see src/adapters/table-keys.ts. */
export const PROGRESS_TABLE_KEYS: Pick<dynamodb.TablePropsV2, 'partitionKey' | 'sortKey'> = {
  partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
};

/**
 * Every index of the table, one entry each. All are sparse (only items that carry the key
 * attribute appear) and project what the operator's listing prints. Add new ones here; the
 * worker and operator policies name indexes through `indexArn`.
 */
export const PROGRESS_TABLE_INDEXES: dynamodb.GlobalSecondaryIndexPropsV2[] = [
  {
    indexName: STUCK_INDEX_NAME,
    partitionKey: { name: 'stuck', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'stuckSince', type: dynamodb.AttributeType.NUMBER },
    projectionType: dynamodb.ProjectionType.ALL,
  },
  {
    indexName: STATE_INDEX_NAME,
    partitionKey: { name: 'listState', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'stateSince', type: dynamodb.AttributeType.NUMBER },
    projectionType: dynamodb.ProjectionType.ALL,
  },
];

export interface ProgressTableStackProps extends StackProps {
  tableName: string;
  /** Regions other than this stack's own that get a replica. */
  replicaRegions: string[];
  /** Replicas being retired: deletion protection off, so the next deploy may remove them. */
  unprotectedReplicaRegions: string[];
}

/**
 * The progress ledger, one global table for every region's worker service. It has no TTL and
 * the worker uses no transactions, so it can later move to multi-region strong consistency.
 */
export class ProgressTableStack extends Stack {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ProgressTableStackProps) {
    super(scope, id, props);
    const unprotected = new Set(props.unprotectedReplicaRegions);
    this.table = new dynamodb.TableV2(this, 'ProgressTable', {
      tableName: props.tableName,
      ...PROGRESS_TABLE_KEYS,
      billing: dynamodb.Billing.onDemand(),
      globalSecondaryIndexes: PROGRESS_TABLE_INDEXES,
      // Always on, even with one region: CloudFormation only lets a stream be switched on in an
      // update that leaves a single replica, so adding the first replica later would fail.
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      replicas: props.replicaRegions.map((region) => (unprotected.has(region) ? { region, deletionProtection: false } : { region })),
      // Losing the ledger would let redelivered messages reach the app again.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
