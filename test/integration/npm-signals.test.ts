import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { EMULATOR_REGION } from '../../src/dev/emulators';
import { endpoints, freshQueueAndTable, type Fixture } from '../support/fixtures';
import { descendants, stillRunning } from '../support/process-tree';

const root = resolve(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `npm run <script> -- args` in a process group of its own, as a terminal starts it. */
function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitFor = async (re: RegExp, ms = 60_000): Promise<void> => {
    for (let t = 0; t < ms && !re.test(text); t += 100) {
      if (child.exitCode !== null) throw new Error(`npm run ${script} ended before ${re}:\n${text}`);
      await sleep(100);
    }
    if (!re.test(text)) throw new Error(`no ${re} within ${ms} ms:\n${text}`);
  };
  return { child, output: () => text, exited, waitFor };
}

/** Waits (generously) until none of the pids runs; returns those still running. */
async function left(pids: number[]): Promise<Array<{ pid: number; cmd: string }>> {
  for (let i = 0; i < 300 && stillRunning(pids).length > 0; i++) await sleep(100);
  return stillRunning(pids);
}

describe('a signal to an npm script stops everything it started', () => {
  let fx: Fixture;
  let workerEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    fx = await freshQueueAndTable('npm-signals');
    const { sqs, ddb } = endpoints();
    workerEnv = {
      QUEUE_URL: fx.queueUrl,
      PROGRESS_TABLE: fx.table,
      TARGET_URL: 'http://127.0.0.1:9/',
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: 'fifoRelayLocal',
      AWS_SECRET_ACCESS_KEY: 'fifoRelayLocal',
      AWS_ENDPOINT_URL_SQS: sqs,
      AWS_ENDPOINT_URL_DYNAMODB: ddb,
      HTTP_PORT: '0',
      RECEIVE_WAIT_SECONDS: '1',
    };
  });
  afterAll(() => fx.close());

  const kill = (pid: number, signal: NodeJS.Signals, group: boolean) => {
    try {
      process.kill(group ? -pid : pid, signal);
    } catch {
      // already gone
    }
  };

  async function stopsEverything(script: string, args: string[], ready: RegExp, signal: NodeJS.Signals, group: boolean, env: NodeJS.ProcessEnv = {}) {
    const run = npmRun(script, args, env);
    const pid = run.child.pid ?? 0;
    let tree: Array<{ pid: number; cmd: string }> = [];
    try {
      await run.waitFor(ready);
      tree = descendants(pid);
      expect(tree.length).toBeGreaterThan(0);
      kill(pid, signal, group);
      const ended = await Promise.race([run.exited.then(() => true), sleep(60_000).then(() => false)]);
      expect({ npmExited: ended, tree: ended ? [] : stillRunning(tree.map((p) => p.pid)) }).toEqual({ npmExited: true, tree: [] });
      const remaining = await left(tree.map((p) => p.pid));
      expect(remaining).toEqual([]);
    } finally {
      for (const p of stillRunning(tree.map((t) => t.pid))) kill(p.pid, 'SIGKILL', false);
      if (run.child.exitCode === null) kill(pid, 'SIGKILL', true);
    }
    return run.output();
  }

  it('npm run dev: SIGTERM to npm alone stops the worker gracefully and leaves no process behind', async () => {
    const out = await stopsEverything('dev', [], /"event":"started"/, 'SIGTERM', false, workerEnv);
    expect(out).toContain('"msg":"graceful stop"');
    expect(out).toContain('"msg":"stopped"');
  }, 120_000);

  it('npm run dev: SIGINT to npm alone does the same', async () => {
    const out = await stopsEverything('dev', [], /"event":"started"/, 'SIGINT', false, workerEnv);
    expect(out).toContain('"msg":"stopped"');
  }, 120_000);

  it('npm run dev: Ctrl-C (SIGINT to the whole group) leaves no process behind', async () => {
    await stopsEverything('dev', [], /"event":"started"/, 'SIGINT', true, workerEnv);
  }, 120_000);

  it('npm run emulators: SIGTERM to npm alone stops both emulators', async () => {
    const out = await stopsEverything('emulators', ['--queue', `npm-sig-${Date.now()}.fifo`], /emulators running; Ctrl-C stops them/, 'SIGTERM', false);
    expect(out).toMatch(/stopped fauxqs .* and DynamoDB Local/);
  }, 120_000);

  it('npm run cli -- emulators: SIGINT to npm alone stops both emulators', async () => {
    await stopsEverything('cli', ['emulators', '--queue', `npm-cli-${Date.now()}.fifo`], /emulators running; Ctrl-C stops them/, 'SIGINT', false);
  }, 120_000);

  it('npm run demo: SIGTERM to npm alone stops the workers, the app and both emulators', async () => {
    const out = await stopsEverything('demo', ['--messages', '20000', '--sources', '20', '--workers', '2', '--fail-rate', '0'], /delivered \d+\/20000/, 'SIGTERM', false);
    expect(out).toMatch(/SIGTERM: stopping every child process/);
  }, 180_000);
});
