import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const infraDir = resolve(__dirname, '..', '..', 'infra');

/** The environment of a CI job with no AWS account: no credentials, no profile, no instance metadata. */
function credentialFreeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_)/.test(k)) env[k] = v;
  }
  const empty = mkdtempSync(join(tmpdir(), 'fifo-relay-noaws-'));
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(empty, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(empty, 'credentials'),
    CDK_DISABLE_VERSION_CHECK: '1',
  };
}

describe('cdk synth (the CLI, as CI runs it)', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'fifo-relay-cdk-out-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it.each([
    ['one region', [], ['FifoRelay-Table', 'FifoRelay-Service-us-east-1']],
    ['two regions', ['-c', 'regions=us-east-1,eu-west-1'], ['FifoRelay-Table', 'FifoRelay-Service-us-east-1', 'FifoRelay-Service-eu-west-1']],
  ])('synthesizes without AWS credentials (%s)', (_name, context, stacks) => {
    const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out, ...context], {
      cwd: infraDir,
      env: credentialFreeEnv(),
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    for (const stack of stacks) expect(existsSync(join(out, `${stack}.template.json`))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { environment?: string }> };
    // Account-agnostic, region-pinned: deployable to whatever account the deployer's credentials name.
    expect(manifest.artifacts['FifoRelay-Table']?.environment).toBe(`aws://unknown-account/${stacks[1]!.replace('FifoRelay-Service-', '')}`);
  });
});
