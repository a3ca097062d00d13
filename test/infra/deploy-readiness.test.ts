import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { CDK_JSON_CONTEXT, resourcesOf, synthRelayApp } from './synth-relay-app';

type Json = Record<string, unknown>;

function only(template: Template, type: string): Json {
  const all = Object.values(resourcesOf(template, type));
  expect(all).toHaveLength(1);
  return all[0]!.Properties!;
}

function rolesByDescription(template: Template, pattern: RegExp): Json {
  const roles = Object.values(resourcesOf(template, 'AWS::IAM::Role')).filter((r) => pattern.test(String(r.Properties?.Description)));
  expect(roles).toHaveLength(1);
  return roles[0]!.Properties!;
}

describe('what a first deploy would trip over (default settings, one region)', () => {
  let t: Template;
  beforeAll(() => {
    t = synthRelayApp({ regions: 'us-east-1', minTasks: 2, maxTasks: 4 }).services.get('us-east-1')!;
  });

  it('sets no deployment alarm at all, not even CDK\'s empty default, which ECS refuses where alarm-based rollback is missing', () => {
    expect((only(t, 'AWS::ECS::Service').DeploymentConfiguration as Json).Alarms).toBeUndefined();
    // ECS in the China regions answers "Alarm based rollback is not supported".
    const china = synthRelayApp({ regions: 'cn-north-1' }).services.get('cn-north-1')!;
    expect((only(china, 'AWS::ECS::Service').DeploymentConfiguration as Json).Alarms).toBeUndefined();
  });

  it('strips the VPC default security group of its rules (restrictDefaultSecurityGroup)', () => {
    expect(Object.keys(resourcesOf(t, 'Custom::VpcRestrictDefaultSG'))).toHaveLength(1);
  });

  it('survives the loss of one AZ: two AZs, a NAT gateway in each, every task subnet routed to its own', () => {
    expect(Object.keys(resourcesOf(t, 'AWS::EC2::NatGateway'))).toHaveLength(2);
    const natRoutes = Object.values(resourcesOf(t, 'AWS::EC2::Route')).filter((r) => r.Properties?.NatGatewayId);
    expect(new Set(natRoutes.map((r) => JSON.stringify(r.Properties!.NatGatewayId))).size).toBe(2);
  });

  it('lets tasks out only on 443 and the app port, and in on nothing', () => {
    const sg = only(t, 'AWS::EC2::SecurityGroup');
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    const service = only(t, 'AWS::ECS::Service');
    const groups = ((service.NetworkConfiguration as Json).AwsvpcConfiguration as Json).SecurityGroups;
    expect(JSON.stringify(groups)).toContain(Object.keys(resourcesOf(t, 'AWS::EC2::SecurityGroup'))[0]);
  });

  it('lets the DynamoDB gateway endpoint reach only the progress table, with the worker\'s actions', () => {
    const endpoints = Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).filter((e) => JSON.stringify(e.Properties?.ServiceName).includes('.dynamodb'));
    expect(endpoints).toHaveLength(1);
    const endpoint = endpoints[0]!.Properties!;
    const statements = (endpoint.PolicyDocument as { Statement: Json[] }).Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'] });
    const resources = JSON.stringify(statements[0]!.Resource);
    expect(resources).toContain(':table/fifo-relay-progress"');
    expect(resources).toContain(':table/fifo-relay-progress/index/*"');
    expect(resources).not.toMatch(/"\*"/);
  });

  it('lets only ECS acting for this account and region assume the task role; the execution role keeps ECS\'s documented trust', () => {
    const task = rolesByDescription(t, /consume its FIFO queue/);
    expect(task.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'ecs-tasks.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:aws:ecs:us-east-1:', { Ref: 'AWS::AccountId' }, ':*']] } },
          },
        },
      ],
    });
    const execution = rolesByDescription(t, /task start/);
    expect(execution.AssumeRolePolicyDocument).toMatchObject({ Statement: [{ Principal: { Service: 'ecs-tasks.amazonaws.com' } }] });
    expect((execution.AssumeRolePolicyDocument as { Statement: Json[] }).Statement[0]!.Condition).toBeUndefined();
  });

  it('raises the too-few-tasks alarm below minTasks', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RunningTaskCount', Threshold: 2, ComparisonOperator: 'LessThanThreshold' });
  });

  it('is deployable: no placeholder parameter or rule', () => {
    expect(t.toJSON().Rules?.RefusePlaceholders).toBeUndefined();
    expect(t.toJSON().Parameters?.AllowPlaceholders).toBeUndefined();
  });
});

describe('a dry run with placeholders', () => {
  it('warns on every service stack (where cdk synth and deploy print it) and refuses to deploy unless allowed', () => {
    const relay = synthRelayApp({ regions: 'us-east-1', imageUri: undefined, targetUrl: undefined, dryRun: 'true' });
    const stack = relay.stacks.services[0]!;
    const t = relay.services.get('us-east-1')!;
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('context imageUri and targetUrl not set \\(dryRun=true\\).*AllowPlaceholders=true'));
    expect(t.toJSON().Parameters.AllowPlaceholders).toMatchObject({ Default: 'false', AllowedValues: ['false', 'true'] });
    expect(t.toJSON().Rules.RefusePlaceholders.Assertions).toEqual([
      { Assert: { 'Fn::Equals': [{ Ref: 'AllowPlaceholders' }, 'true'] }, AssertDescription: expect.stringContaining('placeholder imageUri and targetUrl') },
    ]);
  });
});

describe('an auth secret under a customer-managed key, and an app on its own port', () => {
  it('grants kms:Decrypt on that key through Secrets Manager only, and opens the app port', () => {
    const t = synthRelayApp({
      regions: 'eu-west-1',
      authSecretKmsKeyArn: 'arn:aws:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      targetUrl: 'https://app.example.com:8443/events',
    }).services.get('eu-west-1')!;
    const statements = Object.values(resourcesOf(t, 'AWS::IAM::Policy')).flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Json[] }).Statement);
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('kms:'))).toEqual([
      {
        Sid: 'DecryptAuthSecret',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      },
    ]);
    const egress = (only(t, 'AWS::EC2::SecurityGroup').SecurityGroupEgress as Json[]).map((e) => e.FromPort).sort();
    expect(egress).toEqual([443, 8443]);
  });
});

describe('the feature flags in cdk.json', () => {
  it('are the ones cdk init recommends for this aws-cdk-lib, and the two named effects come from them', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const recommended = require('aws-cdk-lib/recommended-feature-flags.json') as Record<string, unknown>;
    expect(CDK_JSON_CONTEXT).toMatchObject(recommended);
    const flagless = Object.fromEntries(Object.keys(recommended).map((k) => [k, undefined]));
    // Without deployment alarms of its own, the service would get CDK's empty default, which ECS refuses where alarm-based rollback is missing.
    const t = synthRelayApp({ regions: 'us-east-1', ...flagless }).services.get('us-east-1')!;
    expect((only(t, 'AWS::ECS::Service').DeploymentConfiguration as Json).Alarms).toMatchObject({ AlarmNames: [], Enable: false });
    expect(Object.keys(resourcesOf(t, 'Custom::VpcRestrictDefaultSG'))).toHaveLength(0);
  });
});
