import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoJournal, entryFromMessage } from '../../src/adapters/journal';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import type { RelayMessage } from '../../src/core/message';
import { CommandSourceControl } from '../../src/demo/source-control';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
let fx: Fixture;
let down: Fixture;
const cli = (args: string[], table = fx.table) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, PROGRESS_TABLE: table }, maxBuffer: 8 << 20 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

const producer = (n: bigint) => ({ kind: 'producer' as const, value: n, text: String(n), key: String(n), sqs: n, queueId: 'q@1' });
const message = (sourceId: string, seq: bigint, body: string, messageId: string): RelayMessage => ({
  messageId, receiptHandle: '', sourceId, seq: producer(seq), body, contentType: 'application/json', receiveCount: 1, firstReceivedAt: Date.now(), sentAt: Date.now() - 1000, trace: {},
});
const BODY5 = '{"order":5,"note":"the head"}';
const BIG = 'x'.repeat(400_000);

async function fail(f: Fixture, sourceId: string, attempt: number, error: string, lastStatus?: number, seq = '1'): Promise<void> {
  const now = Date.now();
  await new DynamoLedger(f.dynamo, f.table).recordFailure(sourceId, {
    messageId: `head-${sourceId}`, seq, attempt, error, atMs: now - 1000, nextAttemptAtMs: now + 60_000,
    ...(lastStatus === undefined ? {} : { lastStatus }), headSentAt: now - 5000, retentionDeadlineAt: now + 86_400_000,
  });
}

beforeAll(async () => {
  fx = await freshQueueAndTable('show');
  down = await freshQueueAndTable('showdown');
  const ledger = new DynamoLedger(fx.dynamo, fx.table);
  const journal = new DynamoJournal(fx.dynamo, fx.table);
  // S: parked, its failing head (seq 5) journaled, and a large entry behind it.
  await ledger.advance('S', producer(4n), 'm4', Date.now());
  await fail(fx, 'S', 7, 'HTTP 422: schema', 422, '5');
  await new CommandSourceControl(fx.dynamo, fx.table, 'alice').park('S', 'poison');
  await journal.put(entryFromMessage(message('S', 5n, BODY5, 'head-S'), Date.now()));
  await journal.put(entryFromMessage(message('S', 6n, BIG, 'big-6'), Date.now()));
  // Two stuck sources and a retrying one, failing their own way (4xx: not app-wide).
  await fail(fx, 'st-1', 9, 'HTTP 422: bad', 422);
  await fail(fx, 'st-2', 9, 'HTTP 400: bad', 400);
  await fail(fx, 'rt-1', 1, 'HTTP 409: conflict', 409);
  for (const id of ['eu-1', 'eu-2', 'us-1']) await ledger.advance(id, producer(1n), 'm1', Date.now());
  await new CommandSourceControl(fx.dynamo, fx.table, 'alice').park('eu-2', 'earlier');
  // Another table where every failing source cannot reach the app.
  for (const id of ['a', 'b', 'c', 'd']) await fail(down, id, 9, 'network error: ECONNREFUSED');
}, 60_000);

afterAll(() => {
  fx.close();
  down.close();
});

describe('fifo-relay show', () => {
  it('prints the failing head, and its body once journaled', async () => {
    const head = await cli(['show', 'S']);
    expect(head.code).toBe(0);
    expect(head.stdout).toMatch(/^failing head {2}seq 5, message head-S$/m);
    expect(head.stdout).toMatch(/^attempts {6}7$/m);
    expect(head.stdout).toMatch(/^last HTTP {5}422$/m);
    expect(head.stdout).toMatch(/^retention {5}journaled: SQS retention no longer applies$/m);
    expect(head.stdout).not.toContain(BODY5);
    const body = await cli(['show', 'S', '--body']);
    expect(body).toMatchObject({ code: 0, stdout: BODY5 });
    expect(body.stderr).toMatch(/^journal seq {3}5 \(producer seq\)$/m);
  }, 60_000);

  it('a journal entry by --seq, its body bounded on stdout and whole to a file', async () => {
    const meta = await cli(['show', 'S', '--seq', '6']);
    expect(meta.code).toBe(0);
    expect(meta.stdout).toMatch(/^message {7}big-6$/m);
    expect(meta.stdout).toMatch(/^body {10}4 chunks, sha256 [0-9a-f]{64}$/m);
    const tooBig = await cli(['show', 'S', '--seq', '6', '--body']);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stdout).toBe('');
    expect(tooBig.stderr.trimEnd().split('\n').at(-1)).toBe('fifo-relay show: the body is 400000 bytes, more than --max-bytes 65536: write it to a file with --out FILE');
    const file = join(mkdtempSync(join(tmpdir(), 'show-')), 'big.body');
    const written = await cli(['show', 'S', '--seq', '6', '--body', '--out', file]);
    expect(written.code).toBe(0);
    expect(written.stdout).toContain(`body written to ${file} (400000 bytes)`);
    expect(readFileSync(file, 'utf8')).toBe(BIG);
    expect((await cli(['show', 'S', '--seq', '6', '--body', '--out', file])).code).toBe(1); // never overwrites
  }, 60_000);

  it('refuses with one line naming the command: unknown source, no such entry, a head only in SQS', async () => {
    expect(await cli(['show', 'ghost'])).toMatchObject({ code: 1, stderr: `fifo-relay show: unknown source "ghost": the progress table holds nothing for it (table ${fx.table})\n` });
    expect(await cli(['show', 'S', '--seq', '99'])).toMatchObject({ code: 1, stderr: 'fifo-relay show: source "S" has no journal entry at seq 99 (journal seq 5 .. 6, 2 entries)\n' });
    const inSqs = await cli(['show', 'rt-1', '--body']);
    expect(inSqs.code).toBe(1);
    expect(inSqs.stderr.trimEnd().split('\n').at(-1)).toMatch(/^fifo-relay show: the failing head's body is only in SQS \(not journaled yet\)/);
    expect((await cli(['show', 'S', '--seq', 'x'])).code).toBe(2);
  }, 60_000);
});

