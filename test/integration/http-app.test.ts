import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpApp } from '../../src/adapters/http-app';
import { parseMessage } from '../../src/core/message';

const parsed = parseMessage(
  {
    MessageId: 'mid-1',
    ReceiptHandle: 'rh',
    Body: '{"x":"é"}',
    Attributes: { MessageGroupId: 'src', SequenceNumber: '12' },
    MessageAttributes: { seq: { DataType: 'Number', StringValue: '7' } },
  },
  'arn',
);
if (!parsed.ok) throw new Error('fixture must parse');
const message = parsed.message;

describe('HttpApp against a real local HTTP server', () => {
  let server: Server;
  let url: string;
  let handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops`;
  });
  afterAll(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));

  const never = new AbortController().signal;

  it('sends the contract headers and the body, and a 2xx is success', async () => {
    let seen: { headers: import('node:http').IncomingHttpHeaders; body: string; method?: string } | undefined;
    handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), method: req.method };
        res.writeHead(204).end();
      });
    };
    const out = await new HttpApp({ targetUrl: url, timeoutMs: 2000, authHeader: 'Bearer k' }).deliver(message, 3, never);
    expect(out).toMatchObject({ kind: 'success', status: 204 });
    expect(seen?.method).toBe('POST');
    expect(seen?.body).toBe('{"x":"é"}');
    expect(seen?.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'src:7',
      'x-source-id': 'src',
      'x-message-id': 'mid-1',
      'x-sequence': '7',
      'x-attempt': '3',
      authorization: 'Bearer k',
    });
  });

  it('a 2xx whose body is still arriving when the timeout hits is a success, not a retry', async () => {
    handler = (req, res) => {
      req.resume();
      res.writeHead(200);
      res.write('ok');
      setTimeout(() => res.end(), 600);
    };
    expect((await new HttpApp({ targetUrl: url, timeoutMs: 200 }).deliver(message, 1, never)).kind).toBe('success');
  });

  it('keeps only the start of an error body, and reads Retry-After', async () => {
    handler = (req, res) => {
      req.resume();
      res.writeHead(503, { 'retry-after': '17' }).end(`overloaded ${'x'.repeat(100_000)}`);
    };
    const out = await new HttpApp({ targetUrl: url, timeoutMs: 2000 }).deliver(message, 1, never);
    expect(out).toMatchObject({ kind: 'http-error', status: 503, retryAfterSeconds: 17 });
    expect(out.kind === 'http-error' && out.detail.length).toBeLessThanOrEqual('HTTP 503: '.length + 300);
    expect(out.kind === 'http-error' && out.detail).toMatch(/^HTTP 503: overloaded x+$/);
  });

  it('classifies a timeout, a shutdown abort and a refused connection', async () => {
    handler = (req) => req.resume();
    expect((await new HttpApp({ targetUrl: url, timeoutMs: 150 }).deliver(message, 1, never)).kind).toBe('timeout');
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    expect((await new HttpApp({ targetUrl: url, timeoutMs: 5000 }).deliver(message, 1, stop.signal)).kind).toBe('aborted');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await new HttpApp({ targetUrl: `http://127.0.0.1:${port}/`, timeoutMs: 2000 }).deliver(message, 1, never);
    expect(refused).toMatchObject({ kind: 'network-error', detail: expect.stringContaining('ECONNREFUSED') });
  });

  it('does not follow a redirect: a 3xx is a failure', async () => {
    handler = (req, res) => {
      req.resume();
      res.writeHead(302, { location: 'http://elsewhere.invalid/' }).end();
    };
    expect(await new HttpApp({ targetUrl: url, timeoutMs: 2000 }).deliver(message, 1, never)).toMatchObject({ kind: 'http-error', status: 302 });
  });
});
