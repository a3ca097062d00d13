import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Worker } from '../worker/worker';
import { renderStatusPage, STATUS_PAGE_CSP } from './status-page';
import { renderSourcePage } from './status-source-page';
import type { StatusService } from './status-view';

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
  /** The cross-task status (JSON and page); without it /status shows this task only. */
  status?: StatusService;
}

/** A browser asks for text/html first; curl, scrapers and scripts get JSON. */
export function wantsHtml(accept: string | undefined): boolean {
  const html = (accept ?? '').indexOf('text/html');
  const json = (accept ?? '').indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}

function json(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** /metrics, /healthz, /readyz, /status (JSON or HTML) and /status.html on one small port. */
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
        // The cross-task condition comes from the last table read: a probe never reads the table itself.
        const breaker = opts.worker.flowStatus().state;
        const app = opts.status?.appCondition();
        if (breaker === 'closed' && app?.state !== 'down') return json(res, 200, { status: 'ready' });
        return json(res, 200, { status: 'degraded', breaker, ...(app?.state === 'down' ? { app: app.summary } : {}) });
      }
      case '/status':
      case '/status.html': {
        const service = opts.status;
        if (!service) return json(res, 200, { ...opts.worker.stats(), flow: opts.worker.flowStatus(), retrying: opts.worker.retryingHeads() });
        const html = path === '/status.html' || wantsHtml(req.headers.accept);
        const sourceId = new URL(req.url ?? '/', 'http://x').searchParams.get('source');
        const rendered: Promise<[number, unknown, () => string]> =
          sourceId === null
            ? service.view().then((view) => [200, view, () => renderStatusPage(view)])
            : service.source(sourceId).then((view) => [view.story || view.error ? 200 : 404, view, () => renderSourcePage(view)]);
        rendered
          .then(([code, view, render]) => {
            if (!html) return json(res, code, view);
            res.writeHead(code, {
              'content-type': 'text/html; charset=utf-8',
              'content-security-policy': STATUS_PAGE_CSP,
              'x-content-type-options': 'nosniff',
              'cache-control': 'no-store',
              vary: 'accept',
            });
            res.end(render());
          })
          .catch((err: Error) => json(res, 500, { error: err.message }));
        return;
      }
      default:
        return json(res, 404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz', '/status', '/status.html'] });
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
