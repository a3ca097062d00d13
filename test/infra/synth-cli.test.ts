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

function synth(out: string, context: string[]) {
  return spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out, ...context], {
    cwd: infraDir,
    env: credentialFreeEnv(),
    encoding: 'utf8',
    // A synth takes 35-55 s alone on a 2-CPU machine and much longer beside the rest of the suite.
    timeout: 240_000,
  });
}

const SYNTH_TEST_TIMEOUT = 300_000;

const deployable = ['-c', 'imageUri=public.ecr.aws/example/fifo-relay:1.0.0', '-c', 'targetUrl=https://app.example.com/events'];

describe('cdk synth (the CLI, as CI runs it)', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'fifo-relay-cdk-out-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it.each([
    ['two regions', [...deployable, '-c', 'regions=us-east-1,eu-west-1', '-c', 'tableRegion=us-east-1', '-c', 'replicaRegions=eu-west-1', '-c', 'alarmTopicArn=arn:aws:sns:{region}:123456789012:oncall'], ['FifoRelay-Table', 'FifoRelay-Service-us-east-1', 'FifoRelay-Service-eu-west-1']],
    ['one region, dry run', ['-c', 'dryRun=true'], ['FifoRelay-Table', 'FifoRelay-Service-us-east-1']],
  ])('synthesizes without AWS credentials (%s)', (name, context, stacks) => {
    const result = synth(out, context);
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    for (const stack of stacks) expect(existsSync(join(out, `${stack}.template.json`))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { environment?: string }> };
    // Account-agnostic, region-pinned: deployable to whatever account the deployer's credentials name.
    expect(manifest.artifacts['FifoRelay-Table']?.environment).toBe('aws://unknown-account/us-east-1');
    // The placeholder warning is printed where a person running synth (or deploy) sees it.
    const printed = `${result.stdout}\n${result.stderr}`;
    if (name.includes('dry run')) {
      expect(printed).toMatch(/WARNING context imageUri and targetUrl not set \(dryRun=true\)[\s\S]*FifoRelay-Service-us-east-1/);
      expect(printed).toMatch(/WARNING context alarmTopicArn not set: .* have no action/);
    }
    else expect(printed).not.toMatch(/placeholder|not set/);
  }, SYNTH_TEST_TIMEOUT);

  it('fails without the image and the app URL, saying which to set', () => {
    const result = synth(out, []);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('context imageUri and targetUrl must be set (or set dryRun=true');
  }, SYNTH_TEST_TIMEOUT);
});
