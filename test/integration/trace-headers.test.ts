import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context reaches the app (fauxqs + DynamoDB Local)', () => {
  let fx: Fixture;
  let relay: RunningRelay | undefined;
  let server: Server;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    fx = await freshQueueAndTable('trace');
    server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await relay?.stop(1000);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fx.close();
  });

  it('sends the traceparent and tracestate message attributes as headers; none when the message has none', async () => {
    await send(fx.sqs, fx.queueUrl, [
      { sourceId: 'traced', seq: 1, body: '{}', extraAttributes: { traceparent: { DataType: 'String', StringValue: TP }, tracestate: { DataType: 'String', StringValue: 'vendor=x' } } },
      { sourceId: 'plain', seq: 1, body: '{}' },
    ]);
    relay = await startTestRelay(fx.config({ targetUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }));
    await waitFor('both delivered', () => seen.length >= 2);
    const traced = seen.find((h) => h['x-source-id'] === 'traced');
    const plain = seen.find((h) => h['x-source-id'] === 'plain');
    expect(traced).toMatchObject({ traceparent: TP, tracestate: 'vendor=x' });
    expect(plain?.traceparent).toBeUndefined();
    expect(plain?.['x-amzn-trace-id']).toBeUndefined();
  });
});
