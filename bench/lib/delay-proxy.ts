import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * A forwarding HTTP proxy that adds a round trip to every call: half the delay before the request
 * goes on, half before the answer comes back, as a network between a task and an AWS endpoint
 * would. A long poll answered at once by a message arriving still pays the way back.
 */
export async function startDelayProxy(target: string, roundTripMs: number): Promise<DelayProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const half = roundTripMs / 2;
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void wait(half).then(() => {
        const out = request(
          { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host }, agent },
          (answer) => {
            const back: Buffer[] = [];
            answer.on('data', (c: Buffer) => back.push(c));
            answer.on('end', () => {
              void wait(half).then(() => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                res.end(Buffer.concat(back));
              });
            });
          },
        );
        out.on('error', (err) => {
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
