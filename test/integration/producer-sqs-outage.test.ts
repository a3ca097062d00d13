import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Producer, ProducerSendError } from '../../src/index';
import { freshQueueAndTable, sqsClient, type Fixture } from '../support/fixtures';

// SQS refusing sends after the claims were made: the claimed messages are kept and sent again,
// before anything newer of their source, so SQS never holds a later seq ahead of an earlier one.
describe('producer when SQS refuses sends', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer-sqs-outage');
  });
  afterAll(() => fx.close());

  it('reports the claimed-but-unsent seqs, then sends them first on the next call for the source', async () => {
    const sqs = sqsClient();
    let refuse = true;
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (refuse && context.commandName === 'SendMessageBatchCommand') throw Object.assign(new Error('SQS unavailable (injected)'), { name: 'AccessDeniedException', $metadata: {} });
        return next(args);
      },
      { step: 'initialize', name: 'refuseSends' },
    );
    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs, dynamodb: fx.dynamo });
    const err = await producer.sendBatch([{ sourceId: 'o-1', body: 'one' }, { sourceId: 'o-1', body: 'two' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProducerSendError);
    expect((err as ProducerSendError).journaledUnsent.map((u) => u.seq)).toEqual([1n, 2n]);
    expect((err as ProducerSendError).sent).toEqual([]);
    expect(producer.pendingSeqs('o-1')).toEqual([1n, 2n]);

    // Still refusing: the new message is not even claimed.
    await expect(producer.send({ sourceId: 'o-1', body: 'three' })).rejects.toThrow(/seqs 1, 2 of an earlier call are still not in SQS/);

    refuse = false;
    expect((await producer.send({ sourceId: 'o-1', body: 'three' })).seq).toBe(3n);
    expect(producer.pendingSeqs('o-1')).toEqual([]);
    const got: Array<[string, string]> = [];
    for (let i = 0; i < 10 && got.length < 3; i++) {
      const r = await fx.sqs.send(new ReceiveMessageCommand({ QueueUrl: fx.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['seq'] }));
      for (const m of r.Messages ?? []) {
        got.push([m.MessageAttributes?.seq?.StringValue ?? '', m.Body ?? '']);
        await fx.sqs.send(new DeleteMessageCommand({ QueueUrl: fx.queueUrl, ReceiptHandle: m.ReceiptHandle ?? '' }));
      }
    }
    expect(got).toEqual([
      ['1', 'one'],
      ['2', 'two'],
      ['3', 'three'],
    ]);
    sqs.destroy();
  }, 120_000);
});
