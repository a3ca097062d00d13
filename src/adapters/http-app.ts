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
  if (authHeader) headers.authorization = authHeader;
  return headers;
}

export class HttpApp implements AppPort {
  private readonly now: () => number;

  constructor(private readonly opts: HttpAppOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  async deliver(message: RelayMessage, attempt: number, signal: AbortSignal): Promise<DeliveryOutcome> {
    const started = this.now();
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const elapsed = () => Math.round(this.now() - started);
    let res: Response;
    try {
      res = await fetch(this.opts.targetUrl, {
        method: 'POST',
        headers: deliveryHeaders(message, attempt, this.opts.authHeader),
        body: message.body,
        signal: AbortSignal.any([signal, timeout]),
        redirect: 'manual',
      });
    } catch (err) {
      if (timeout.aborted) return { kind: 'timeout', durationMs: elapsed(), detail: `no answer within ${this.opts.timeoutMs} ms` };
      if (signal.aborted) return { kind: 'aborted', durationMs: elapsed(), detail: 'delivery aborted by shutdown' };
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const cause = e.cause?.code ?? e.cause?.message ?? e.message;
      return { kind: 'network-error', durationMs: elapsed(), detail: `network error: ${cause}` };
    }
    // The status decides: a 2xx whose body is slow or cut off is still a success, never a retry.
    if (res.status >= 200 && res.status < 300) {
      void drain(res);
      return { kind: 'success', status: res.status, durationMs: elapsed() };
    }
    const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'), Date.now());
    const text = await readPrefix(res, DETAIL_LIMIT);
    return {
      kind: 'http-error',
      status: res.status,
      durationMs: elapsed(),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      detail: `HTTP ${res.status}${text ? `: ${text}` : ''}`,
    };
  }
}

/** Reads a body to its end, keeping nothing, so the keep-alive connection can be reused. */
async function drain(res: Response): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    while (!(await reader.read()).done);
  } catch {
    // The connection is dropped instead; the outcome was decided already.
  }
}

/** The start of an error body, for logs and the stuck list; never more than limit characters, never a throw. */
async function readPrefix(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // Cut off by the timeout or a reset: what arrived is enough.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return text.slice(0, limit).replace(/\s+/g, ' ').trim();
}
