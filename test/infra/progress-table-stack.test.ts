import { Match } from 'aws-cdk-lib/assertions';
import { resourcesOf, synthRelayApp } from './synth-relay-app';

describe('progress table stack', () => {
  it('is one global table in its home region with a replica in every replica region', () => {
    const relay = synthRelayApp({ regions: 'us-east-1,eu-west-1,ap-southeast-2', tableRegion: 'eu-west-1', replicaRegions: 'us-east-1,ap-southeast-2' });
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
        // On from the start: CloudFormation cannot switch a stream on in the update that adds a replica.
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        Replicas: [Match.objectLike({ Region: 'us-east-1', DeletionProtectionEnabled: true })],
      }),
    });
  });

  it('deploys before every region\'s service stack, which reaches its local replica by name', () => {
    const relay = synthRelayApp({ regions: 'us-east-1,eu-west-1', tableRegion: 'us-east-1', replicaRegions: 'eu-west-1' });
    expect(relay.stacks.services.map((s) => s.region)).toEqual(['us-east-1', 'eu-west-1']);
    for (const s of relay.stacks.services) {
      expect(s.dependencies).toContain(relay.stacks.table);
      const ledger = JSON.stringify(relay.services.get(s.region)!.toJSON());
      expect(ledger).toContain(`:dynamodb:${s.region}:`);
    }
  });

  it('retires a region in three deploys: service stack gone, then replica unprotected, then replica removed', () => {
    const home = { tableRegion: 'eu-west-1' };
    // 1. The region leaves `regions`: its service stack is no longer in the app, its replica stays protected.
    const step1 = synthRelayApp({ ...home, regions: 'eu-west-1', replicaRegions: 'us-east-1' });
    expect([...step1.services.keys()]).toEqual(['eu-west-1']);
    const replicas1 = step1.table.toJSON().Resources;
    const table1 = Object.values(replicas1 as Record<string, { Type: string; Properties: { Replicas: Array<Record<string, unknown>> } }>).find((r) => r.Type === 'AWS::DynamoDB::GlobalTable')!;
    expect(table1.Properties.Replicas.find((r) => r.Region === 'us-east-1')).toMatchObject({ DeletionProtectionEnabled: true });
    // 2. Deletion protection off on that replica only.
    const step2 = synthRelayApp({ ...home, regions: 'eu-west-1', replicaRegions: 'us-east-1', unprotectedReplicaRegions: 'us-east-1' });
    step2.table.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([
        Match.objectLike({ Region: 'us-east-1', DeletionProtectionEnabled: false }),
        Match.objectLike({ Region: 'eu-west-1', DeletionProtectionEnabled: true }),
      ]),
    });
    // 3. The replica leaves replicaRegions; the recorded deployed set proves it is the only change.
    const step3 = synthRelayApp({ ...home, regions: 'eu-west-1', deployedReplicaRegions: 'us-east-1' });
    step3.table.hasResourceProperties('AWS::DynamoDB::GlobalTable', { Replicas: [Match.objectLike({ Region: 'eu-west-1' })] });
  });
});
