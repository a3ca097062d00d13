import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

/** The sparse index the operator's `status` command lists failing sources from. */
export const STUCK_INDEX_NAME = 'stuck-by-since';
/** Sparse index of parked, replaying and closing sources (src/adapters/source-control.ts). */
export const STATE_INDEX_NAME = 'state-by-since';

export interface ProgressTableStackProps extends StackProps {
  tableName: string;
  /** Regions other than this stack's own that get a replica. */
  replicaRegions: string[];
}

/**
 * The progress ledger, one global table for every region's worker service. It has no TTL and
 * the worker uses no transactions, so it can later move to multi-region strong consistency.
 */
export class ProgressTableStack extends Stack {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ProgressTableStackProps) {
    super(scope, id, props);
    this.table = new dynamodb.TableV2(this, 'ProgressTable', {
      tableName: props.tableName,
      // One item collection per source (ledger, journal, audit): see src/adapters/table-keys.ts.
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      globalSecondaryIndexes: [
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
      ],
      replicas: props.replicaRegions.map((region) => ({ region })),
      // Losing the ledger would let redelivered messages reach the app again.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
