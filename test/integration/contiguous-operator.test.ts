import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoJournal, sha256, type JournalEntry } from '../../src/adapters/journal';
import { DynamoAuditLog } from '../../src/adapters/audit-log';
import { DynamoLost } from '../../src/adapters/declare-lost';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import { declareLost, parkSource, skipHead, unparkSource } from '../../src/cli/source-actions';
import { Replayer } from '../../src/worker/replayer';
import { ScriptedApp } from '../support/in-memory';
import { ledgerKey } from '../../src/adapters/table-keys';
import type { Sequence } from '../../src/core/message';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Producer } from '../../src/index';
import { SourceStatusReader } from '../../src/adapters/source-status';
import { formatStory } from '../../src/cli/status';
import { DEFAULT_THRESHOLDS } from '../../src/core/source-condition';
import { freshQueueAndTable, send, sleep, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

const producerSeq = (n: number): Sequence => ({ kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: 0n, queueId: '' });

function entry(sourceId: string, n: number): JournalEntry {
  const body = `{"n":${n}}`;
  const at = Date.now() - 60_000;
  return { sourceId, seq: producerSeq(n), messageId: `claimed-${sourceId}-${n}`, contentType: 'application/json', body, bodySha256: sha256(body), sentAt: at, firstSeenAt: at, journaledAt: at };
}

describe('operator writes on a contiguous source', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('gaprev-op');
  });
  afterAll(() => fx.close());
  const ledgerItem = async (id: string) => (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey(id), ConsistentRead: true }))).Item;
  const ports = () => ({
    control: new DynamoSourceControl(fx.dynamo, fx.table),
    journal: new DynamoJournal(fx.dynamo, fx.table),
    audit: new DynamoAuditLog(fx.dynamo, fx.table),
    lost: new DynamoLost(fx.dynamo, fx.table),
  });
  async function contiguousAt(id: string, position: number): Promise<void> {
    await fx.dynamo.send(new UpdateItemCommand({ TableName: fx.table, Key: ledgerKey(id), UpdateExpression: 'SET contiguous = :t', ExpressionAttributeValues: { ':t': { BOOL: true } } }));
    const ledger = new DynamoLedger(fx.dynamo, fx.table);
    for (let s = 1; s <= position; s++) await ledger.advance(id, producerSeq(s), `m${s}`, Date.now(), { exactNext: true });
  }

  it('declare-lost refuses a seq whose journal entry exists (it is not missing: the next attempt fills it)', async () => {
    const p = ports();
    await contiguousAt('DLX', 1);
    // A worker held seq 3 two minutes ago: seq 2 was in neither the queue nor the journal then.
    await new DynamoLedger(fx.dynamo, fx.table).recordGap('DLX', { seq: 2n, nowMs: Date.now() - 120_000 });
    await p.journal.put(entry('DLX', 3));
    // Seq 2's entry appears afterwards (the producer that owed it writes it; a late replica lands).
    await p.journal.put(entry('DLX', 2));
    expect((await ledgerItem('DLX'))?.gapSeq?.N).toBe('2');

    const r = await declareLost(p, { sourceId: 'DLX', seq: 2n, actor: 'op', reason: 'looks lost', nowMs: Date.now(), quietMs: 60_000 });
    const after = await ledgerItem('DLX');
    // Expected: refused, seq 2 is in the journal and will be delivered; the position stays at 1.
    expect({ ok: r.ok, position: after?.producerSeq?.N }).toEqual({ ok: false, position: '1' });
  });

  it('skip on a parked contiguous source never passes a missing seq (it would skip 2 without declare-lost)', async () => {
    const p = ports();
    await contiguousAt('SKX', 1);
    // Seq 2 is missing; 3 is journaled (its producer sent it; the source was parked meanwhile).
    await p.journal.put(entry('SKX', 3));
    expect((await parkSource(p, { sourceId: 'SKX', actor: 'op', reason: 'park', nowMs: Date.now() - 120_000 })).ok).toBe(true);
    const r = await skipHead(p, { sourceId: 'SKX', seq: '3', actor: 'op', reason: 'bad message', nowMs: Date.now(), quietMs: 60_000 });
    const after = await ledgerItem('SKX');
    // Expected: refused (3 is not position + 1; 2 must be filled or declared lost first); position stays 1.
    expect({ ok: r.ok, line: r.line, position: after?.producerSeq?.N, lastLostSeq: after?.lastLostSeq?.N }).toEqual({ ok: false, line: expect.any(String), position: '1', lastLostSeq: undefined });
  });

  it('a replay held at a gap shows the gap and lets declare-lost move past exactly it', async () => {
    const p = ports();
    await contiguousAt('RGX', 1);
    // Parked before any lane saw the hole; seq 2 was claimed and lost, 3 is journaled.
    await p.journal.put(entry('RGX', 3));
    expect((await parkSource(p, { sourceId: 'RGX', actor: 'op', reason: 'park', nowMs: Date.now() - 120_000 })).ok).toBe(true);
    expect((await unparkSource(p, { sourceId: 'RGX', actor: 'op', reason: 'replay', nowMs: Date.now() - 110_000, dryRun: false, limit: 10 })).ok).toBe(true);
    const app = new ScriptedApp();
    const replayer = new Replayer(
      { control: p.control, journal: p.journal, audit: p.audit, ledger: new DynamoLedger(fx.dynamo, fx.table), app, listReplaying: async () => ['RGX'] },
      { owner: 'rev', leaseMs: 30_000, pollMs: 10, batch: 10, maxBackoffMs: 100 },
    );
    expect(await replayer.replay('RGX')).toBe('failed');
    expect(await replayer.replay('RGX')).toBe('failed');
    expect(app.calls).toEqual([]);
    const held = await ledgerItem('RGX');
    const r = await declareLost(p, { sourceId: 'RGX', seq: 2n, actor: 'op', reason: 'region lost', nowMs: Date.now() + 120_000, quietMs: 60_000 });
    console.log(`declare-lost: ${r.line}`);
    // Expected: the hole is recorded (status, alarm) and declare-lost, the documented way out, is accepted.
    expect({ gapSeq: held?.gapSeq?.N, declareLost: r.ok, line: r.line }).toEqual({ gapSeq: '2', declareLost: true, line: expect.any(String) });
  });

  it('once the missing entry is there and only the app refuses it, the source no longer shows a gap and declare-lost is refused', async () => {
    const calls: Array<{ key: string; status: number }> = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const key = String(req.headers['idempotency-key'] ?? '');
        const status = key === 'DLY:2' ? 503 : 200;
        calls.push({ key, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const relay = await startTestRelay(fx.config({ targetUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }));
    const p = ports();
    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    try {
      await producer.send({ sourceId: 'DLY', body: '{"n":1}' });
      await waitFor('1 delivered', () => calls.some((c) => c.key === 'DLY:1'), 30_000, 100);
      // 2 is missing for now; 3 is journaled and in SQS.
      await p.journal.put(entry('DLY', 3));
      await send(fx.sqs, fx.queueUrl, [{ sourceId: 'DLY', seq: 3, body: '{"n":3}', extraAttributes: { journaled: { DataType: 'String', StringValue: '1' } } }]);
      await waitFor('gap at 2', async () => (await ledgerItem('DLY'))?.gapSeq?.N === '2', 30_000, 200);
      // The entry of 2 lands (an owing producer writes it); the lane fills it, the app answers 503.
      await p.journal.put(entry('DLY', 2));
      await waitFor('2 tried from the journal', () => calls.some((c) => c.key === 'DLY:2'), 30_000, 100);
      await sleep(1500);
      const story = await new SourceStatusReader(fx.dynamo, fx.table).describe('DLY', DEFAULT_THRESHOLDS, Date.now());
      const gapLine = formatStory(story!, Date.now()).find((l) => l.startsWith('gap'));
      console.log(`status while 2 is in the journal and refused by the app: ${gapLine}`);
      const r = await declareLost(p, { sourceId: 'DLY', seq: 2n, actor: 'op', reason: 'status says seq 2 is in neither the queue nor the journal', nowMs: Date.now(), quietMs: 1000 });
      console.log(`declare-lost: ${r.line}`);
      // Expected: no gap shown, declare-lost refused; seq 2 waits for the app like any failing head.
      expect({ gapShown: gapLine !== undefined, declareLost: r.ok }).toEqual({ gapShown: false, declareLost: false });
    } finally {
      producer.close();
      await relay.stop(1000);
      server.closeAllConnections();
      server.close();
    }
  }, 120_000);
});
