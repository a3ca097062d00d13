import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ledgerKey } from '../../src/adapters/table-keys';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const PRODUCERS = 3;
const EACH = 60;
const TOTAL = PRODUCERS * EACH;

// Several producer processes on one source put their claims into SQS in whatever order their
// calls finish (one's seq 7 can follow another's seq 8); the worker must still hand the app
// 1, 2, 3, … exactly once each.
describe(`${PRODUCERS} producer processes on one source, delivered by a worker`, () => {
  let fx: Fixture;
  let relay: RunningRelay;
  let server: Server;
  const seqs: number[] = [];

  beforeAll(async () => {
    fx = await freshQueueAndTable('multi-delivery');
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seqs.push(Number(req.headers['x-sequence']));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    relay = await startTestRelay(fx.config({ targetUrl: `http://127.0.0.1:${port}/` }));
  });
  afterAll(async () => {
    await relay.stop();
    await new Promise((r) => server.close(r));
    fx.close();
  });

  it(`the app sees seqs 1..${TOTAL} in order, each once`, async () => {
    const source = 'shared-delivered';
    await Promise.all(
      Array.from({ length: PRODUCERS }, (_, i) =>
        run(process.execPath, ['--import', 'tsx', 'test/integration/producer-child.ts'], {
          cwd: root,
          env: { ...process.env, QUEUE_URL: fx.queueUrl, PROGRESS_TABLE: fx.table, PRODUCER_NAME: `p${i}`, SOURCE: source, COUNT: String(EACH) },
        }),
      ),
    );
    const position = async () => (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey(source), ConsistentRead: true }))).Item?.producerSeq?.N;
    await waitFor(`position ${TOTAL} and the queue empty`, async () => (await position()) === String(TOTAL) && (await messagesLeft(fx)) === 0, 120_000);
    expect(seqs).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
  }, 300_000);
});
