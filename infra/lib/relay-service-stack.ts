import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import { BacklogScaling } from './backlog-scaling';
import { ecrRegionOf } from './container-image';
import { INDEX_NAMES } from './progress-table-stack';
import { RelayAlarms } from './relay-alarms';
import { relayVpc, workerSecurityGroup } from './relay-network';
import { RelayQueue } from './relay-queue';
import { RelayService } from './relay-service';
import { forRegion, type RelaySettings } from './settings';
import { WORKER_DYNAMODB_ACTIONS, WorkerPermissions } from './worker-permissions';

export interface RelayServiceStackProps extends StackProps {
  settings: RelaySettings;
}

/** One region's share: its queue, its worker service, scaling and alarms, against the local table replica. */
export class RelayServiceStack extends Stack {
  readonly relayQueue: RelayQueue;
  readonly relayService: RelayService;
  readonly permissions: WorkerPermissions;
  readonly alarms: RelayAlarms;

  constructor(scope: Construct, id: string, props: RelayServiceStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const region = this.region;

    this.relayQueue = new RelayQueue(this, 'Queue', { queueName: s.queueName });
    const queue = this.relayQueue.queue;

    // The table belongs to the primary region's stack; this region's replica has the same name.
    const tableArn = this.formatArn({ service: 'dynamodb', resource: 'table', resourceName: s.tableName });
    this.permissions = new WorkerPermissions(this, 'Permissions', {
      queueArn: queue.queueArn,
      tableArn,
      indexArns: INDEX_NAMES.map((name) => `${tableArn}/index/${name}`),
    });

    const imageUri = forRegion(s.imageUri, region);
    const { vpc, gatewayEndpoints } = relayVpc(this, {
      vpcId: s.vpcId,
      ecrLayerEndpoint: ecrRegionOf(imageUri) === region,
      dynamoDbActions: WORKER_DYNAMODB_ACTIONS,
      dynamoDbResources: [tableArn, `${tableArn}/index/*`],
    });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      // Also the source of RunningTaskCount for backlog-per-task scaling.
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.relayService = new RelayService(this, 'Worker', {
      cluster,
      queue,
      tableName: s.tableName,
      taskRole: this.permissions.taskRole,
      executionRole: this.permissions.executionRole,
      securityGroup: workerSecurityGroup(this, vpc, s.targetPort),
      imageUri,
      targetUrl: s.targetUrl,
      authSecret: 'arn' in s.authSecret ? { arn: forRegion(s.authSecret.arn, region) } : { name: forRegion(s.authSecret.name, region) },
      authSecretKmsKeyArn: s.authSecretKmsKeyArn ? forRegion(s.authSecretKmsKeyArn, region) : undefined,
      cpu: s.cpu,
      memoryMiB: s.memoryMiB,
      logRetentionDays: s.logRetentionDays,
      workerEnv: s.workerEnv,
    });

    this.relayService.service.node.addDependency(...gatewayEndpoints);

    new BacklogScaling(this, 'Scaling', {
      service: this.relayService.service,
      cluster,
      queue,
      minTasks: s.minTasks,
      maxTasks: s.maxTasks,
      backlogPerTask: s.backlogPerTask,
    });

    this.alarms = new RelayAlarms(this, 'Alarms', {
      queue,
      cluster,
      service: this.relayService.service,
      minTasks: s.minTasks,
      oldestMessageAlarmSeconds: s.oldestMessageAlarmSeconds,
      stuckSourceAlarmSeconds: s.stuckSourceAlarmSeconds,
      noDeliveryAlarmMinutes: s.noDeliveryAlarmMinutes,
      alarmTopicArn: s.alarmTopicArn ? forRegion(s.alarmTopicArn, region) : undefined,
    });

    // No deployment alarms: every alarm here watches the app and the data, not the release (one
    // source stuck for hours, or the app being down, would roll back any unrelated deployment,
    // the fix included). The deployment circuit breaker is the rollback signal for a release.

    new CfnOutput(this, 'QueueUrl', { value: queue.queueUrl });
    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.relayService.service.serviceName });
    new CfnOutput(this, 'OperatorPolicyArn', { value: this.permissions.operatorPolicy.managedPolicyArn });
    new CfnOutput(this, 'ParkOperatorPolicyArn', { value: this.permissions.parkOperatorPolicy.managedPolicyArn });
  }
}
