import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoAuditLog } from '../../src/adapters/audit-log';
import { DynamoJournal } from '../../src/adapters/journal';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, sleep, startTestRelay, waitFor, type Fixture } from '../support/fixtures';
import { accepted, startPoisonApp } from '../support/poison-app';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

describe('park, replay and skip end to end (fauxqs + DynamoDB Local, two worker tasks)', () => {
  let fx: Fixture;
  let app: Awaited<ReturnType<typeof startPoisonApp>>;
  const poisoned = new Set<string>();
  const relays: RunningRelay[] = [];
  const cli = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, PROGRESS_TABLE: fx.table, QUEUE_URL: fx.queueUrl } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  beforeEach(async () => {
    fx = await freshQueueAndTable('park');
    poisoned.clear();
    app = await startPoisonApp(poisoned);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop(1000)));
    await app.close();
    fx.close();
  });

  const seqs = (from: number, to: number, sourceId: string) => Array.from({ length: to - from + 1 }, (_, i) => ({ sourceId, seq: from + i, body: JSON.stringify({ sourceId, n: from + i }) }));

  it('a poisoned source is parked (its messages move to the journal, others keep flowing), replayed in order while new ones arrive, then resumes', async () => {
    const control = new DynamoSourceControl(fx.dynamo, fx.table);
    const journal = new DynamoJournal(fx.dynamo, fx.table);
    poisoned.add('P');
    await send(fx.sqs, fx.queueUrl, [...seqs(1, 3, 'P'), ...seqs(1, 3, 'Q')]);
    const config = fx.config({ targetUrl: app.url, retryMaxSeconds: 1, replayPollMs: 200 });
    relays.push(await startTestRelay(config), await startTestRelay(config));

    await waitFor('Q delivered and P failing', () => accepted(app.records, 'Q').length === 3 && app.records.filter((r) => r.sourceId === 'P').length >= 2);

    expect((await cli(['park', 'P', '--actor', 'alice'])).code).toBe(2); // no reason: usage
    expect((await cli(['unpark', 'P', '--reason', 'x'])).code).toBe(1); // not parked
    const park = await cli(['park', 'P', '--reason', 'app rejects seq 1', '--actor', 'alice']);
    expect(park).toMatchObject({ code: 0, stdout: expect.stringContaining('parked P') });
    const again = await cli(['park', 'P', '--reason', 'twice']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toEqual(['fifo-relay park: refused: source "P" is already parked']);
    expect((await cli(['park', 'nobody', '--reason', 'x'])).code).toBe(1);

    // Messages that arrive while parked go to the journal too, and only then leave SQS.
    await send(fx.sqs, fx.queueUrl, seqs(4, 5, 'P'));
    await waitFor('P journaled and gone from SQS', async () => (await journal.count('P')) === 5 && (await messagesLeft(fx)) === 0, 30_000);
    expect(accepted(app.records, 'P')).toEqual([]);
    const callsWhileParked = app.records.length;

    const dry = await cli(['unpark', 'P', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would deliver 5 journaled message(s)');
    expect(dry.stdout.match(/^seq \d+/gm)).toEqual(['seq 1', 'seq 2', 'seq 3', 'seq 4', 'seq 5']);
    expect((await control.read('P')).state).toBe('parked');
    await sleep(1500);
    expect(app.records.length).toBe(callsWhileParked);

    poisoned.delete('P');
    expect((await cli(['unpark', 'P', '--reason', 'app fixed', '--actor', 'alice'])).code).toBe(0);
    // New messages keep arriving during the replay.
    await send(fx.sqs, fx.queueUrl, seqs(6, 8, 'P'));
    await waitFor('P delivered to 8', () => accepted(app.records, 'P').includes(8), 40_000);
    await waitFor('P active', async () => (await control.read('P')).state === 'active', 20_000);
    await send(fx.sqs, fx.queueUrl, seqs(9, 9, 'P'));
    await waitFor('P resumed from SQS', () => accepted(app.records, 'P').includes(9));

    const got = accepted(app.records, 'P');
    // In order, and any repeat only of the message just delivered (same Idempotency-Key, the app drops it).
    const firsts = got.filter((n, i) => got.indexOf(n) === i);
    expect(firsts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThanOrEqual(got[i - 1]!);
    expect(app.records.filter((r) => r.sourceId === 'P' && r.seq === '4').every((r) => r.key === 'P:4')).toBe(true);
    await waitFor('journal cleaned', async () => (await journal.count('P')) === 0);
    // Replayed deliveries count in the delivery metric, under their own path.
    let replayed = 0;
    for (const r of relays) for (const v of (await r.metrics.registry.getSingleMetric('fifo_relay_messages_delivered_total')!.get()).values) if (v.labels.path === 'replay') replayed += v.value;
    expect(replayed).toBeGreaterThanOrEqual(5);
    const audit = await new DynamoAuditLog(fx.dynamo, fx.table).list('P');
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ['park', 'alice'],
      ['unpark', 'alice'],
      ['replay-done', expect.any(String)],
    ]);
  }, 180_000);

  it('skip gives up exactly the head of a parked source, after the quiet period; other seqs are refused', async () => {
    poisoned.add('S');
    await send(fx.sqs, fx.queueUrl, seqs(1, 3, 'S'));
    relays.push(await startTestRelay(fx.config({ targetUrl: app.url, retryMaxSeconds: 1, replayPollMs: 200 })));
    await waitFor('S failing', () => app.records.some((r) => r.sourceId === 'S'));
    expect((await cli(['skip', 'S', '--seq', '1', '--reason', 'x'])).code).toBe(1); // not parked
    expect((await cli(['park', 'S', '--reason', 'poison'])).code).toBe(0);
    const journal = new DynamoJournal(fx.dynamo, fx.table);
    await waitFor('S journaled', async () => (await journal.count('S')) === 3, 30_000);
    expect((await cli(['skip', 'S', '--seq', 'abc', '--reason', 'x'])).code).toBe(2);
    const notHead = await cli(['skip', 'S', '--seq', '2', '--reason', 'x', '--quiet-seconds', '1']);
    expect(notHead).toMatchObject({ code: 1, stderr: expect.stringContaining('the head is 1') });
    await sleep(1100);
    expect((await cli(['skip', 'S', '--seq', '1', '--reason', 'bad payload, agreed with the team', '--quiet-seconds', '1'])).code).toBe(0);
    poisoned.delete('S');
    expect((await cli(['unpark', 'S', '--reason', 'go'])).code).toBe(0);
    await waitFor('S 2 and 3 delivered', () => accepted(app.records, 'S').includes(3), 30_000);
    expect(accepted(app.records, 'S')).toEqual([2, 3]);
    await waitFor('S active', async () => (await new DynamoSourceControl(fx.dynamo, fx.table).read('S')).state === 'active');
    // The skipped body stays in the journal; the delivered ones are cleaned up.
    await waitFor('journal cleaned but for the skipped entry', async () => (await journal.count('S')) === 1);
    const actions = (await new DynamoAuditLog(fx.dynamo, fx.table).list('S')).map((a) => a.action);
    expect(actions).toEqual(['park', 'skip', 'unpark', 'replay-done']);
  }, 120_000);
});
