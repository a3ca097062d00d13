import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { idempotencyKey, type RelayMessage } from '../core/message';
import { parseRetryAfter } from '../core/retry-policy';
import { traceDelivery } from '../observability/tracing';

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

  /**
   * One deadline covers the whole exchange: waiting for a socket, the headers and the body. On
   * the deadline or a shutdown abort the call settles at once and its socket is destroyed, so a
   * hung app never holds a pooled socket and a request queued for one never waits past its own
   * deadline. A 2xx status is final: its body is drained until it ends or the deadline passes,
   * then the call counts as a success either way (a body cut off at the deadline is counted as
   * delivered, since the app already said yes). Never rejects; nothing outlives the call.
   */
  deliver(message: RelayMessage, attempt: number, signal: AbortSignal): Promise<DeliveryOutcome> {
    // The one seam both the lane and the replayer call: each attempt gets its span here.
    return traceDelivery(message, attempt, this.url, (m) => this.exchange(m, attempt, signal));
  }

  private exchange(message: RelayMessage, attempt: number, signal: AbortSignal): Promise<DeliveryOutcome> {
    const started = this.now();
    const elapsed = () => Math.round(this.now() - started);
    return new Promise<DeliveryOutcome>((resolve) => {
      let req: ClientRequest | undefined;
      let settled = false;
      /** The response was read to its end: only then may its socket go back to the pool. */
      let complete = false;
      let sawSuccess = false;
      /** What the deadline settles as: a timeout, or the 2xx already seen while its body drains. */
      let onDeadline: () => DeliveryOutcome = () => ({ kind: 'timeout', durationMs: elapsed(), detail: `no answer within ${this.opts.timeoutMs} ms` });
      const settle = (outcome: DeliveryOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onShutdown);
        // A socket still busy with this call is never reused: destroying it frees its pool slot now
        // (and a request still queued for a socket leaves the queue).
        if (req && !complete) req.destroy();
        resolve(outcome);
      };
      const timer = setTimeout(() => settle(onDeadline()), this.opts.timeoutMs);
      // A 2xx already seen is final at shutdown as at the deadline: aborting it would only make a repeat.
      const onShutdown = () => settle(sawSuccess ? onDeadline() : { kind: 'aborted', durationMs: elapsed(), detail: 'delivery aborted by shutdown' });
      if (signal.aborted) return settle({ kind: 'aborted', durationMs: 0, detail: 'delivery aborted by shutdown' });
      signal.addEventListener('abort', onShutdown, { once: true });

      const body = Buffer.from(message.body, 'utf8');
      try {
        req = this.send(this.url, {
          method: 'POST',
          agent: this.agent,
          headers: { ...deliveryHeaders(message, attempt, this.opts.authHeader), 'content-length': String(body.length) },
        });
      } catch (err) {
        // node:http refuses some header values synchronously; the message has not left this task.
        return settle({ kind: 'network-error', durationMs: elapsed(), detail: `request refused before sending: ${(err as { code?: string }).code ?? (err as Error).name}` });
      }
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        res.on('error', () => undefined);
        if (status >= 200 && status < 300) {
          const success: DeliveryOutcome = { kind: 'success', status, durationMs: elapsed() };
          onDeadline = () => success;
          sawSuccess = true;
          res.resume();
          res.on('end', () => {
            complete = true;
            settle(success);
          });
          res.on('close', () => settle(success));
          return;
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
        res.on('end', () => {
          complete = true;
          done();
        });
        res.on('close', done);
      });
      req.on('error', (err: Error & { code?: string }) => {
        settle({ kind: 'network-error', durationMs: elapsed(), detail: `network error: ${err.code ?? err.message}` });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
