import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { idempotencyKey, type RelayMessage } from '../core/message';
import { parseRetryAfter } from '../core/retry-policy';

export type DeliveryOutcome =
  | { kind: 'success'; status: number; durationMs: number }
  | { kind: 'http-error'; status: number; durationMs: number; retryAfterSeconds?: number; detail: string }
  | { kind: 'timeout'; durationMs: number; detail: string }
  | { kind: 'network-error'; durationMs: number; detail: string }
  /** The worker itself cut the call short (shutdown past its grace). */
  | { kind: 'aborted'; durationMs: number; detail: string };

/** The app as the worker sees it: one message in, one classified outcome out, never a throw. */
export interface AppPort {
  deliver(message: RelayMessage, attempt: number, signal: AbortSignal): Promise<DeliveryOutcome>;
}

export interface HttpAppOptions {
  targetUrl: string;
  timeoutMs: number;
  /** Sent as Authorization when non-empty; never logged. */
  authHeader?: string;
  /** Keep-alive connections to the app at most; the worker passes its source bound. */
  maxSockets?: number;
  now?: () => number;
}

/** How much of an error response body to keep for logs and the stuck list. */
const DETAIL_LIMIT = 300;

export function deliveryHeaders(m: RelayMessage, attempt: number, authHeader?: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': m.contentType,
    'idempotency-key': idempotencyKey(m),
    'x-source-id': m.sourceId,
    'x-message-id': m.messageId,
    'x-sequence': m.seq.text,
    'x-attempt': String(attempt),
  };
  if (m.trace.awsTraceHeader) headers['x-amzn-trace-id'] = m.trace.awsTraceHeader;
  if (m.trace.traceparent) headers.traceparent = m.trace.traceparent;
  if (m.trace.tracestate) headers.tracestate = m.trace.tracestate;
  if (authHeader) headers.authorization = authHeader;
  return headers;
}

/**
 * node:http rather than fetch: fetch measured at about three times the CPU per call (README,
 * Choices), and the relay is CPU-bound when the app is fast.
 */
export class HttpApp implements AppPort {
  private readonly now: () => number;
  private readonly url: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly send: typeof httpRequest;

  constructor(private readonly opts: HttpAppOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.url = new URL(opts.targetUrl);
    const https = this.url.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: opts.maxSockets ?? 256 }) : new HttpAgent({ keepAlive: true, maxSockets: opts.maxSockets ?? 256 });
    this.send = https ? httpsRequest : httpRequest;
  }

  deliver(message: RelayMessage, attempt: number, signal: AbortSignal): Promise<DeliveryOutcome> {
    const started = this.now();
    const elapsed = () => Math.round(this.now() - started);
    return new Promise<DeliveryOutcome>((resolve) => {
      const abort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.opts.timeoutMs);
      const onShutdown = () => abort.abort();
      signal.addEventListener('abort', onShutdown, { once: true });
      let settled = false;
      const settle = (outcome: DeliveryOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onShutdown);
        resolve(outcome);
      };
      if (signal.aborted) return settle({ kind: 'aborted', durationMs: 0, detail: 'delivery aborted by shutdown' });

      const body = Buffer.from(message.body, 'utf8');
      const req = this.send(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...deliveryHeaders(message, attempt, this.opts.authHeader), 'content-length': String(body.length) },
          signal: abort.signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          res.on('error', () => undefined);
          // The status decides: a 2xx whose body is slow or cut off is still a success, never a retry.
          if (status >= 200 && status < 300) {
            res.resume();
            return settle({ kind: 'success', status, durationMs: elapsed() });
          }
          const retryAfterSeconds = parseRetryAfter(res.headers['retry-after'], Date.now());
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < DETAIL_LIMIT) text += chunk;
          });
          const done = () => {
            const detail = text.slice(0, DETAIL_LIMIT).replace(/\s+/g, ' ').trim();
            settle({
              kind: 'http-error',
              status,
              durationMs: elapsed(),
              ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
              detail: `HTTP ${status}${detail ? `: ${detail}` : ''}`,
            });
          };
          res.on('end', done);
          res.on('close', done);
        },
      );
      req.on('error', (err: Error & { code?: string }) => {
        if (timedOut) return settle({ kind: 'timeout', durationMs: elapsed(), detail: `no answer within ${this.opts.timeoutMs} ms` });
        if (signal.aborted) return settle({ kind: 'aborted', durationMs: elapsed(), detail: 'delivery aborted by shutdown' });
        settle({ kind: 'network-error', durationMs: elapsed(), detail: `network error: ${err.code ?? err.message}` });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
