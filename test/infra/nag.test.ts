import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { RelayQueue } from '../../infra/lib/relay-queue';
import { synthRelayApp } from './synth-relay-app';

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

const contexts: Array<[string, Record<string, unknown>]> = [
  ['one region, defaults', { regions: 'us-east-1' }],
  [
    'three regions, ECR image, secret ARN, alarm topic',
    {
      regions: 'us-east-1,eu-west-1,ap-southeast-2',
      tableRegion: 'us-east-1',
      replicaRegions: 'eu-west-1,ap-southeast-2',
      imageUri: '123456789012.dkr.ecr.{region}.amazonaws.com/fifo-relay:1.0.0',
      authSecretArn: 'arn:aws:secretsmanager:{region}:123456789012:secret:fifo-relay/auth-AbCdEf',
      alarmTopicArn: 'arn:aws:sns:{region}:123456789012:oncall',
    },
  ],
];

describe('cdk-nag AwsSolutions', () => {
  it.each(contexts)('leaves no unacknowledged error or warning (%s)', (_name, context) => {
    const { app } = synthRelayApp(context);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });

  it('acknowledges only the expected rules, each with a written reason', () => {
    const { app } = synthRelayApp(contexts[1]![1]);
    // aws-cdk-lib acknowledges some CloudFormation-Validate rules on its own constructs; those are not ours.
    const acks = acknowledgements(app).filter((a) => a.id.includes('AwsSolutions-'));
    expect([...new Set(acks.map((a) => a.id.replace(/^[a-z]+::/i, '')))].sort()).toEqual([
      'AwsSolutions-ECS2',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-SQS3',
    ]);
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(60);
    // Acknowledged where the finding is, never for a whole stack; the "*" only on the execution role's own policy.
    for (const a of acks) expect(a.path.split('/').length).toBeGreaterThan(2);
    for (const a of acks.filter((x) => x.id.includes('IAM5'))) expect(a.path).toMatch(/\/Permissions\/ExecutionRole\/DefaultPolicy$/);
  });

  it('would catch a finding: the same queue without its acknowledgement fails SQS3', () => {
    const app = new App();
    const stack = new Stack(app, 'Probe', { env: { region: 'us-east-1' } });
    new RelayQueue(stack, 'Queue', { queueName: 'probe.fifo' });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual(['AwsSolutions-SQS3']);
  });
});
