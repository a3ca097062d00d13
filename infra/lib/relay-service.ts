import { Duration, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { containerImage } from './container-image';
import { checkWorkerConfig } from './worker-config-check';

/** Fargate's ceiling: ECS sends SIGTERM, then SIGKILL this long after. */
export const STOP_TIMEOUT_SECONDS = 120;
/** In-flight deliveries get this long after SIGTERM; the rest of stopTimeout covers release and exit. */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 90;
export const EMF_NAMESPACE = 'FifoRelay';
const DEFAULT_HTTP_PORT = 9400;

export interface RelayServiceProps {
  cluster: ecs.ICluster;
  queue: sqs.IQueue;
  tableName: string;
  taskRole: iam.IRole;
  executionRole: iam.IRole;
  securityGroup: ec2.ISecurityGroup;
  imageUri: string;
  targetUrl: string;
  authSecret: { arn: string } | { name: string };
  authSecretKmsKeyArn: string | undefined;
  cpu: number;
  memoryMiB: number;
  logRetentionDays: number;
  workerEnv: Record<string, string>;
}

export class RelayService extends Construct {
  readonly service: ecs.FargateService;
  readonly logGroup: logs.LogGroup;
  /** ECR pulls need ecr:GetAuthorizationToken, which IAM only grants on "*". */
  readonly pullsFromEcr: boolean;

  constructor(scope: Construct, id: string, props: RelayServiceProps) {
    super(scope, id);
    const region = Stack.of(this).region;

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      taskRole: props.taskRole,
      executionRole: props.executionRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });

    const secret =
      'arn' in props.authSecret
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'AuthHeaderSecret', props.authSecret.arn)
        : secretsmanager.Secret.fromSecretNameV2(this, 'AuthHeaderSecret', props.authSecret.name);
    if (props.authSecretKmsKeyArn) {
      // A secret under a customer-managed key: ECS must decrypt it, and only through Secrets Manager.
      props.executionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptAuthSecret',
          actions: ['kms:Decrypt'],
          resources: [props.authSecretKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
        }),
      );
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetentionDays as logs.RetentionDays });

    const { image, fromEcr } = containerImage(this, props.imageUri);
    this.pullsFromEcr = fromEcr;
    const httpPort = Number(props.workerEnv.HTTP_PORT ?? DEFAULT_HTTP_PORT);
    const environment = {
      QUEUE_URL: props.queue.queueUrl,
      TARGET_URL: props.targetUrl,
      PROGRESS_TABLE: props.tableName,
      AWS_REGION: region,
      EMF_NAMESPACE,
      SHUTDOWN_GRACE_SECONDS: String(DEFAULT_SHUTDOWN_GRACE_SECONDS),
      // A heap cap sized to the task keeps V8 from growing lazily toward the host's memory;
      // 60% leaves room for buffers, sockets and held message bodies outside the JS heap.
      NODE_OPTIONS: `--enable-source-maps --max-semi-space-size=16 --max-old-space-size=${Math.floor(props.memoryMiB * 0.6)}`,
      ...props.workerEnv,
    };
    checkWorkerConfig(environment);
    taskDefinition.addContainer('worker', {
      image,
      essential: true,
      readonlyRootFilesystem: true,
      environment,
      // An init process as PID 1 passes ECS's SIGTERM on to node and reaps children; node as
      // PID 1 would get no default signal handling at all.
      linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true }),
      secrets: { TARGET_AUTH_HEADER: ecs.Secret.fromSecretsManager(secret) },
      stopTimeout: Duration.seconds(STOP_TIMEOUT_SECONDS),
      portMappings: [{ containerPort: httpPort, name: 'http' }],
      // The image is slim (no curl): node itself probes liveness.
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${httpPort}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'worker' }),
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      // Start new tasks before stopping old ones; each stopped task finishes its deliveries first.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: false,
      securityGroups: [props.securityGroup],
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    // A task that starts before its subnet routes out (image, secret, logs) or before the execution
    // role's grants exist fails with ResourceInitializationError, and counts towards the circuit
    // breaker that rolls the whole stack back. CDK already orders the service after the task role.
    for (const subnet of props.cluster.vpc.privateSubnets) this.service.node.addDependency(subnet.internetConnectivityEstablished);
    this.service.node.addDependency(props.executionRole);
  }
}
