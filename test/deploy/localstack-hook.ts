/**
 * Runs the LocalStack ready hook with a stand-in `awslocal` that records each call (and the
 * contents of any file:// argument, read while the call runs), so what the hook builds in bash
 * is checked here rather than first by LocalStack.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const HOOK = resolve(__dirname, '..', '..', 'deploy', 'localstack', 'init-aws.sh');
export const HOOK_QUEUE_URL = 'http://localstack:4566/000000000000/fifo-relay.fifo';

export interface HookCall {
  args: string[];
  /** file:// argument → the file's text at the time of the call. */
  files: Record<string, string>;
}

export function runHook(env: Record<string, string>, tableExists = false): HookCall[] {
  const dir = mkdtempSync(join(tmpdir(), 'fifo-relay-init-'));
  try {
    const log = join(dir, 'calls.jsonl');
    const fake = join(dir, 'awslocal');
    writeFileSync(
      fake,
      `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const files = {};
for (const a of args) if (a.startsWith('file://')) files[a] = fs.readFileSync(a.slice(7), 'utf8');
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, files }) + '\\n');
if (args[0] === 'sqs' && args[1] === 'create-queue') console.log(${JSON.stringify(HOOK_QUEUE_URL)});
if (args[0] === 'dynamodb' && args[1] === 'describe-table') process.exit(${tableExists ? 0 : 255});
`,
    );
    chmodSync(fake, 0o755);
    const r = spawnSync('bash', [HOOK], { env: { PATH: `${dir}:${process.env.PATH ?? ''}`, ...env }, encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    return readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as HookCall);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function option(args: string[], name: string): string {
  const i = args.indexOf(name);
  if (i < 0) throw new Error(`${args.slice(0, 2).join(' ')} has no ${name}`);
  return args[i + 1]!;
}

/** Every value after an option up to the next option (shorthand lists such as --key-schema). */
export function values(args: string[], name: string): string[] {
  const i = args.indexOf(name);
  if (i < 0) throw new Error(`${args.slice(0, 2).join(' ')} has no ${name}`);
  const end = args.findIndex((a, j) => j > i && a.startsWith('--'));
  return args.slice(i + 1, end < 0 ? undefined : end);
}

export const callsOf = (calls: HookCall[], service: string, op: string) => calls.filter((c) => c.args[0] === service && c.args[1] === op);

/** `A=x,B=y` → { A: 'x', B: 'y' } (the AWS CLI's shorthand for one structure). */
function shorthand(text: string): Record<string, string> {
  return Object.fromEntries(text.split(',').map((kv) => kv.split('=') as [string, string]));
}

/**
 * The CreateTable request as the AWS CLI would send it: --cli-input-json first, then every
 * option given on the command line on top (the CLI lets those override the file).
 */
export function createTableRequestOf(call: HookCall): Record<string, unknown> {
  const { args, files } = call;
  const input = args.includes('--cli-input-json') ? option(args, '--cli-input-json') : undefined;
  const request: Record<string, unknown> = input ? (JSON.parse(input.startsWith('file://') ? files[input]! : input) as Record<string, unknown>) : {};
  if (args.includes('--table-name')) request.TableName = option(args, '--table-name');
  if (args.includes('--billing-mode')) request.BillingMode = option(args, '--billing-mode');
  if (args.includes('--attribute-definitions')) request.AttributeDefinitions = values(args, '--attribute-definitions').map(shorthand);
  if (args.includes('--key-schema')) request.KeySchema = values(args, '--key-schema').map(shorthand);
  if (args.includes('--global-secondary-indexes')) request.GlobalSecondaryIndexes = JSON.parse(option(args, '--global-secondary-indexes'));
  return request;
}
