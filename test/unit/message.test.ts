import { canonicalSeq, idempotencyKey, parseMessage, queueIdentity, type RawMessage } from '../../src/core/message';

const ARN = 'arn:aws:sqs:eu-west-1:123456789012:orders.fifo@1700000000';

const raw = (over: Partial<RawMessage> = {}, attrs: Record<string, string> = {}): RawMessage => ({
  MessageId: 'm-1',
  ReceiptHandle: 'rh-1',
  Body: '{"a":1}',
  Attributes: { MessageGroupId: 'src-1', SequenceNumber: '18849496460467696128', ApproximateReceiveCount: '3', ApproximateFirstReceiveTimestamp: '1700000000000', SentTimestamp: '1699999999000', ...attrs },
  ...over,
});

describe('parseMessage', () => {
  it('uses the producer seq attribute when present', () => {
    const r = parseMessage(raw({ MessageAttributes: { seq: { DataType: 'Number', StringValue: '0042' } } }), ARN);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.seq).toMatchObject({ kind: 'producer', value: 42n, text: '42', sqs: 18849496460467696128n, queueId: ARN });
    expect(r.message).toMatchObject({ sourceId: 'src-1', receiveCount: 3, firstReceivedAt: 1700000000000, sentAt: 1699999999000, contentType: 'application/json', body: '{"a":1}' });
    expect(idempotencyKey(r.message)).toBe('src-1:42');
  });

  it('falls back to the SQS SequenceNumber, bound to the queue incarnation (ARN and CreatedTimestamp)', () => {
    const r = parseMessage(raw(), ARN);
    if (!r.ok) throw new Error('expected ok');
    expect(r.message.seq).toMatchObject({ kind: 'sqs', value: 18849496460467696128n, text: '18849496460467696128', queueId: ARN });
    expect(idempotencyKey(r.message)).toBe('src-1:q1700000000.18849496460467696128');
    const again = parseMessage(raw(), queueIdentity('arn:aws:sqs:eu-west-1:123456789012:orders.fifo', '1700000099'));
    if (!again.ok) throw new Error('expected ok');
    expect(idempotencyKey(again.message)).not.toBe(idempotencyKey(r.message));
  });

  it('takes contentType from its attribute', () => {
    const r = parseMessage(raw({ MessageAttributes: { contentType: { DataType: 'String', StringValue: 'text/csv' } } }), ARN);
    expect(r.ok && r.message.contentType).toBe('text/csv');
  });

  it('accepts a Number seq with a custom type suffix and 38 digits', () => {
    const big = '9'.repeat(38);
    const r = parseMessage(raw({ MessageAttributes: { seq: { DataType: 'Number.int', StringValue: big } } }), ARN);
    expect(r.ok && r.message.seq.text).toBe(big);
  });

  it.each([
    [{ seq: { DataType: 'Number', StringValue: '-1' } }],
    [{ seq: { DataType: 'Number', StringValue: '1.5' } }],
    [{ seq: { DataType: 'Number', StringValue: '1e3' } }],
    [{ seq: { DataType: 'String', StringValue: '7' } }],
    [{ seq: { DataType: 'Number', StringValue: '9'.repeat(39) } }],
    [{ seq: { DataType: 'Number' } }],
  ])('rejects a seq attribute that is not a whole number it can record exactly: %j', (attrs) => {
    const r = parseMessage(raw({ MessageAttributes: attrs }), ARN);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.invalid).toMatchObject({ reason: 'bad-seq-attribute', messageId: 'm-1', sourceId: 'src-1', receiptHandle: 'rh-1', receiveCount: 3 });
  });

  it.each([
    ['missing-group-id', raw({ Attributes: { SequenceNumber: '1' } })],
    ['missing-sequence-number', raw({ Attributes: { MessageGroupId: 'g' } })],
    ['missing-receipt-handle', raw({ ReceiptHandle: undefined })],
    ['missing-message-id', raw({ MessageId: undefined })],
    ['missing-body', raw({ Body: undefined })],
  ])('reports %s with the ids it has', (reason, message) => {
    const r = parseMessage(message, ARN);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.invalid.reason).toBe(reason);
  });

  it('refuses a contentType that cannot be sent as a header', () => {
    const r = parseMessage(raw({ MessageAttributes: { contentType: { DataType: 'String', StringValue: 'text/plain; x=日本' } } }), ARN);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.invalid.reason).toBe('bad-content-type');
  });

  it('forwards an empty-looking body unchanged', () => {
    const r = parseMessage(raw({ Body: '  \n' }), ARN);
    expect(r.ok && r.message.body).toBe('  \n');
  });
});

describe('canonicalSeq', () => {
  it('strips leading zeros but keeps a single zero', () => {
    expect(canonicalSeq('000')).toBe('0');
    expect(canonicalSeq(' 0012 ')).toBe('12');
    expect(canonicalSeq('12a')).toBeUndefined();
  });
});
