import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freshQueueAndTable, send, waitFor, type Fixture } from '../support/fixtures';
import { envFor, startWorkerProcess, type WorkerProcess } from '../support/processes';

/**
 * An app that sends 200 headers and never ends the body on some sources, and never answers on
 * another, on more sources than MAX_CONCURRENT_SOURCES: other sources keep flowing and SIGTERM
 * still ends the process with 0.
 */
describe('a hung app never hangs the worker (real worker process, fauxqs + DynamoDB Local)', () => {
  let fx: Fixture;
  let server: Server;
  let proc: WorkerProcess | undefined;
  const okSeen: string[] = [];

  beforeAll(async () => {
    fx = await freshQueueAndTable('hang');
    server = createServer((req, res) => {
      req.resume();
      const source = String(req.headers['x-source-id']);
      if (source.startsWith('stream')) {
        res.writeHead(200);
        res.write('partial');
      } else if (source.startsWith('ok')) {
        okSeen.push(String(req.headers['x-sequence']));
        res.writeHead(200).end();
      }
      // mute-*: no answer at all.
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    fx.close();
  });

  it('delivers the healthy source while others stream for ever or never answer, then exits 0 on SIGTERM within the grace', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops`;
    const config = fx.config({ targetUrl: url, maxConcurrentSources: 2, appTimeoutMs: 1000, shutdownGraceSeconds: 2 });
    await send(fx.sqs, fx.queueUrl, [
      ...['stream-1', 'stream-2', 'stream-3', 'mute-1', 'mute-2'].map((sourceId) => ({ sourceId, seq: 1, body: '{}' })),
      ...[1, 2, 3].map((seq) => ({ sourceId: 'ok-1', seq, body: '{}' })),
    ]);
    proc = startWorkerProcess(envFor(config));
    await proc.started;
    await waitFor('the healthy source delivered', () => okSeen.length >= 3, 40_000, 100);
    expect(okSeen.slice(0, 3)).toEqual(['1', '2', '3']);
    proc.child.kill('SIGTERM');
    // Grace 2 s plus a generous bound for a loaded machine: before the fix it never exited.
    const exit = await Promise.race([proc.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
