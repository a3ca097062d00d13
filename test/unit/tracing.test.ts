import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, StackContextManager, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { HttpApp } from '../../src/adapters/http-app';
import { parseMessage, type RelayMessage } from '../../src/core/message';
import { traceDelivery } from '../../src/observability/tracing';
import { Replayer } from '../../src/worker/replayer';
import { parkSource, unparkSource } from '../../src/cli/source-actions';
import { QUEUE_ID } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TP = `00-${TRACE_ID}-${PARENT_ID}-01`;

function message(seq: number, traceAttrs: Record<string, string> = { traceparent: TP, tracestate: 'congo=t61rcWkgMzE' }): RelayMessage {
  const attrs = Object.fromEntries(Object.entries({ seq: String(seq), ...traceAttrs }).map(([k, v]) => [k, { DataType: k === 'seq' ? 'Number' : 'String', StringValue: v }]));
  const r = parseMessage(
    { MessageId: `m-${seq}`, ReceiptHandle: 'rh', Body: '{}', Attributes: { MessageGroupId: 'src-1', SequenceNumber: String(seq), ApproximateReceiveCount: '1' }, MessageAttributes: attrs },
    QUEUE_ID,
  );
  if (!r.ok) throw new Error(r.invalid.detail);
  return r.message;
}

/** A real app on loopback that answers with the statuses given, in turn, and keeps the headers it saw. */
async function startApp(statuses: number[]): Promise<{ url: string; seen: IncomingHttpHeaders[]; server: Server }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(statuses.shift() ?? 200).end('nope'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`, seen, server };
}

const signal = new AbortController().signal;

describe('delivery spans through @opentelemetry/api', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  let http: HttpApp;
  const exporter = new InMemorySpanExporter();
  afterEach(async () => {
    http.close();
    await new Promise((r) => app.server.close(r));
    exporter.reset();
  });
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  /** The one span the attempt ended (the processor may hand it to the exporter a tick later). */
  const one = async (): Promise<ReadableSpan> => {
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    return spans[0]!;
  };

  // Runs first, before any SDK is registered in this process: the API is then a no-op.
  it('without an SDK leaves the trace headers exactly as the message carried them', async () => {
    app = await startApp([200]);
    http = new HttpApp({ targetUrl: app.url, timeoutMs: 5000 });
    expect(await http.deliver(message(1), 1, signal)).toMatchObject({ kind: 'success' });
    expect(app.seen[0]).toMatchObject({ traceparent: TP, tracestate: 'congo=t61rcWkgMzE' });
  });

  describe('with an SDK registered', () => {
  beforeAll(() => {
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
  });

  it('one span per attempt, child of the message traceparent, with source, seq, attempt, message id and outcome', async () => {
    app = await startApp([503, 200]);
    http = new HttpApp({ targetUrl: app.url, timeoutMs: 5000 });
    expect(await http.deliver(message(7), 1, signal)).toMatchObject({ kind: 'http-error', status: 503 });
    const failed = await one();
    expect(failed.spanContext().traceId).toBe(TRACE_ID);
    expect(failed.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(failed.kind).toBe(SpanKind.CLIENT);
    expect(failed.attributes).toMatchObject({
      'fifo_relay.source_id': 'src-1',
      'fifo_relay.seq': '7',
      'fifo_relay.attempt': 1,
      'messaging.message.id': 'm-7',
      'fifo_relay.outcome': 'http-error',
      'http.response.status_code': 503,
      'error.type': '503',
    });
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'HTTP 503: nope' });
    // The app's own spans hang below this attempt: it got the span's id as its parent.
    expect(app.seen[0]?.traceparent).toBe(`00-${TRACE_ID}-${failed.spanContext().spanId}-01`);
    expect(app.seen[0]?.tracestate).toBe('congo=t61rcWkgMzE');

    exporter.reset();
    expect(await http.deliver(message(7), 2, signal)).toMatchObject({ kind: 'success' });
    const ok = await one();
    expect(ok.attributes).toMatchObject({ 'fifo_relay.attempt': 2, 'fifo_relay.outcome': 'success', 'http.response.status_code': 200 });
    expect(ok.attributes['error.type']).toBeUndefined();
    expect(ok.status.code).toBe(SpanStatusCode.UNSET);
    expect(ok.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(ok.spanContext().spanId).not.toBe(failed.spanContext().spanId);
  });

  it('makes the attempt\'s span the active one while the app call starts, so HTTP-layer spans hang below it', async () => {
    context.setGlobalContextManager(new StackContextManager().enable());
    app = await startApp([]);
    http = new HttpApp({ targetUrl: app.url, timeoutMs: 5000 });
    let active: string | undefined;
    await traceDelivery(message(5), 1, new URL(app.url), async () => {
      active = trace.getActiveSpan()?.spanContext().spanId;
      return { kind: 'success', status: 200, durationMs: 1 };
    });
    const span = await one();
    expect(active).toBe(span.spanContext().spanId);
    context.disable();
  });

  it('a network error is the outcome and error type; a message without a traceparent starts its own trace', async () => {
    app = await startApp([]);
    const closed = app.url;
    await new Promise((r) => app.server.close(r));
    app = await startApp([]);
    http = new HttpApp({ targetUrl: closed, timeoutMs: 5000 });
    expect(await http.deliver(message(3, {}), 1, signal)).toMatchObject({ kind: 'network-error' });
    const span = await one();
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.attributes).toMatchObject({ 'fifo_relay.outcome': 'network-error', 'error.type': 'network-error' });
    expect(span.attributes['http.response.status_code']).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('the replayer delivering from the journal gets the same span, a child of the trace the journal kept', async () => {
    app = await startApp([200]);
    http = new HttpApp({ targetUrl: app.url, timeoutMs: 5000 });
    const table = new MemorySourceTable();
    const ports = { control: table.control, journal: table, audit: table };
    const act = { actor: 'op', reason: 'test' };
    table.touch('src-1');
    await parkSource(ports, { sourceId: 'src-1', ...act, nowMs: Date.now() });
    const m = message(1);
    await table.put({ sourceId: 'src-1', seq: m.seq, messageId: m.messageId, contentType: 'application/json', body: '{}', bodySha256: 'h', sentAt: 1, firstSeenAt: 1, journaledAt: 1, trace: m.trace });
    await unparkSource(ports, { sourceId: 'src-1', ...act, nowMs: Date.now(), dryRun: false, limit: 10 });
    const replayer = new Replayer(
      { ...ports, ledger: table, app: http, listReplaying: async () => ['src-1'] },
      { owner: 'r1', leaseMs: 30_000, pollMs: 10, batch: 5, maxBackoffMs: 100 },
    );
    expect(await replayer.replay('src-1')).toBe('done');
    const span = await one();
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span.attributes).toMatchObject({ 'fifo_relay.source_id': 'src-1', 'fifo_relay.seq': '1', 'messaging.message.id': 'm-1', 'fifo_relay.outcome': 'success' });
    expect(app.seen[0]?.traceparent).toBe(`00-${TRACE_ID}-${span.spanContext().spanId}-01`);
  });
  });
});
