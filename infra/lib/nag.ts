import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { RelayServiceStack } from './relay-service-stack';

/**
 * Every AwsSolutions finding the design accepts, each on the narrowest construct it applies to,
 * with the reason it is right for this service.
 */
export function acknowledgeNagFindings(stack: RelayServiceStack): void {
  Validations.of(stack.relayQueue.queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'No DLQ by design: every message is retried until the app accepts it, in order per source. A redrive policy would move a ' +
      'failing head to a DLQ after maxReceiveCount and let the messages behind it overtake it; the worker refuses such a queue. ' +
      'Stuck messages are surfaced by the oldest-message-age and stuck-sources alarms instead.',
  });
  Validations.of(stack.relayService.service.taskDefinition).acknowledge({
    id: 'AwsSolutions-ECS2',
    reason:
      'The plain environment variables are non-secret settings (queue URL, table name, region, tuning values) that change only ' +
      'with a deployment. The one secret, the app Authorization header, comes from Secrets Manager as an ECS secret.',
  });
  if (stack.relayService.pullsFromEcr) {
    // Only the execution role's own policy holds the "*" (its DefaultPolicy, where CDK puts the pull grant).
    const policy = stack.permissions.executionRole.node.findChild('DefaultPolicy');
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions, so IAM only accepts "*" for it; the image pull actions ' +
        'themselves are limited to the one repository.',
    });
  }
}

/** Synthesis fails on any AwsSolutions finding that is not acknowledged above. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
