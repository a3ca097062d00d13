import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Benchmarks and tests only: network delay between a worker and an emulator. */
export interface DelayProxy {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * A forwarding HTTP proxy that adds a round trip to calls: half the delay before the request goes
 * on, half before the answer comes back, as a network between a task and an AWS endpoint would.
 * `roundTripMs` may depend on the request (e.g. its X-Amz-Target). A request whose caller hung up
 * while it waited is never forwarded, as a packet from a killed process never arrives.
 */
export async function startDelayProxy(target: string, roundTripMs: number | ((req: IncomingMessage) => number)): Promise<DelayProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const server: Server = createServer((req, res) => {
    const half = (typeof roundTripMs === 'number' ? roundTripMs : roundTripMs(req)) / 2;
    let gone = false;
    res.on('close', () => (gone = !res.writableFinished));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void wait(half).then(() => {
        if (gone) return;
        const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host }, agent }, (answer) => {
          const back: Buffer[] = [];
          answer.on('data', (c: Buffer) => back.push(c));
          answer.on('end', () => {
            void wait(half).then(() => {
              if (gone) return;
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(back));
            });
          });
        });
        out.on('error', (err) => {
          if (gone) return;
          res.writeHead(502);
          res.end(String(err));
        });
        out.end(Buffer.concat(chunks));
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
