import { readFileSync } from 'node:fs';
import { Producer, ProducerSendError, type SendResult } from '../../producer/producer';
import { parseJsonLines } from '../../producer/json-lines';
import { ProducerInputError, type ProducerMessage } from '../../producer/validate';
import { commandClients } from '../aws';
import { defineCommand } from '../spec';
import { UsageError } from '../usage';

/** Messages per sendBatch call from --stdin: each call is claimed and sent before the next starts. */
const STDIN_BATCH = 100;
const PROGRESS_EVERY = 1000;

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

function summary(results: SendResult[]): string {
  const bySource = new Map<string, bigint[]>();
  for (const r of results) bySource.set(r.sourceId, [...(bySource.get(r.sourceId) ?? []), r.seq]);
  if (bySource.size === 1) {
    const [[source, seqs]] = [...bySource] as [[string, bigint[]]];
    return `sent ${results.length} message(s) for source ${source}, seq ${seqs[0]}..${seqs[seqs.length - 1]}`;
  }
  return `sent ${results.length} message(s) over ${bySource.size} source(s)`;
}

export const send = defineCommand({
  name: 'send',
  summary: 'send messages through the producer: each gets its source\'s next seq, journaled before it is sent',
  options: {
    'queue-url': { kind: 'string', value: 'URL', help: 'queue to send to', env: 'QUEUE_URL', required: true },
    table: { kind: 'string', value: 'NAME', help: 'progress table (holds the journal)', env: 'PROGRESS_TABLE', required: true },
    source: { kind: 'string', value: 'ID', help: 'MessageGroupId (with --body, --body-file or neither)' },
    count: { kind: 'int', value: 'N', help: 'how many messages for --source', default: 1 },
    body: { kind: 'string', value: 'TEXT', help: 'body (default: a small JSON document numbering each message)' },
    'body-file': { kind: 'string', value: 'F', help: 'read the body from file F' },
    seq: { kind: 'string', value: 'N', help: 'the seq the first message must get; refused, nothing sent, unless it is the source\'s next one' },
    stdin: { kind: 'flag', help: 'read JSON lines {"sourceId":…,"body":…} (also contentType, traceparent) from standard input' },
  },
  details: [
    'With --stdin every line is checked first: one bad line (reported with its line number) sends nothing.',
    'If sending stops part-way (DynamoDB or SQS failing), the summary says which lines were sent; a claimed but unsent message stays in the journal.',
  ],
  async run(v, _args, out) {
    let messages: ProducerMessage[];
    let lineOf: number[] | undefined;
    if (v.stdin) {
      if (v.source !== undefined || v.body !== undefined || v['body-file'] !== undefined || v.seq !== undefined || v.count !== 1) {
        throw new UsageError('--stdin takes its messages from the input only (no --source, --body, --body-file, --seq or --count)');
      }
      const parsed = parseJsonLines(readStdin());
      if (parsed.problems.length > 0) {
        for (const p of parsed.problems) out(p);
        out(`nothing sent: ${parsed.badLines} bad line(s) of ${parsed.badLines + parsed.messages.length}`);
        return 1;
      }
      if (parsed.messages.length === 0) {
        out('nothing sent: the input holds no messages');
        return 1;
      }
      messages = parsed.messages;
      lineOf = parsed.lineOf;
    } else {
      if (v.source === undefined) throw new UsageError('--source (or --stdin) is required');
      if (v.body !== undefined && v['body-file'] !== undefined) throw new UsageError('--body and --body-file exclude each other');
      const fixed = v['body-file'] !== undefined ? readFileSync(v['body-file'], 'utf8') : v.body;
      if (v.seq !== undefined && !/^\d+$/.test(v.seq)) throw new UsageError(`--seq must be a whole number, got "${v.seq}"`);
      const first = v.seq === undefined ? undefined : BigInt(v.seq);
      messages = Array.from({ length: v.count }, (_, i) => ({
        sourceId: v.source as string,
        body: fixed ?? JSON.stringify({ sourceId: v.source, n: i + 1 }),
        ...(first === undefined ? {} : { seq: first + BigInt(i) }),
      }));
    }

    const aws = commandClients();
    const producer = new Producer({ queueUrl: v['queue-url'], table: v.table, sqs: aws.sqs, dynamodb: aws.dynamo });
    const results: SendResult[] = [];
    const batch = v.stdin ? STDIN_BATCH : messages.length;
    const started = Date.now();
    let reported = 0;
    try {
      if (lineOf) {
        // Every source is checked before the first call: a refused source in a later call would
        // otherwise stop the input half-way.
        const firstLine = new Map<string, number>();
        messages.forEach((m, i) => {
          if (!firstLine.has(m.sourceId)) firstLine.set(m.sourceId, lineOf?.[i] ?? i + 1);
        });
        const refused = await producer.refusedSources([...firstLine.keys()]);
        if (refused.length > 0) {
          for (const r of refused) out(`line ${firstLine.get(r.sourceId)}: ${r.reason}`);
          out(`nothing sent: ${refused.length} source(s) refused`);
          return 1;
        }
      }
      for (let i = 0; i < messages.length; i += batch) {
        try {
          results.push(...(await producer.sendBatch(messages.slice(i, i + batch))));
        } catch (err) {
          const where = lineOf && i > 0 ? `lines 1..${lineOf[i - 1]} were sent, nothing from line ${lineOf[i]} on except as listed; ` : '';
          if (err instanceof ProducerInputError) {
            out(`${where}nothing sent${i > 0 ? ` after the first ${i} message(s)` : ''}: ${err.message.replace(/^nothing sent: /, '')}`);
            return 1;
          }
          if (err instanceof ProducerSendError) results.push(...err.sent);
          out(`${summary(results)}; stopped: ${(err as Error).message}`);
          out(`${where}${results.length} of ${messages.length} sent${err instanceof ProducerSendError && err.journaledUnsent.length > 0 ? `; journaled but not yet in SQS: ${err.journaledUnsent.map((u) => `${u.sourceId} seq ${u.seq}`).join(', ')}` : ''}`);
          return 1;
        }
        if (messages.length > PROGRESS_EVERY && results.length - reported >= PROGRESS_EVERY && results.length < messages.length) {
          reported = results.length;
          out(`progress: ${results.length}/${messages.length} sent (${Math.round((Date.now() - started) / 100) / 10} s)`);
        }
      }
      out(`${summary(results)} in ${Math.round((Date.now() - started) / 100) / 10} s`);
      return 0;
    } finally {
      aws.destroy();
    }
  },
});
