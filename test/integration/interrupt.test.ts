import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { startCliGroup } from '../support/detached';
import { processesMatching } from '../support/proc';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The java of DynamoDB Local on this port and its scratch folder (its working directory). */
function dynamoLocal(port: string) {
  return processesMatching('DynamoDBLocal.jar', `-port ${port}`).filter((p) => p.cmd.startsWith('java '));
}

/** Waits until nothing matches: the wrapper shell stops java after its parent is gone. */
async function gone(check: () => unknown[]): Promise<unknown[]> {
  for (let i = 0; i < 100 && check().length > 0; i++) await sleep(100);
  return check();
}

describe('a signal to the whole process group (Ctrl-C in a terminal)', () => {
  it('SIGINT on the demo stops the workers and both emulators, removes its folders and says so', async () => {
    const demo = startCliGroup(['demo', '--messages', '20000', '--sources', '20', '--workers', '1', '--fail-rate', '0']);
    try {
      const [, logDir] = await demo.waitFor(/logs in (\S+)\/workers\.log/);
      const [, ddbPort] = await demo.waitFor(/DynamoDB http:\/\/127\.0\.0\.1:(\d+)/);
      await demo.waitFor(/delivered \d+\/20000/);
      const java = dynamoLocal(ddbPort ?? '');
      expect(java).toHaveLength(1);
      const scratch = java[0]?.cwd ?? '';
      expect(existsSync(scratch)).toBe(true);

      process.kill(-(demo.child.pid ?? 0), 'SIGINT');
      const { code } = await demo.exited;

      expect(code).toBe(130);
      expect(demo.output()).toMatch(/SIGINT: stopping every child process/);
      expect(demo.output()).toContain(`removed ${logDir}`);
      expect(await gone(() => dynamoLocal(ddbPort ?? ''))).toEqual([]);
      expect(processesMatching('DynamoDBLocal.jar', `-port ${ddbPort}`)).toEqual([]);
      expect(existsSync(scratch)).toBe(false);
      expect(existsSync(logDir ?? '')).toBe(false);
    } finally {
      if (demo.child.exitCode === null) process.kill(-(demo.child.pid ?? 0), 'SIGKILL');
    }
  }, 120_000);

  it('npm run emulators prints a working environment, and SIGTERM stops both emulators', async () => {
    const emu = startCliGroup(['emulators', '--queue', `dev-${Date.now()}.fifo`]);
    try {
      await emu.waitFor(/emulators running; Ctrl-C stops them/);
      const env: Record<string, string> = {};
      for (const [, k, v] of emu.output().matchAll(/^export (\w+)=(\S+)/gm)) env[k ?? ''] = v ?? '';
      expect(Object.keys(env)).toEqual(expect.arrayContaining(['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_DYNAMODB', 'QUEUE_URL', 'PROGRESS_TABLE']));
      const ddbPort = new URL(env.AWS_ENDPOINT_URL_DYNAMODB ?? '').port;

      // Only what was printed: none of the test run's own emulator variables leak in.
      const clean = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
      const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: clean });
      expect((await cli(['send', '--source', 'a', '--count', '3'])).stdout).toContain('sent 3 message(s) for source a, seq 1..3');
      expect((await cli(['status'])).stdout).toContain('0 stuck, 0 retrying, 0 parked, 0 replaying');

      process.kill(-(emu.child.pid ?? 0), 'SIGTERM');
      const { code } = await emu.exited;
      expect(code).toBe(143);
      expect(emu.output()).toMatch(/SIGTERM: stopping every child process/);
      expect(emu.output()).toMatch(/stopped fauxqs .* and DynamoDB Local/);
      expect(await gone(() => processesMatching('DynamoDBLocal.jar', `-port ${ddbPort}`))).toEqual([]);
    } finally {
      if (emu.child.exitCode === null) process.kill(-(emu.child.pid ?? 0), 'SIGKILL');
    }
  }, 120_000);
});
