import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, createTraceState, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import type { DeliveryOutcome } from '../adapters/http-app';
import type { RelayMessage, TraceContext } from '../core/message';
import { packageVersion } from './metric-families';

/**
 * Spans through @opentelemetry/api only: without an SDK registered in the process every call
 * here is the API's no-op, and the message's own trace headers go to the app unchanged.
 */
let cached: Tracer | undefined;
const tracer = (): Tracer => (cached ??= trace.getTracer('fifo-relay', packageVersion()));

/** The message's W3C context (already checked by parseTrace) as a remote parent; the root when it has none. */
export function parentContext(t: TraceContext): Context {
  if (!t.traceparent) return ROOT_CONTEXT;
  const [, traceId, spanId, flags] = t.traceparent.split('-');
  const parent: SpanContext = { traceId: traceId ?? '', spanId: spanId ?? '', traceFlags: parseInt((flags ?? '').slice(0, 2), 16) || 0, isRemote: true };
  if (!trace.isSpanContextValid(parent)) return ROOT_CONTEXT;
  if (t.tracestate) parent.traceState = createTraceState(t.tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, parent);
}

function traceparentOf(c: SpanContext): string {
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

function finish(span: Span, outcome: DeliveryOutcome): void {
  const attrs: Attributes = { 'fifo_relay.outcome': outcome.kind };
  if ('status' in outcome) attrs['http.response.status_code'] = outcome.status;
  if (outcome.kind !== 'success') {
    attrs['error.type'] = outcome.kind === 'http-error' ? String(outcome.status) : outcome.kind;
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.detail });
  }
  span.setAttributes(attrs);
  span.end();
}

/**
 * One client span per delivery attempt, a child of the producer's span when the message carries
 * a traceparent. While the span is recorded the app receives the span's own context as its
 * traceparent, so the app's server span hangs below this attempt; an unrecorded (or no-op) span
 * leaves the message's headers exactly as they came.
 */
export async function traceDelivery(m: RelayMessage, attempt: number, target: URL, call: (m: RelayMessage) => Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
  let span: Span;
  let parent: Context;
  try {
    parent = parentContext(m.trace);
    span = startSpan(m, attempt, target, parent);
  } catch {
    // A trace is never a reason to hold a message: a failing SDK (a sampler that throws) gets no span.
    return call(m);
  }
  if (!span.isRecording()) {
    span.end();
    return call(m);
  }
  const c = span.spanContext();
  const sent: TraceContext = { ...m.trace, traceparent: traceparentOf(c) };
  const state = c.traceState?.serialize();
  if (state) sent.tracestate = state;
  else delete sent.tracestate;
  let outcome: DeliveryOutcome;
  try {
    // Active during the call: a span the HTTP layer makes (auto-instrumentation) is a child of this one.
    outcome = await context.with(trace.setSpan(parent, span), () => call({ ...m, trace: sent }));
  } catch (err) {
    // The app port never rejects; should it ever, the span still ends and says why.
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    span.end();
    throw err;
  }
  try {
    finish(span, outcome);
  } catch {
    // A span processor that throws on end must not turn a delivered message into a failed one.
  }
  return outcome;
}

function startSpan(m: RelayMessage, attempt: number, target: URL, parent: Context): Span {
  return tracer().startSpan(
    'fifo-relay deliver',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'fifo_relay.source_id': m.sourceId,
        'fifo_relay.seq': m.seq.text,
        'fifo_relay.attempt': attempt,
        'messaging.system': 'aws_sqs',
        'messaging.message.id': m.messageId,
        'http.request.method': 'POST',
        'server.address': target.hostname,
        'server.port': Number(target.port) || (target.protocol === 'https:' ? 443 : 80),
      },
    },
    parent,
  );
}
