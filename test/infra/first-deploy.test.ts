/**
 * What makes a first deploy in a new account roll back, tasks fail to start, or lose data: each
 * check synthesizes the app as the CLI would and reads the template (or the synth error).
 */
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { resourcesOf, synthRelayApp } from './synth-relay-app';

type Json = Record<string, unknown>;

function only(template: Template, type: string): { id: string; resource: Json } {
  const all = Object.entries(resourcesOf(template, type));
  expect(all).toHaveLength(1);
  return { id: all[0]![0], resource: all[0]![1] as unknown as Json };
}

/** A private ECR image in the service's region: its layers come from that region's S3 layer bucket. */
const ECR_IMAGE = '123456789012.dkr.ecr.{region}.amazonaws.com/fifo-relay:1.0.0';

const dependsOn = (resource: Json) => (resource.DependsOn as string[] | undefined) ?? [];

describe('the worker\'s own configuration check runs at synth, on the environment the task definition carries', () => {
  it('refuses a value the worker would refuse at start, with the worker\'s one line per problem', () => {
    expect(() => synthRelayApp({ regions: 'us-east-1', workerEnv: '{"APP_TIMEOUT_MS":"120000","VISIBILITY_TIMEOUT_SECONDS":"abc"}' })).toThrow(
      /the worker would refuse to start[\s\S]*VISIBILITY_TIMEOUT_SECONDS: must be a whole number from 5 to 3600/,
    );
  });

  it('refuses a combination only the worker\'s cross-checks see, against the grace the stack itself sets', () => {
    // The stack sets SHUTDOWN_GRACE_SECONDS=90; a 120 s app timeout would be cut at every deploy.
    expect(() => synthRelayApp({ regions: 'us-east-1', workerEnv: { APP_TIMEOUT_MS: '120000' } })).toThrow(
      /SHUTDOWN_GRACE_SECONDS \(90 s\) is shorter than APP_TIMEOUT_MS \(120000 ms\)/,
    );
    expect(() => synthRelayApp({ regions: 'us-east-1', workerEnv: { APP_TIMEOUT_MS: '60000' } })).not.toThrow();
  });
});

