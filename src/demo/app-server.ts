import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the demo app received, as a checker that knows nothing of the relay sees it. */
export interface DeliveryRecord {
  sourceId: string;
  seq: string;
  idempotencyKey: string;
  attempt: number;
  messageId: string;
  contentType: string;
  status: number;
  at: number;
  body?: string;
}

export interface DemoAppBehaviour {
  /** Added to every answer, in ms. */
  latencyMs: number;
  /** Share of requests answered 503, 0..1. */
  failRate: number;
  /** Share of requests answered only after slowMs, 0..1. */
  slowRate: number;
  slowMs: number;
  /** While true every request gets 503: the app is "down". */
  down: boolean;
  /** Sent with every failure when set. */
  retryAfterSeconds?: number;
  /** Idempotency keys the app refuses with 422 (a "poison" message) until they are taken out. */
  rejectKeys: string[];
  /** What "down" answers: 503 unless set (429 for a throttling app). */
  downStatus?: number;
}

export interface DemoAppOptions extends Partial<DemoAppBehaviour> {
  port?: number;
  host?: string;
  /** When set, requests without exactly this Authorization header get 401. */
  expectedAuth?: string;
  /** Append every record as a JSON line (for checkers in other processes). */
  recordFile?: string;
  keepBodies?: boolean;
  random?: () => number;
}

export interface DemoApp {
  url: string;
  port: number;
  records: DeliveryRecord[];
  behaviour: DemoAppBehaviour;
  close(): Promise<void>;
}

const header = (req: IncomingMessage, name: string): string => {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stand-in for the team's app: slow or failing on demand, and a faithful recorder. */
export async function startDemoApp(opts: DemoAppOptions = {}): Promise<DemoApp> {
  const random = opts.random ?? Math.random;
  const behaviour: DemoAppBehaviour = {
    latencyMs: opts.latencyMs ?? 0,
    failRate: opts.failRate ?? 0,
    slowRate: opts.slowRate ?? 0,
    slowMs: opts.slowMs ?? 0,
    down: opts.down ?? false,
    rejectKeys: opts.rejectKeys ?? [],
    ...(opts.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: opts.retryAfterSeconds }),
  };
  const records: DeliveryRecord[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return res.writeHead(200).end('ok');
    if (req.method === 'GET' && path === '/__records') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(records));
    }
    if (req.method === 'POST' && path === '/__behaviour') {
      Object.assign(behaviour, JSON.parse(body || '{}') as Partial<DemoAppBehaviour>);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(behaviour));
    }
    if (req.method !== 'POST') return res.writeHead(405).end();
    if (opts.expectedAuth !== undefined && header(req, 'authorization') !== opts.expectedAuth) return res.writeHead(401).end('bad credentials');

    let delay = behaviour.latencyMs;
    if (behaviour.slowRate > 0 && random() < behaviour.slowRate) delay += behaviour.slowMs;
    if (delay > 0) await sleep(delay);
    const rejected = behaviour.rejectKeys.includes(header(req, 'idempotency-key'));
    const status = rejected ? 422 : behaviour.down ? (behaviour.downStatus ?? 503) : behaviour.failRate > 0 && random() < behaviour.failRate ? 503 : 200;
    const record: DeliveryRecord = {
      sourceId: header(req, 'x-source-id'),
      seq: header(req, 'x-sequence'),
      idempotencyKey: header(req, 'idempotency-key'),
      attempt: Number(header(req, 'x-attempt')),
      messageId: header(req, 'x-message-id'),
      contentType: header(req, 'content-type'),
      status,
      at: Date.now(),
      ...(opts.keepBodies ? { body } : {}),
    };
    // Recorded before answering: a success the relay never hears of still counts as received here.
    records.push(record);
    if (opts.recordFile) appendFileSync(opts.recordFile, `${JSON.stringify(record)}\n`);
    if (status !== 200 && !rejected && behaviour.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(behaviour.retryAfterSeconds));
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : rejected ? 'rejected: the app cannot process this message' : 'try again later');
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(err.message);
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  return {
    url: `http://${host}:${port}/`,
    port,
    records,
    behaviour,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (require.main === module) {
  const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
  startDemoApp({
    port: num('DEMO_APP_PORT', 8080),
    host: process.env.DEMO_APP_HOST ?? '0.0.0.0',
    latencyMs: num('DEMO_LATENCY_MS', 0),
    failRate: num('DEMO_FAIL_RATE', 0),
    slowRate: num('DEMO_SLOW_RATE', 0),
    slowMs: num('DEMO_SLOW_MS', 0),
    ...(process.env.DEMO_AUTH_HEADER ? { expectedAuth: process.env.DEMO_AUTH_HEADER } : {}),
    ...(process.env.DEMO_RECORD_FILE ? { recordFile: process.env.DEMO_RECORD_FILE } : {}),
  })
    .then((app) => {
      process.stdout.write(`${JSON.stringify({ event: 'demo_app_listening', port: app.port })}\n`);
      const stop = () => app.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    })
    .catch((err: Error) => {
      process.stderr.write(`demo app: ${err.message}\n`);
      process.exit(1);
    });
}
