import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describeConfig } from '../../src/config';
import { resourcesOf, synthRelayApp, type SynthesizedRelay } from './synth-relay-app';

type Json = Record<string, unknown>;

/** Renders a CloudFormation value as text, intrinsic references as ${Name}, to compare ARNs. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(sep);
  }
  if (typeof v.Ref === 'string') return `\${${v.Ref}}`;
  if (Array.isArray(v['Fn::GetAtt'])) return `\${${(v['Fn::GetAtt'] as string[]).join('.')}}`;
  return JSON.stringify(value);
}

function onlyKey(resources: Record<string, unknown>): string {
  const keys = Object.keys(resources);
  expect(keys).toHaveLength(1);
  return keys[0]!;
}

function container(template: Template): Json {
  const taskDefs = resourcesOf(template, 'AWS::ECS::TaskDefinition');
  const props = taskDefs[onlyKey(taskDefs)]!.Properties!;
  const containers = props.ContainerDefinitions as Json[];
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

function environmentOf(template: Template): Record<string, string> {
  const env = container(template).Environment as Array<{ Name: string; Value: unknown }>;
  return Object.fromEntries(env.map((e) => [e.Name, render(e.Value)]));
}

/** Statements of every policy attached to the role with this logical id. */
function statementsForRole(template: Template, roleId: string): Json[] {
  const policies = { ...resourcesOf(template, 'AWS::IAM::Policy'), ...resourcesOf(template, 'AWS::IAM::ManagedPolicy') };
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties?.Roles ?? []).includes(`"${roleId}"`))
    .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Json[] }).Statement);
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

