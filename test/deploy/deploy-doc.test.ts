import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

describe('docs/deploy.md, the walk from a new account to a running service', () => {
  const doc = read('docs/deploy.md');

  it('creates the ECS service-linked role before bootstrapping, and bootstraps before deploying', () => {
    const role = doc.indexOf('aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com');
    const bootstrap = doc.indexOf('npx cdk bootstrap');
    const deploy = doc.indexOf('npx cdk deploy');
    expect(role).toBeGreaterThan(-1);
    expect(bootstrap).toBeGreaterThan(role);
    expect(deploy).toBeGreaterThan(bootstrap);
  });

  it('stores the header as plaintext and says how to clear a retained table or queue', () => {
    expect(doc).toContain("--secret-string 'Bearer …'");
    expect(doc).toContain('--no-deletion-protection-enabled');
    expect(doc).toContain('aws sqs delete-queue');
  });

  it('documents every context key the CDK app reads, here or in the README', () => {
    const settings = read('infra/lib/settings.ts');
    const keys = new Set([...settings.matchAll(/\bget(?:, |\()'(\w+)'/g)].map((m) => m[1]!));
    expect(keys.size).toBeGreaterThan(20);
    const docs = `${read('README.md')}\n${doc}`;
    expect([...keys].filter((k) => !docs.includes(`\`${k}\``))).toEqual([]);
  });
});
