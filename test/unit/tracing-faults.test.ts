import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { TracerProvider, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { HttpApp } from '../../src/adapters/http-app';
import { parseMessage } from '../../src/core/message';
import { QUEUE_ID } from '../support/in-memory';

/** An SDK that fails in the two places a user's code runs: the sampler, and a processor's onEnd. */
let samplerThrows = true;
const sampler: Sampler = {
  shouldSample: () => {
    if (samplerThrows) throw new Error('sampler bug');
    return { decision: 2 };
  },
  toString: () => 'throwing',
};
const brokenProcessor: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => {
    throw new Error('processor bug');
  },
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

describe('a broken tracing SDK never costs a delivery', () => {
  let server: Server;
  let calls = 0;
  beforeAll(async () => {
    trace.setGlobalTracerProvider(new TracerProvider({ sampler, spanProcessors: [brokenProcessor] }));
    server = createServer((req, res) => {
      calls++;
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it.each([
    ['a sampler that throws', true],
    ['a span processor that throws when the span ends', false],
  ])('delivers and reports success with %s', async (_what, throwing) => {
    samplerThrows = throwing;
    const r = parseMessage(
      { MessageId: 'm-1', ReceiptHandle: 'rh', Body: '{}', Attributes: { MessageGroupId: 's', SequenceNumber: '1', ApproximateReceiveCount: '1' }, MessageAttributes: { seq: { DataType: 'Number', StringValue: '1' } } },
      QUEUE_ID,
    );
    if (!r.ok) throw new Error(r.invalid.detail);
    const app = new HttpApp({ targetUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, timeoutMs: 5000 });
    const before = calls;
    try {
      expect(await app.deliver(r.message, 1, new AbortController().signal)).toMatchObject({ kind: 'success', status: 200 });
      expect(calls).toBe(before + 1);
    } finally {
      app.close();
    }
  });
});
