import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface BacklogScalingProps {
  service: ecs.FargateService;
  cluster: ecs.ICluster;
  queue: sqs.IQueue;
  minTasks: number;
  maxTasks: number;
  backlogPerTask: number;
}

/**
 * Target tracking on visible messages per running task. CDK's target-tracking helper only takes
 * a single metric, so the policy is written with metric math at the CloudFormation level.
 * The running task count comes from Container Insights, which the cluster enables.
 */
export class BacklogScaling extends Construct {
  readonly policy: appscaling.CfnScalingPolicy;

  constructor(scope: Construct, id: string, props: BacklogScalingProps) {
    super(scope, id);
    const taskCount = props.service.autoScaleTaskCount({ minCapacity: props.minTasks, maxCapacity: props.maxTasks });
    // ScalableTaskCount keeps its ScalableTarget private; it is always its child named 'Target'.
    const target = taskCount.node.findChild('Target') as appscaling.ScalableTarget;

    this.policy = new appscaling.CfnScalingPolicy(this, 'BacklogPerTask', {
      policyName: 'backlog-per-task',
      policyType: 'TargetTrackingScaling',
      scalingTargetId: target.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: props.backlogPerTask,
        // Scale out fast on a backlog; scale in slowly, since every stop drains in-flight deliveries.
        scaleOutCooldown: Duration.seconds(60).toSeconds(),
        scaleInCooldown: Duration.minutes(5).toSeconds(),
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'visible',
              metricStat: {
                metric: {
                  namespace: 'AWS/SQS',
                  metricName: 'ApproximateNumberOfMessagesVisible',
                  dimensions: [{ name: 'QueueName', value: props.queue.queueName }],
                },
                stat: 'Sum',
              },
              returnData: false,
            },
            {
              id: 'tasks',
              metricStat: {
                metric: {
                  namespace: 'ECS/ContainerInsights',
                  metricName: 'RunningTaskCount',
                  dimensions: [
                    { name: 'ClusterName', value: props.cluster.clusterName },
                    { name: 'ServiceName', value: props.service.serviceName },
                  ],
                },
                stat: 'Average',
              },
              returnData: false,
            },
            // minTasks is at least 1, so the divisor is only zero while no task has reported yet.
            { id: 'backlogPerTask', expression: 'visible / tasks', label: 'Visible messages per running task', returnData: true },
          ],
        },
      },
    });
  }
}
