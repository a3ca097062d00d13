import { Match } from 'aws-cdk-lib/assertions';
import { resourcesOf, synthRelayApp } from './synth-relay-app';

describe('progress table stack', () => {
  it('is one global table in the first region with a replica in every other region', () => {
    const relay = synthRelayApp({ regions: 'eu-west-1,us-east-1,ap-southeast-2' });
    expect(relay.stacks.table.region).toBe('eu-west-1');
    const tables = Object.values(resourcesOf(relay.table, 'AWS::DynamoDB::GlobalTable'));
    expect(tables).toHaveLength(1);
    const props = tables[0]!.Properties!;
    const replicas = props.Replicas as Array<Record<string, unknown>>;
    expect(replicas.map((r) => r.Region).sort()).toEqual(['ap-southeast-2', 'eu-west-1', 'us-east-1']);
    for (const r of replicas) {
      expect(r.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(r.DeletionProtectionEnabled).toBe(true);
    }
    // No other region's stack creates a table of its own.
    for (const t of relay.services.values()) {
      expect(Object.keys(resourcesOf(t, 'AWS::DynamoDB::GlobalTable'))).toHaveLength(0);
      expect(Object.keys(resourcesOf(t, 'AWS::DynamoDB::Table'))).toHaveLength(0);
    }
  });

  it('has the ledger schema the worker expects: pk + sk key, on-demand, sparse stuck-by-since and state-by-since indexes, no TTL', () => {
    const { table } = synthRelayApp({ regions: 'us-east-1' });
    table.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'fifo-relay-progress',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'stuck-by-since',
            KeySchema: [
              { AttributeName: 'stuck', KeyType: 'HASH' },
              { AttributeName: 'stuckSince', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'state-by-since',
            KeySchema: [
              { AttributeName: 'listState', KeyType: 'HASH' },
              { AttributeName: 'stateSince', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        TimeToLiveSpecification: Match.absent(),
        Replicas: [Match.objectLike({ Region: 'us-east-1', DeletionProtectionEnabled: true })],
      }),
    });
  });

  it('deploys before every region\'s service stack, which reaches its local replica by name', () => {
    const relay = synthRelayApp({ regions: 'us-east-1,eu-west-1' });
    expect(relay.stacks.services.map((s) => s.region)).toEqual(['us-east-1', 'eu-west-1']);
    for (const s of relay.stacks.services) {
      expect(s.dependencies).toContain(relay.stacks.table);
      const ledger = JSON.stringify(relay.services.get(s.region)!.toJSON());
      expect(ledger).toContain(`:dynamodb:${s.region}:`);
    }
  });
});
