import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getEventListeners } from 'node:events';
import { HttpApp } from '../../src/adapters/http-app';
import { parseMessage } from '../../src/core/message';

const parsed = parseMessage(
  { MessageId: 'mid-1', ReceiptHandle: 'rh', Body: '{}', Attributes: { MessageGroupId: 'src', SequenceNumber: '12' } },
  'arn@1',
);
if (!parsed.ok) throw new Error('fixture must parse');
const message = parsed.message;

/** Every app call ends on its own deadline, whatever the app does, and leaves nothing behind. */
describe('HttpApp: no call outlives APP_TIMEOUT_MS (real local HTTP server)', () => {
  let server: Server;
  let url: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  const open = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      open.add(res);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops`;
  });
  afterAll(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));

  const never = new AbortController().signal;

  it('a 2xx whose body never ends is a success at the deadline, and its socket is closed then, not left in the pool', async () => {
    handler = (req, res) => {
      req.resume();
      res.writeHead(200);
      res.write('streaming');
    };
    // Two sockets at most, as with MAX_CONCURRENT_SOURCES=2: the second round would queue for ever behind open bodies.
    const app = new HttpApp({ targetUrl: url, timeoutMs: 1000, maxSockets: 2 });
    const first = await Promise.all([1, 2].map(() => app.deliver(message, 1, never)));
    const second = await Promise.all([3, 4].map(() => app.deliver(message, 1, never)));
    expect([...first, ...second].map((o) => o.kind)).toEqual(['success', 'success', 'success', 'success']);
    app.close();
  }, 15_000);

  it('calls that wait for a socket behind apps that never answer end on their own deadline', async () => {
    handler = (req) => req.resume();
    const app = new HttpApp({ targetUrl: url, timeoutMs: 300, maxSockets: 2 });
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => app.deliver(message, 1, never)));
    expect(outcomes.map((o) => o.kind)).toEqual(['timeout', 'timeout', 'timeout', 'timeout', 'timeout']);
    app.close();
  });

  it('a shutdown abort ends a call that is waiting for a socket', async () => {
    handler = (req) => req.resume();
    const app = new HttpApp({ targetUrl: url, timeoutMs: 60_000, maxSockets: 1 });
    const stop = new AbortController();
    const calls = [app.deliver(message, 1, stop.signal), app.deliver(message, 1, stop.signal)];
    setTimeout(() => stop.abort(), 200);
    expect((await Promise.all(calls)).map((o) => o.kind)).toEqual(['aborted', 'aborted']);
    app.close();
  });

  it('a header value node refuses is a network-error outcome, never a rejection, and leaves no listener on the signal', async () => {
    handler = (req, res) => (req.resume(), res.writeHead(200).end());
    const app = new HttpApp({ targetUrl: url, timeoutMs: 1000, authHeader: 'Bearer secret\n' });
    const stop = new AbortController();
    const before = getEventListeners(stop.signal, 'abort').length;
    const out = await app.deliver(message, 1, stop.signal);
    expect(out).toMatchObject({ kind: 'network-error' });
    expect(out.kind === 'network-error' && out.detail).not.toContain('secret');
    expect(getEventListeners(stop.signal, 'abort').length).toBe(before);
    app.close();
  });
});
