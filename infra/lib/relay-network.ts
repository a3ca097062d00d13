import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/**
 * A new VPC by default, so `cdk synth` needs no AWS access; an existing one by id is looked up
 * (that needs credentials once, then cdk.context.json remembers it).
 */
export function relayVpc(scope: Construct, vpcId: string | undefined): ec2.IVpc {
  if (vpcId) return ec2.Vpc.fromLookup(scope, 'Vpc', { vpcId });
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    // Tasks only call out (SQS, DynamoDB, Secrets Manager, ECR, logs, the app); one NAT is enough.
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
  });
  vpc.addFlowLog('FlowLog', { trafficType: ec2.FlowLogTrafficType.REJECT });
  // Ledger reads and writes stay off the NAT gateway (gateway endpoints are free).
  vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
  return vpc;
}
