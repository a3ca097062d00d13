import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Worker } from '../worker/worker';

export interface ObservabilityServer {
  port: number;
  close(): Promise<void>;
}

export interface ObservabilityOptions {
  port: number;
  registry: Registry;
  worker: Worker;
  /** Ready once start-up checks passed; false again while stopping so no new traffic is routed. */
  isReady(): boolean;
  /** False when the loop holds work but makes no progress (a stuck-loop watchdog); absent means always live. */
  isLive?(): boolean;
}

function json(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** /metrics, /healthz, /readyz and /status on one small port. */
export async function startObservabilityServer(opts: ObservabilityOptions): Promise<ObservabilityServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
    switch (path) {
      case '/metrics':
        opts.registry
          .metrics()
          .then((text) => {
            res.writeHead(200, { 'content-type': opts.registry.contentType });
            res.end(text);
          })
          .catch((err: Error) => json(res, 500, { error: err.message }));
        return;
      case '/healthz': {
        const live = opts.isLive?.() ?? true;
        return json(res, live ? 200 : 503, { status: live ? 'ok' : 'stuck: holding messages with no progress' });
      }
      case '/readyz': {
        const ready = opts.isReady();
        if (!ready) return json(res, 503, { status: 'not ready' });
        // The app being down is not the task's fault: restarting tasks would not help, so say it and stay ready.
        const breaker = opts.worker.flowStatus().state;
        return json(res, 200, breaker === 'closed' ? { status: 'ready' } : { status: 'degraded', breaker });
      }
      case '/status':
        return json(res, 200, { ...opts.worker.stats(), flow: opts.worker.flowStatus(), retrying: opts.worker.retryingHeads() });
      default:
        return json(res, 404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz', '/status'] });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
