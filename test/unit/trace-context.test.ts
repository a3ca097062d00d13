import { deliveryHeaders } from '../../src/adapters/http-app';
import { parseMessage, parseTrace, type RawMessage } from '../../src/core/message';

const ARN = 'arn:aws:sqs:eu-west-1:123456789012:orders.fifo@1700000000';
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const str = (v: string) => ({ DataType: 'String', StringValue: v });

const raw = (attrs: Record<string, string>, messageAttrs: RawMessage['MessageAttributes']): RawMessage => ({
  MessageId: 'm-1',
  ReceiptHandle: 'rh-1',
  Body: '{}',
  Attributes: { MessageGroupId: 'src-1', SequenceNumber: '1', ApproximateReceiveCount: '1', ...attrs },
  MessageAttributes: messageAttrs,
});

describe('trace context from the message to the app', () => {
  it('sends AWSTraceHeader as X-Amzn-Trace-Id and traceparent/tracestate as themselves', () => {
    const r = parseMessage(raw({ AWSTraceHeader: XRAY }, { traceparent: str(TP), tracestate: str('congo=t61rcWkgMzE') }), ARN);
    if (!r.ok) throw new Error('expected ok');
    const h = deliveryHeaders(r.message, 1);
    expect(h['x-amzn-trace-id']).toBe(XRAY);
    expect(h.traceparent).toBe(TP);
    expect(h.tracestate).toBe('congo=t61rcWkgMzE');
  });

  it('sends no trace headers when the message carries none', () => {
    const r = parseMessage(raw({}, undefined), ARN);
    if (!r.ok) throw new Error('expected ok');
    const h = deliveryHeaders(r.message, 1);
    expect(Object.keys(h).filter((k) => ['x-amzn-trace-id', 'traceparent', 'tracestate'].includes(k))).toEqual([]);
  });

  it.each([
    ['not hex', '00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['version 00 with a tail', `${TP}-extra`],
    ['control characters', `${TP}\n`],
  ])('drops a traceparent that is %s (and its tracestate), and still delivers the message', (_why, value) => {
    const r = parseMessage(raw({}, { traceparent: str(value), tracestate: str('a=b') }), ARN);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.message.trace).toEqual({});
  });

  it('keeps a later version with extra fields, lower-cased', () => {
    expect(parseTrace({}, { traceparent: str(`01${TP.slice(2).toUpperCase()}-more`) })).toEqual({ traceparent: `01${TP.slice(2)}-more` });
  });

  it('drops an AWSTraceHeader that is not a safe header value', () => {
    expect(parseTrace({ AWSTraceHeader: 'Root=1-x\r\nX-Evil: 1' }, undefined)).toEqual({});
    expect(parseTrace({ AWSTraceHeader: 'R'.repeat(600) }, undefined)).toEqual({});
  });
});
