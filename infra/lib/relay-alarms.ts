import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EMF_NAMESPACE } from './relay-service';

export interface RelayAlarmsProps {
  queue: sqs.IQueue;
  cluster: ecs.ICluster;
  service: ecs.FargateService;
  minTasks: number;
  oldestMessageAlarmSeconds: number;
  stuckSourceAlarmSeconds: number;
  noDeliveryAlarmMinutes: number;
  alarmTopicArn: string | undefined;
}

/**
 * Retry-until-success never drops a message, so trouble shows up as age, not as errors: a head
 * that keeps failing, a queue that stops draining, workers that deliver nothing.
 */
export class RelayAlarms extends Construct {
  readonly oldestMessage: cloudwatch.Alarm;
  readonly stuckSources: cloudwatch.Alarm;
  readonly noDeliveries: cloudwatch.Alarm;
  readonly tooFewTasks: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RelayAlarmsProps) {
    super(scope, id);
    const queueName = props.queue.queueName;
    const minute = Duration.minutes(1);
    // The worker's EMF lines carry this one dimension set; no per-source dimensions.
    const workerMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: EMF_NAMESPACE, metricName, dimensionsMap: { QueueName: queueName }, statistic, period: minute });

    this.oldestMessage = props.queue
      .metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: minute })
      .createAlarm(this, 'OldestMessageAge', {
        alarmDescription: `A message of ${queueName} has waited over ${props.oldestMessageAlarmSeconds} s: a source is stuck or the service is short of tasks.`,
        threshold: props.oldestMessageAlarmSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        // SQS stops publishing for a queue that has been idle for hours; that is not trouble.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    this.stuckSources = workerMetric('OldestRetryingHeadAgeSeconds', 'Maximum').createAlarm(this, 'StuckSources', {
      alarmDescription: `A source on ${queueName} has failed delivery for over ${props.stuckSourceAlarmSeconds} s; \`fifo-relay status\` lists which.`,
      threshold: props.stuckSourceAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const stalled = new cloudwatch.MathExpression({
      // Counting in-flight messages too: when every head is waiting out a backoff, none is visible.
      expression: 'IF((visible + inFlight) > 0 AND FILL(deliveries, 0) == 0, 1, 0)',
      usingMetrics: {
        visible: props.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: minute }),
        inFlight: props.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: minute }),
        deliveries: workerMetric('Deliveries', 'Sum'),
      },
      label: 'Backlog with no deliveries',
      period: minute,
    });
    this.noDeliveries = stalled.createAlarm(this, 'NoDeliveries', {
      alarmDescription: `${queueName} has a backlog but no task delivered anything for ${props.noDeliveryAlarmMinutes} min.`,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: props.noDeliveryAlarmMinutes,
      datapointsToAlarm: props.noDeliveryAlarmMinutes,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // NoDeliveries cannot see a total outage: tasks that crash before their first EMF line leave
    // Deliveries without data, which reads as not breaching. The running task count can.
    this.tooFewTasks = new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: props.service.serviceName },
      statistic: 'Minimum',
      period: minute,
    }).createAlarm(this, 'TooFewTasks', {
      alarmDescription:
        `Fewer than ${props.minTasks} worker task(s) of ${queueName} running for 5 min: tasks fail to start or crash; see the service's events and stopped tasks. ` +
        'On a new stack it fires once, minutes after creation, until Container Insights has reported the running tasks; not a deployment alarm.',
      threshold: props.minTasks,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      // Container Insights publishes nothing while no task runs: no data is the outage itself.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    if (!props.alarmTopicArn) {
      Annotations.of(Stack.of(this)).addWarningV2(
        'fifo-relay:no-alarm-topic',
        'context alarmTopicArn not set: OldestMessageAge, StuckSources, NoDeliveries and TooFewTasks have no action, so nobody is told when ' +
          'a source is stuck or the service stops; set alarmTopicArn=arn:aws:sns:{region}:<account>:<topic>',
      );
    }
    if (props.alarmTopicArn) {
      const topic = new actions.SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn));
      for (const alarm of [this.oldestMessage, this.stuckSources, this.noDeliveries, this.tooFewTasks]) {
        alarm.addAlarmAction(topic);
        alarm.addOkAction(topic);
      }
    }
  }
}
