import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

  it('stores the header as plaintext from a file, never on the command line, and says how to clear a retained table or queue', () => {
    expect(doc).toContain('--secret-string file://header.txt');
    expect(doc).toContain('printf %s "$HEADER" > header.txt');
    expect(doc).not.toMatch(/--secret-string '/);
    expect(doc).toContain('--no-deletion-protection-enabled');
    expect(doc).toContain('aws sqs delete-queue');
  });

  it('looks the base image digest up unquoted, ready to paste after the @', () => {
    expect(doc).toContain("docker buildx imagetools inspect node:24.21.0-bookworm-slim --format '{{.Manifest.Digest}}'");
    expect(doc).not.toContain('{{json .Manifest.Digest}}');
  });

  it('clears a replicated table in order: protection off in every replica region, replicas removed, then the table deleted', () => {
    const at = (text: string) => {
      const i = doc.indexOf(text);
      expect(i).toBeGreaterThan(-1);
      return i;
    };
    const unprotectReplicas = at('aws dynamodb update-table --region $R --table-name fifo-relay-progress --no-deletion-protection-enabled');
    const removeReplica = at('--replica-updates "[{\\"Delete\\":{\\"RegionName\\":\\"$R\\"}}]"');
    const deleteHome = at('aws dynamodb delete-table --region $TABLE_REGION');
    expect(unprotectReplicas).toBeLessThan(removeReplica);
    expect(removeReplica).toBeLessThan(deleteHome);
    expect(doc).not.toMatch(/removes the replicas with it/);
  });

  describe('the secret pre-flight checks, run as the doc prints them', () => {
    const lineOf = (start: string): string => {
      const line = doc.split('\n').find((l) => l.startsWith(start));
      expect(line).toBeDefined();
      return line!;
    };
    const bash = (script: string, cwd: string): string => execFileSync('bash', ['-c', `{ ${script}; } 2>&1`], { cwd, encoding: 'utf8' }).trim();

    it('passes a header value in a file and refuses JSON (compact or pretty), leading space, a trailing newline and an empty file', () => {
      const check = lineOf('if head -c1 header.txt');
      const dir = mkdtempSync(join(tmpdir(), 'header-check-'));
      try {
        const verdict = (content: string) => {
          writeFileSync(join(dir, 'header.txt'), content);
          return bash(check, dir);
        };
        expect(verdict('Bearer abc.def')).toBe('header.txt: ok');
        for (const bad of ['{"Authorization":"Bearer x"}', '{\n  "Authorization": "Bearer x"\n}\n', ' Bearer x', 'Bearer x\n', 'Bearer x\r', '']) {
          expect(verdict(bad)).toBe('header.txt: not a header value');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('checks a stored secret\'s first character the same way (the CLI\'s text output stood in by printf)', () => {
      const line = lineOf('aws secretsmanager get-secret-value');
      const tail = line.slice(line.indexOf('| head -c1'));
      // `--output text` prints the value and a newline.
      const verdict = (value: string) => bash(`printf '%s\\n' '${value}' ${tail}`, tmpdir());
      expect(verdict('Bearer abc')).toBe('secret: first character ok');
      expect(verdict('{"Authorization":"Bearer x"}')).toBe('secret: not a header value (JSON, or leading space)');
    });
  });

  it('documents every context key the CDK app reads, here or in the full reference (docs/aws.md)', () => {
    const settings = read('infra/lib/settings.ts');
    const keys = new Set([...settings.matchAll(/\bget(?:, |\()'(\w+)'/g)].map((m) => m[1]!));
    expect(keys.size).toBeGreaterThan(20);
    const docs = `${read('docs/aws.md')}\n${doc}`;
    expect([...keys].filter((k) => !docs.includes(`\`${k}\``))).toEqual([]);
  });
});
