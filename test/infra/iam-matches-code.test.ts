import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { WORKER_DYNAMODB_ACTIONS, WORKER_SQS_ACTIONS } from '../../infra/lib/worker-permissions';

const root = resolve(__dirname, '..', '..');

/** Every src file the worker's composition root reaches through relative imports. */
function reachableFrom(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) visit(`${resolve(dirname(file), m[1] as string)}.ts`);
  };
  visit(resolve(root, entry));
  return [...seen];
}

/** IAM actions for the SDK commands and PartiQL statements found in the worker's code. */
function actionsUsed(files: string[]): { dynamodb: Set<string>; sqs: Set<string> } {
  const dynamodb = new Set<string>();
  const sqs = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const dynamo = /@aws-sdk\/client-dynamodb/.test(text);
    for (const m of text.matchAll(/new (\w+)Command\(/g)) {
      const op = m[1] as string;
      if (op === 'BatchExecuteStatement' || op === 'ExecuteStatement') continue;
      if (dynamo) dynamodb.add(`dynamodb:${op}`);
      else sqs.add(`sqs:${op.replace(/Batch$/, '')}`);
    }
    if (/`UPDATE \$\{/.test(text)) dynamodb.add('dynamodb:PartiQLUpdate');
    if (/`INSERT INTO \$\{/.test(text)) dynamodb.add('dynamodb:PartiQLInsert');
  }
  return { dynamodb, sqs };
}

describe('the task role grants exactly what the worker calls', () => {
  const used = actionsUsed(reachableFrom('src/relay.ts'));

  it('covers every DynamoDB call and PartiQL statement the worker makes, and nothing else', () => {
    expect(used.dynamodb.has('dynamodb:PartiQLUpdate')).toBe(true);
    expect([...used.dynamodb].sort()).toEqual([...WORKER_DYNAMODB_ACTIONS].sort());
  });

  it('covers every SQS call the worker makes, and nothing else', () => {
    expect([...used.sqs].sort()).toEqual([...WORKER_SQS_ACTIONS].sort());
  });
});

