import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct, IDependable } from 'constructs';

export interface RelayVpcProps {
  vpcId: string | undefined;
  /** What the worker may do through the DynamoDB gateway endpoint, and on which ARNs. */
  dynamoDbActions: string[];
  dynamoDbResources: string[];
  /**
   * Add the S3 gateway endpoint for ECR's layer bucket of this region. Only for an image in this
   * region's ECR: the endpoint carries all of the VPC's same-region S3 traffic and admits that
   * bucket only, so layers another registry serves from S3 in the region would be refused.
   */
  ecrLayerEndpoint: boolean;
}

export interface RelayVpc {
  vpc: ec2.IVpc;
  /**
   * The gateway endpoints the stack added (none to an existing VPC). Adding one rewrites the
   * subnets' route tables, which can briefly cut open connections: tasks start after them.
   */
  gatewayEndpoints: IDependable[];
}

/**
 * A new VPC by default, so `cdk synth` needs no AWS access; an existing one by id is looked up
 * (that needs credentials once, then cdk.context.json remembers it). An existing VPC keeps its
 * own endpoints and routes: the stack adds nothing to it.
 */
export function relayVpc(scope: Construct, props: RelayVpcProps): RelayVpc {
  if (props.vpcId) return { vpc: ec2.Vpc.fromLookup(scope, 'Vpc', { vpcId: props.vpcId }), gatewayEndpoints: [] };
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    // One NAT gateway per AZ: a task in an AZ whose NAT is gone can reach neither SQS nor the
    // app. Interface endpoints would cover the AWS APIs only, and the app is reached through
    // the NAT anyway, so a NAT per AZ is what keeps every path up when one AZ fails.
    natGateways: 2,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
  });
  vpc.addFlowLog('FlowLog', { trafficType: ec2.FlowLogTrafficType.REJECT });
  // Ledger reads and writes stay off the NAT gateways (gateway endpoints are free), and the
  // endpoint only lets through what the worker does to its own table.
  const endpoint = vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
  endpoint.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ProgressTableOnly',
      principals: [new iam.AnyPrincipal()],
      actions: props.dynamoDbActions,
      resources: props.dynamoDbResources,
    }),
  );
  if (!props.ecrLayerEndpoint) return { vpc, gatewayEndpoints: [endpoint] };
  // ECR serves image layers from S3: through a gateway endpoint (free) rather than the NAT
  // gateways, admitting only ECR's layer bucket of this region, the policy ECS documents for it.
  const s3 = vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  s3.addToPolicy(
    new iam.PolicyStatement({
      sid: 'EcrImageLayersOnly',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [`arn:${Stack.of(scope).partition}:s3:::prod-${Stack.of(scope).region}-starport-layer-bucket/*`],
    }),
  );
  return { vpc, gatewayEndpoints: [endpoint, s3] };
}

/**
 * Tasks take no inbound traffic (the health check runs inside the container) and call out only
 * on 443 (AWS APIs, through the NAT or the DynamoDB endpoint) and on the app's port.
 */
export function workerSecurityGroup(scope: Construct, vpc: ec2.IVpc, appPort: number): ec2.SecurityGroup {
  const sg = new ec2.SecurityGroup(scope, 'WorkerSecurityGroup', {
    vpc,
    description: 'fifo-relay worker tasks: https to AWS APIs and the app port, nothing inbound',
    allowAllOutbound: false,
  });
  sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (SQS, DynamoDB, Secrets Manager, ECR, CloudWatch Logs) and an https app');
  if (appPort !== 443) sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(appPort), 'The app\'s delivery port');
  return sg;
}