describe('fifo-relay park for an incident', () => {
  it('--stuck: a dry run counts and lists, then parks exactly those, each audited', async () => {
    const dry = await cli(['park', '--stuck', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n')).toEqual(['dry run: park would act on 2 stuck source(s); nothing changed', 'st-1', 'st-2']);
    const control = new DynamoSourceControl(fx.dynamo, fx.table);
    expect((await control.read('st-1')).state).toBe('active');
    const parked = await cli(['park', '--stuck', '--reason', 'incident 42', '--actor', 'oncall']);
    expect(parked.code).toBe(0);
    expect(parked.stdout.trim().split('\n').at(-1)).toBe('parked 2 of 2; 0 refused');
    expect((await control.read('st-1')).state).toBe('parked');
    expect((await control.read('st-2')).state).toBe('parked');
    expect((await control.read('rt-1')).state).toBe('active');
    expect((await cli(['status', 'st-1'])).stdout).toMatch(/^\s+\S+Z\s+park\s+oncall\s+incident 42$/m);
  }, 60_000);

  it('--prefix: every source of the prefix, already parked ones left alone', async () => {
    const dry = await cli(['park', '--prefix', 'eu-', '--dry-run']);
    expect(dry.stdout.trim().split('\n')).toEqual(['dry run: park would act on 1 source(s) with prefix "eu-" (1 already parked, left alone); nothing changed', 'eu-1']);
    const parked = await cli(['park', '--prefix', 'eu-', '--reason', 'tenant eu incident']);
    expect(parked.code).toBe(0);
    expect(parked.stdout.trim().split('\n').at(-1)).toBe('parked 1 of 1; 0 refused');
    expect((await new DynamoSourceControl(fx.dynamo, fx.table).read('us-1')).state).toBe('active');
  }, 60_000);

  it('--stuck refuses while the app looks down across sources (parking would not help), unless told', async () => {
    const refused = await cli(['park', '--stuck', '--reason', 'x'], down.table);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^fifo-relay park: refused: the app looks down — cannot reach the app: 4 of 4 failing sources fail this way\. .*; not parking 4 stuck source\(s\) \(add --even-if-app-down to park them anyway\)\n$/);
    expect((await new DynamoSourceControl(down.dynamo, down.table).read('a')).state).toBe('active');
    const dry = await cli(['park', '--stuck', '--dry-run'], down.table);
    expect(dry.stdout).toMatch(/^warning: the app looks down/m);
    expect((await cli(['park', '--stuck', '--reason', 'x', '--even-if-app-down'], down.table)).code).toBe(0);
  }, 60_000);

  it('refusals name the command; a wrong command line prints usage and exits 2', async () => {
    expect(await cli(['park', 'S', '--reason', 'again'])).toMatchObject({ code: 1, stderr: 'fifo-relay park: refused: source "S" is already parked\n' });
    expect(await cli(['park', 'ghost', '--reason', 'x'])).toMatchObject({ code: 1, stderr: 'fifo-relay park: refused: unknown source "ghost": the progress table holds nothing for it\n' });
    expect(await cli(['unpark', 'us-1', '--reason', 'x'])).toMatchObject({ code: 1, stderr: 'fifo-relay unpark: refused: source "us-1" is not parked (state: active)\n' });
    for (const args of [['park', '--reason', 'x'], ['park', 'S', '--stuck', '--reason', 'x'], ['park', 'S', '--dry-run'], ['park', '--prefix', '', '--dry-run']]) {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('usage: fifo-relay park ');
    }
  }, 60_000);
});
