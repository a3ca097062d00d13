import { DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ensureTable } from '../../src/cli/setup';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startDynamoEmulator, type Emulator } from '../../src/dev/emulators';
import { MrecReplicator, type ReplicatorOptions } from '../../src/dev/mrec-replicator';

/** Two "regions" of one MREC global table: a DynamoDB Local each, with the replicator between them. */
export interface MrecPair {
  table: string;
  a: { name: string; endpoint: string; client: DynamoDBClient };
  b: { name: string; endpoint: string; client: DynamoDBClient };
  replicator: MrecReplicator;
  stop(): Promise<void>;
}

export async function startMrecPair(opts: { table?: string; names?: [string, string] } & Pick<ReplicatorOptions, 'delayMs' | 'pollMs' | 'random'> = {}): Promise<MrecPair> {
  const table = opts.table ?? 'fifo-relay-mrec';
  const [nameA, nameB] = opts.names ?? ['eu-west-1', 'us-east-1'];
  const emulators: Emulator[] = await Promise.all([startDynamoEmulator(), startDynamoEmulator()]);
  const clients = emulators.map((e) => new DynamoDBClient({ endpoint: e.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS }));
  const streams = emulators.map((e) => new DynamoDBStreamsClient({ endpoint: e.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS }));
  for (const c of clients) {
    await ensureTable(c, table);
    await c.send(new UpdateTableCommand({ TableName: table, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }));
  }
  const replicator = new MrecReplicator({
    table,
    regions: [
      { name: nameA, client: clients[0]!, streams: streams[0]! },
      { name: nameB, client: clients[1]!, streams: streams[1]! },
    ],
    delayMs: opts.delayMs,
    pollMs: opts.pollMs,
    random: opts.random,
  });
  await replicator.start();
  return {
    table,
    a: { name: nameA, endpoint: emulators[0]!.endpoint, client: clients[0]! },
    b: { name: nameB, endpoint: emulators[1]!.endpoint, client: clients[1]! },
    replicator,
    stop: async () => {
      await replicator.stop();
      for (const c of [...clients, ...streams]) c.destroy();
      await Promise.all(emulators.map((e) => e.stop()));
    },
  };
}