describe('the service waits for its network and its execution role\'s policy', () => {
  it('depends on every private subnet\'s default route and on the execution role\'s policy, besides the task role', () => {
    const t = synthRelayApp({ regions: 'us-east-1' }).services.get('us-east-1')!;
    const service = only(t, 'AWS::ECS::Service').resource;
    const natRoutes = Object.entries(resourcesOf(t, 'AWS::EC2::Route')).filter(([, r]) => r.Properties?.NatGatewayId).map(([id]) => id);
    expect(natRoutes).toHaveLength(2);
    const executionPolicies = Object.entries(resourcesOf(t, 'AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p.Properties?.Roles).includes('ExecutionRole'))
      .map(([id]) => id);
    expect(executionPolicies).toHaveLength(1);
    expect(dependsOn(service)).toEqual(expect.arrayContaining([...natRoutes, ...executionPolicies]));
  });

  it('depends on the S3 and DynamoDB gateway endpoints, so adding them does not cut the first tasks\' connections', () => {
    const t = synthRelayApp({ regions: 'us-east-1', imageUri: ECR_IMAGE }).services.get('us-east-1')!;
    const endpoints = Object.entries(resourcesOf(t, 'AWS::EC2::VPCEndpoint'))
      .filter(([, e]) => e.Properties?.VpcEndpointType === 'Gateway')
      .map(([id, e]) => ({ id, service: JSON.stringify(e.Properties!.ServiceName) }));
    expect(endpoints.map((e) => /\.s3"|\.dynamodb"/.exec(e.service)?.[0]).sort()).toEqual(['.dynamodb"', '.s3"']);
    expect(dependsOn(only(t, 'AWS::ECS::Service').resource)).toEqual(expect.arrayContaining(endpoints.map((e) => e.id)));
  });
});

describe('regional ARNs', () => {
  const two = { regions: 'eu-west-1,us-east-1', tableRegion: 'eu-west-1', replicaRegions: 'us-east-1' };

  it('refuses an alarm topic or a KMS key of one region for a service in another', () => {
    expect(() => synthRelayApp({ ...two, alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall' })).toThrow(
      /context alarmTopicArn is in eu-west-1, but the service in us-east-1 .*\{region\}/,
    );
    expect(() => synthRelayApp({ ...two, authSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' })).toThrow(
      /context authSecretKmsKeyArn is in eu-west-1, but the service in us-east-1/,
    );
  });

  it('refuses an ARN that is not a topic or a key ARN', () => {
    expect(() => synthRelayApp({ regions: 'us-east-1', alarmTopicArn: 'oncall' })).toThrow(/context alarmTopicArn must be an SNS topic ARN/);
    expect(() => synthRelayApp({ regions: 'us-east-1', authSecretKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/secrets' })).toThrow(
      /context authSecretKmsKeyArn must be a KMS key ARN \(arn:…:key\/<id>; IAM grants kms:Decrypt on a key, not on an alias\)/,
    );
  });

  it('accepts a {region} ARN in every region, and a fixed one in a one-region app', () => {
    const relay = synthRelayApp({ ...two, alarmTopicArn: 'arn:aws:sns:{region}:123456789012:oncall' });
    relay.services.get('us-east-1')!.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: ['arn:aws:sns:us-east-1:123456789012:oncall'] });
    expect(() => synthRelayApp({ regions: 'eu-west-1', alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall' })).not.toThrow();
  });
});

describe('the queue outlives its stack', () => {
  it('is retained on delete and on replacement, so undelivered messages are never deleted with it', () => {
    const t = synthRelayApp({ regions: 'us-east-1' }).services.get('us-east-1')!;
    t.hasResource('AWS::SQS::Queue', { UpdateReplacePolicy: 'Retain' });
  });

  it('is deleted when its own create rolls back (RetainExceptOnCreate), so the named queue does not block the retry', () => {
    const t = synthRelayApp({ regions: 'us-east-1' }).services.get('us-east-1')!;
    expect(only(t, 'AWS::SQS::Queue').resource.DeletionPolicy).toBe('RetainExceptOnCreate');
    // The table keeps plain Retain: it lives in its own stack and holds the progress of every region.
    const table = synthRelayApp({ regions: 'us-east-1' }).table;
    table.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('start-up signals', () => {
  it('runs an init process in the task, so node is not PID 1', () => {
    const t = synthRelayApp({ regions: 'us-east-1' }).services.get('us-east-1')!;
    const containers = only(t, 'AWS::ECS::TaskDefinition').resource.Properties as Json;
    expect((containers.ContainerDefinitions as Json[])[0]).toMatchObject({ LinuxParameters: { InitProcessEnabled: true } });
  });
});

describe('alarms that can be heard', () => {
  it('warns at synth that alarms have no action without alarmTopicArn, and not with one', () => {
    const quiet = synthRelayApp({ regions: 'us-east-1' });
    Annotations.fromStack(quiet.stacks.services[0]!).hasWarning('*', Match.stringLikeRegexp('alarmTopicArn not set.*no action'));
    const heard = synthRelayApp({ regions: 'us-east-1', alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:oncall' });
    Annotations.fromStack(heard.stacks.services[0]!).hasNoWarning('*', Match.stringLikeRegexp('alarmTopicArn not set'));
  });

  it('says in TooFewTasks itself that it fires once on a new stack', () => {
    const t = synthRelayApp({ regions: 'us-east-1' }).services.get('us-east-1')!;
    const tooFew = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).find((a) => a.Properties?.MetricName === 'RunningTaskCount')!;
    expect(JSON.stringify(tooFew.Properties!.AlarmDescription)).toMatch(/new stack it fires once.*not a deployment alarm/i);
  });
});

describe('deployment alarms watch the release, not the app or the data', () => {
  // Every alarm the ECS service would roll a deployment back on, as the template's logical ids.
  const deploymentAlarmIds = (t: Template): string[] => {
    const alarms = ((only(t, 'AWS::ECS::Service').resource.Properties as Json).DeploymentConfiguration as Json).Alarms as Json | undefined;
    const names = JSON.stringify(alarms?.Enable ? alarms.AlarmNames : []);
    return Object.keys(resourcesOf(t, 'AWS::CloudWatch::Alarm')).filter((id) => names.includes(`"${id}"`));
  };
  const metricsOf = (t: Template, id: string): string => {
    const p = resourcesOf(t, 'AWS::CloudWatch::Alarm')[id]!.Properties!;
    return JSON.stringify(p.MetricName ?? p.Metrics);
  };

  it('rolls back no deployment because one old stuck source (or an app outage) is in ALARM: no worker metric is a deployment alarm', () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const t = synthRelayApp({ regions: region }).services.get(region)!;
      // A single head stuck for hours carries its age across tasks in OldestRetryingHeadAgeSeconds;
      // an app outage zeroes Deliveries. Neither says anything about the release being deployed.
      const watched = deploymentAlarmIds(t).map((id) => metricsOf(t, id));
      expect(watched.filter((m) => /OldestRetryingHeadAgeSeconds|Deliveries|SourcesRetrying|ApproximateAgeOfOldestMessage/.test(m))).toEqual([]);
      expect(((only(t, 'AWS::ECS::Service').resource.Properties as Json).DeploymentConfiguration as Json).DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
    }
  });

  it('has no deployment alarms by default, and refuses deploymentAlarms=true with the reason', () => {
    const t = synthRelayApp({ regions: 'us-east-1' }).services.get('us-east-1')!;
    expect(((only(t, 'AWS::ECS::Service').resource.Properties as Json).DeploymentConfiguration as Json).Alarms).toBeUndefined();
    expect(() => synthRelayApp({ regions: 'us-east-1', deploymentAlarms: 'true' })).toThrow(/^context deploymentAlarms: .*circuit breaker/);
    expect(() => synthRelayApp({ regions: 'us-east-1', deploymentAlarms: 'false' })).not.toThrow();
  });
});

describe('smaller deploy details', () => {
  let t: Template;
  beforeAll(() => {
    t = synthRelayApp({ regions: 'us-east-1' }).services.get('us-east-1')!;
  });

  const s3Endpoints = (template: Template) =>
    Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint'))
      .map((e) => e.Properties!)
      .filter((e) => JSON.stringify(e.ServiceName).includes('.s3'));

  it('has an S3 gateway endpoint that admits only ECR\'s image layer bucket when the image is in ECR in the same region', () => {
    const ecr = synthRelayApp({ regions: 'us-east-1', imageUri: ECR_IMAGE }).services.get('us-east-1')!;
    const s3 = s3Endpoints(ecr);
    expect(s3).toHaveLength(1);
    expect(s3[0]).toMatchObject({ VpcEndpointType: 'Gateway' });
    const statements = (s3[0]!.PolicyDocument as { Statement: Json[] }).Statement;
    expect(statements).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*' })]);
  });

  it('adds no S3 endpoint (so no bucket-only policy on the VPC\'s S3 traffic) for an image from another registry or ECR region', () => {
    // public.ecr.aws, Docker Hub, GHCR and ECR in another region do not serve layers from this region's layer bucket.
    expect(s3Endpoints(t)).toEqual([]);
    const elsewhere = synthRelayApp({ regions: 'us-east-1', imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/fifo-relay:1.0.0' }).services.get('us-east-1')!;
    expect(s3Endpoints(elsewhere)).toEqual([]);
    const dynamo = Object.entries(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).map(([id]) => id);
    expect(dynamo).toHaveLength(1);
    expect(dependsOn(only(t, 'AWS::ECS::Service').resource)).toEqual(expect.arrayContaining(dynamo));
  });

  it('trusts ECS for the execution role without the task-role-only source conditions', () => {
    const roles = Object.values(resourcesOf(t, 'AWS::IAM::Role')).filter((r) => /task start/.test(String(r.Properties?.Description)));
    expect(roles).toHaveLength(1);
    const statement = (roles[0]!.Properties!.AssumeRolePolicyDocument as { Statement: Json[] }).Statement[0]!;
    expect(statement).toMatchObject({ Principal: { Service: 'ecs-tasks.amazonaws.com' } });
    expect(statement.Condition).toBeUndefined();
  });
});
