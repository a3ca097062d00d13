import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Planned } from '../bench/lib/aws';
import { Producer, ProducerSendError } from '../src/producer/producer';

/** What the journal-first sending did: how many producers died after their claims, and which seqs they left unsent. */
export interface ProducerSendStats {
  batches: number;
  deaths: number;
  /** sourceId:seq claimed in the journal by a producer that died before sending them. */
  unsent: string[];
  /** A seq the producer claimed that differs from the plan: the harness's own check. */
  mismatches: string[];
}

/** An SQS client of a producer process that dies between its journal claims and its send. */
const deadSqs = { send: () => Promise.reject(new Error('producer process died before SendMessageBatch')) } as unknown as SQSClient;

/**
 * Sends each batch through the journal-first producer, as the application would. With
 * probability deathRate a batch's producer "dies" after claiming its seqs: that producer is
 * dropped with its claims in the journal and never sent (the workers must deliver them from the
 * journal: a later seq's fill, or the sweeper for a source's last one); a fresh producer goes on.
 */
export function producerSender(sqs: SQSClient, dynamodb: DynamoDBClient, queueUrl: string, table: string, random: () => number, deathRate: number) {
  const stats: ProducerSendStats = { batches: 0, deaths: 0, unsent: [], mismatches: [] };
  const live = new Producer({ queueUrl, table, sqs, dynamodb });
  const body = (m: Planned) => JSON.stringify({ sourceId: m.sourceId, seq: m.seq, op: 'update', payload: 'x'.repeat(64) });
  const check = (planned: readonly Planned[], got: ReadonlyArray<{ sourceId: string; seq: bigint }>) => {
    const want = new Set(planned.map((m) => `${m.sourceId}:${m.seq}`));
    for (const g of got) if (!want.has(`${g.sourceId}:${g.seq}`)) stats.mismatches.push(`${g.sourceId}:${g.seq}`);
  };
  const send = async (batch: readonly Planned[]): Promise<void> => {
    stats.batches++;
    const messages = batch.map((m) => ({ sourceId: m.sourceId, body: body(m), contentType: 'application/json' }));
    if (random() < deathRate) {
      const dying = new Producer({ queueUrl, table, sqs: deadSqs, dynamodb });
      try {
        await dying.sendBatch(messages);
        throw new Error('a producer without SQS reported its batch sent');
      } catch (err) {
        if (!(err instanceof ProducerSendError)) throw err;
        if (err.notWritten.length > 0) throw new Error(`a dying producer wrote only part of its claims: ${err.notWritten.length} not claimed`, { cause: err });
        check(batch, err.journaledUnsent);
        stats.deaths++;
        stats.unsent.push(...err.journaledUnsent.map((u) => `${u.sourceId}:${u.seq}`));
      }
      // Its cached seqs are gone with it; the live producer re-reads on its first conflict.
      return;
    }
    // A live producer failing part-way is a harness failure (the emulators do not throttle): it throws.
    check(batch, await live.sendBatch(messages));
  };
  return { send, stats };
}
