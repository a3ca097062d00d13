import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLE_INDEXES, TABLE_KEY, type KeyAttribute, type KeyAttributeType } from '../../src/adapters/table-indexes';

const ATTRIBUTE_TYPE: Record<KeyAttributeType, dynamodb.AttributeType> = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER };
const attribute = (a: KeyAttribute): dynamodb.Attribute => ({ name: a.name, type: ATTRIBUTE_TYPE[a.type] });

/** One item collection per source (ledger, journal, audit): see src/adapters/table-keys.ts. */
export const PROGRESS_TABLE_KEYS: Pick<dynamodb.TablePropsV2, 'partitionKey' | 'sortKey'> = {
  partitionKey: attribute(TABLE_KEY.partitionKey),
  sortKey: attribute(TABLE_KEY.sortKey),
};

/** Every index of the table, from the one definition `fifo-relay setup` and the LocalStack hook also use. */
export const PROGRESS_TABLE_INDEXES: dynamodb.GlobalSecondaryIndexPropsV2[] = TABLE_INDEXES.map((i) => ({
  indexName: i.name,
  partitionKey: attribute(i.partitionKey),
  sortKey: attribute(i.sortKey),
  projectionType: dynamodb.ProjectionType.ALL,
}));

/** The policies name indexes through these. */
export const INDEX_NAMES: readonly string[] = TABLE_INDEXES.map((i) => i.name);

export interface ProgressTableStackProps extends StackProps {
  tableName: string;
  /** Regions other than this stack's own that get a replica. */
  replicaRegions: string[];
  /** Replicas being retired: deletion protection off, so the next deploy may remove them. */
  unprotectedReplicaRegions: string[];
}

/**
 * The progress ledger, one global table for every region's worker service, in the default
 * eventual-consistency mode (MREC). The worker uses no TTL and no transactions, which strong
 * consistency (MRSC) forbids, but MRSC is chosen when a table is created, on an empty table,
 * and TableV2 sets it only at creation (multiRegionConsistency, witnessRegion): moving means a
 * new table under another name, its data copied or the services drained and restarted on it.
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
