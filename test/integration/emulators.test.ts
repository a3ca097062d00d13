import { existsSync } from 'node:fs';
import { startDynamoEmulator, startEmulators, type Emulator } from '../../src/dev/emulators';
import { processesMatching } from '../support/proc';

describe('startEmulators', () => {
  it('stops DynamoDB Local and removes its scratch folder when fauxqs fails to start, so the caller can exit', async () => {
    let started: Emulator | undefined;
    let port = '';
    const dynamo = async () => {
      started = await startDynamoEmulator();
      port = new URL(started.endpoint).port;
      return started;
    };
    const sqs = async () => {
      // Fail only once DynamoDB Local is up, as fauxqs on an old Node does while java still boots.
      while (!started) await new Promise((r) => setTimeout(r, 100));
      throw new Error('fauxqs exited with code 1 before listening');
    };
    await expect(startEmulators({}, { sqs, dynamo })).rejects.toThrow('fauxqs exited with code 1 before listening');
    expect(port).not.toBe('');
    const scratch = /scratch folder (\S+)\)/.exec(started?.describe ?? '')?.[1] ?? '';
    expect(scratch).toMatch(/fifo-relay-ddb-/);
    expect(processesMatching('DynamoDBLocal.jar', `-port ${port}`)).toEqual([]);
    expect(existsSync(scratch)).toBe(false);
  });
});