describe('service stack (one region, default context)', () => {
  let relay: SynthesizedRelay;
  let t: Template;
  let queueId: string;

  beforeAll(() => {
    relay = synthRelayApp({ regions: 'us-east-1' });
    t = relay.services.get('us-east-1')!;
    queueId = onlyKey(resourcesOf(t, 'AWS::SQS::Queue'));
  });

  it('has one FIFO queue with high-throughput settings, maximum retention and no redrive policy', () => {
    t.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      MessageRetentionPeriod: 1209600,
      VisibilityTimeout: 30,
      RedrivePolicy: Match.absent(),
      RedriveAllowPolicy: Match.absent(),
    });
  });

  it('has no dead-letter queue anywhere in the app', () => {
    const all = [relay.table, ...relay.services.values()];
    for (const template of all) {
      const queues = Object.values(resourcesOf(template, 'AWS::SQS::Queue'));
      for (const q of queues) {
        expect(q.Properties?.RedrivePolicy).toBeUndefined();
        expect(q.Properties?.RedriveAllowPolicy).toBeUndefined();
      }
      expect(JSON.stringify(template.toJSON())).not.toMatch(/deadLetter|RedrivePolicy|RedriveAllowPolicy/i);
    }
    expect(Object.keys(resourcesOf(t, 'AWS::SQS::Queue'))).toHaveLength(1);
  });

  it('gives the task role exactly the worker\'s SQS and DynamoDB actions on exactly its queue and table', () => {
    const taskRoleId = (container(t) && (resourcesOf(t, 'AWS::ECS::TaskDefinition')[onlyKey(resourcesOf(t, 'AWS::ECS::TaskDefinition'))]!
      .Properties!.TaskRoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])!;
    const statements = statementsForRole(t, taskRoleId);
    const grants = statements.map((s) => ({
      effect: s.Effect,
      actions: (asList(s.Action) as string[]).slice().sort(),
      resources: asList(s.Resource).map(render),
    }));
    expect(grants).toHaveLength(3);
    expect(grants).toEqual(
      expect.arrayContaining([
        {
          effect: 'Allow',
          actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
          resources: [`\${${queueId}.Arn}`],
        },
        {
          effect: 'Allow',
          actions: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
          resources: ['arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/fifo-relay-progress'],
        },
        {
          effect: 'Allow',
          actions: ['dynamodb:Query'],
          resources: [
            'arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/fifo-relay-progress/index/state-by-since',
            'arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/fifo-relay-progress/index/stuck-by-since',
          ],
        },
      ]),
    );
    const role = resourcesOf(t, 'AWS::IAM::Role')[taskRoleId]!;
    expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(role.Properties?.AssumeRolePolicyDocument)).toContain('ecs-tasks.amazonaws.com');
  });

  it('offers a separate read-only operator policy for the status command, attached to nothing', () => {
    const policies = resourcesOf(t, 'AWS::IAM::ManagedPolicy');
    const operator = Object.values(policies).find((p) => String(p.Properties?.Description).includes('read-only'))!.Properties!;
    expect(operator.Roles).toBeUndefined();
    const statements = (operator.PolicyDocument as { Statement: Json[] }).Statement.map((s) => [s.Action, asList(s.Resource).map(render)]);
    expect(statements).toEqual([
      [
        'dynamodb:Query',
        [
          'arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/fifo-relay-progress/index/state-by-since',
          'arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/fifo-relay-progress/index/stuck-by-since',
        ],
      ],
      ['dynamodb:Query', ['arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/fifo-relay-progress']],
      ['sqs:GetQueueAttributes', [`\${${queueId}.Arn}`]],
    ]);
  });

  it('offers a separate least-privilege policy for park, unpark and skip: no delete, no scan, no queue access, attached to nothing', () => {
    const policies = Object.values(resourcesOf(t, 'AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(2);
    const park = policies.find((p) => String(p.Properties?.Description).includes('park, unpark and skip'))!.Properties!;
    expect(park.Roles).toBeUndefined();
    const statements = (park.PolicyDocument as { Statement: Json[] }).Statement.map((s) => [s.Action, render(s.Resource)]);
    expect(statements).toEqual([
      [['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], 'arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/fifo-relay-progress'],
    ]);
  });

  it('stops the container with a 120 s stopTimeout and checks /healthz on the worker port', () => {
    const c = container(t);
    expect(c.StopTimeout).toBe(120);
    expect(c.Essential).toBe(true);
    expect(c.ReadonlyRootFilesystem).toBe(true);
    const hc = c.HealthCheck as { Command: string[] };
    expect(hc.Command[0]).toBe('CMD');
    expect(hc.Command.join(' ')).toContain('http://127.0.0.1:9400/healthz');
    expect(c.PortMappings).toEqual([expect.objectContaining({ ContainerPort: 9400 })]);
  });

  it('leaves the worker\'s shutdown grace well inside the stopTimeout', () => {
    const grace = Number(environmentOf(t).SHUTDOWN_GRACE_SECONDS);
    expect(grace).toBeGreaterThan(0);
    expect(grace + 10).toBeLessThanOrEqual(container(t).StopTimeout as number);
  });

  it('sends logs to CloudWatch Logs with a retention', () => {
    const c = container(t);
    expect(c.LogConfiguration).toMatchObject({ LogDriver: 'awslogs' });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('takes the app\'s Authorization header from Secrets Manager, never as plain text', () => {
    const c = container(t);
    expect(c.Secrets).toEqual([{ Name: 'TARGET_AUTH_HEADER', ValueFrom: expect.anything() }]);
    expect(render((c.Secrets as Json[])[0]!.ValueFrom)).toMatch(/:secretsmanager:us-east-1:.*:secret:fifo-relay\/target-authorization$/);
    expect(Object.keys(environmentOf(t))).not.toContain('TARGET_AUTH_HEADER');
    const execRoleId = (resourcesOf(t, 'AWS::ECS::TaskDefinition')[onlyKey(resourcesOf(t, 'AWS::ECS::TaskDefinition'))]!.Properties!
      .ExecutionRoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const secretRead = statementsForRole(t, execRoleId).find((s) => asList(s.Action).includes('secretsmanager:GetSecretValue'));
    // The partial ARN plus wildcards matches the real ARN only because the name has no "-xxxxxx" tail of its own.
    expect(render(secretRead?.Resource)).toMatch(/:secret:fifo-relay\/target-authorization-\?\?\?\?\?\?$/);
    expect(JSON.stringify(statementsForRole(t, execRoleId))).not.toContain('kms:');
  });

  it('sets only real worker settings in the container environment, including every required one', () => {
    const env = environmentOf(t);
    // Worker settings from the schema, plus node's own flags (the heap sized to the task).
    const known = new Set([...describeConfig().map((c) => c.env), 'NODE_OPTIONS']);
    for (const name of Object.keys(env)) expect(known).toContain(name);
    expect(env.NODE_OPTIONS).toContain('--max-old-space-size=614');
    expect(env).toMatchObject({
      QUEUE_URL: `\${${queueId}}`,
      PROGRESS_TABLE: 'fifo-relay-progress',
      AWS_REGION: 'us-east-1',
      EMF_NAMESPACE: 'FifoRelay',
    });
    expect(env.TARGET_URL).toMatch(/^https?:\/\//);
  });

  it('runs on Fargate in private subnets with Container Insights and a rolling, self-healing deployment', () => {
    t.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    t.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100, DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it('scales on visible messages per running task, by metric math, between the min and max task counts', () => {
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 10,
      ScalableDimension: 'ecs:service:DesiredCount',
      ServiceNamespace: 'ecs',
    });
    const policies = resourcesOf(t, 'AWS::ApplicationAutoScaling::ScalingPolicy');
    const policy = policies[onlyKey(policies)]!.Properties!;
    expect(policy.PolicyType).toBe('TargetTrackingScaling');
    const config = policy.TargetTrackingScalingPolicyConfiguration as Json;
    expect(config.TargetValue).toBe(100);
    const metrics = (config.CustomizedMetricSpecification as { Metrics: Json[] }).Metrics;
    const byId = new Map(metrics.map((m) => [m.Id as string, m]));
    const returned = metrics.filter((m) => m.ReturnData === true);
    expect(returned).toHaveLength(1);
    const [numerator, denominator] = (returned[0]!.Expression as string).split('/').map((s) => s.trim()) as [string, string];
    expect(byId.get(numerator)?.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }] },
    });
    expect(byId.get(denominator)?.MetricStat).toMatchObject({
      Metric: { Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount' },
    });
    const dims = ((byId.get(denominator)!.MetricStat as Json).Metric as { Dimensions: Array<{ Name: string }> }).Dimensions.map((d) => d.Name);
    expect(dims.sort()).toEqual(['ClusterName', 'ServiceName']);
  });

  it('has the four alarms: oldest message age, stuck sources, no deliveries while there is a backlog, too few tasks', () => {
    const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!);
    expect(alarms).toHaveLength(4);
    expect(alarms).toContainEqual(expect.objectContaining({ Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 }));
    const emf = environmentOf(t).EMF_NAMESPACE;
    expect(alarms).toContainEqual(
      expect.objectContaining({ Namespace: emf, MetricName: 'OldestRetryingHeadAgeSeconds', Dimensions: [{ Name: 'QueueName', Value: expect.anything() }] }),
    );
    const stalled = alarms.find((a) => Array.isArray(a.Metrics))!;
    const queries = stalled.Metrics as Json[];
    const expression = queries.find((q) => q.ReturnData === true)!.Expression as string;
    expect(expression).toMatch(/IF\(.*> 0 AND .*deliveries.* == 0/);
    const names = queries.filter((q) => q.MetricStat).map((q) => ((q.MetricStat as Json).Metric as Json).MetricName);
    expect(names.sort()).toEqual(['ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesVisible', 'Deliveries']);
    const deliveries = queries.find((q) => ((q.MetricStat as Json | undefined)?.Metric as Json | undefined)?.MetricName === 'Deliveries')!;
    expect((deliveries.MetricStat as Json).Metric).toMatchObject({ Namespace: emf });
    const tooFew = alarms.find((a) => a.MetricName === 'RunningTaskCount')!;
    // A total outage (every task crashing before it logs) leaves Deliveries without data, and
    // NoDeliveries reads that as OK; the task count alarm reads missing data as the outage.
    expect(tooFew).toMatchObject({
      Namespace: 'ECS/ContainerInsights',
      Statistic: 'Minimum',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect((tooFew.Dimensions as Array<{ Name: string }>).map((d) => d.Name).sort()).toEqual(['ClusterName', 'ServiceName']);
    for (const a of alarms.filter((x) => x !== tooFew)) expect(a.TreatMissingData).toBe('notBreaching');
  });
});

describe('service stack options', () => {
  it('pulls an ECR image through its repository, so the execution role may pull it', () => {
    const { services } = synthRelayApp({
      regions: 'eu-west-1',
      imageUri: '123456789012.dkr.ecr.{region}.amazonaws.com/fifo-relay:1.4.0',
    });
    const t = services.get('eu-west-1')!;
    expect(render(container(t).Image)).toBe('123456789012.dkr.ecr.eu-west-1.${AWS::URLSuffix}/fifo-relay:1.4.0');
    const pulls = Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
      .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Json[] }).Statement)
      .find((s) => asList(s.Action).includes('ecr:BatchGetImage'));
    expect(render(pulls?.Resource)).toBe('arn:aws:ecr:eu-west-1:123456789012:repository/fifo-relay');
  });

  it('takes task counts, backlog target, worker settings and a secret ARN from context', () => {
    const { services } = synthRelayApp({
      regions: 'us-west-2',
      minTasks: 2,
      maxTasks: 40,
      backlogPerTask: 250,
      workerEnv: { MAX_CONCURRENT_SOURCES: '128', HTTP_PORT: '9500' },
      authSecretArn: 'arn:aws:secretsmanager:{region}:123456789012:secret:relay/auth-AbCdEf',
      targetUrl: 'https://app.example.com/events',
    });
    const t = services.get('us-west-2')!;
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 40 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 250 }),
    });
    const env = environmentOf(t);
    expect(env).toMatchObject({ MAX_CONCURRENT_SOURCES: '128', HTTP_PORT: '9500', TARGET_URL: 'https://app.example.com/events' });
    expect((container(t).HealthCheck as { Command: string[] }).Command.join(' ')).toContain('http://127.0.0.1:9500/healthz');
    expect((container(t).Secrets as Json[])[0]!.ValueFrom).toBe('arn:aws:secretsmanager:us-west-2:123456789012:secret:relay/auth-AbCdEf');
  });

  it('sends alarm and recovery notifications to a topic when one is given', () => {
    const { services } = synthRelayApp({ regions: 'us-east-1', alarmTopicArn: 'arn:aws:sns:{region}:123456789012:oncall' });
    const alarms = Object.values(resourcesOf(services.get('us-east-1')!, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4);
    for (const a of alarms) {
      expect(a.Properties!.AlarmActions).toEqual(['arn:aws:sns:us-east-1:123456789012:oncall']);
      expect(a.Properties!.OKActions).toEqual(['arn:aws:sns:us-east-1:123456789012:oncall']);
    }
  });
});
