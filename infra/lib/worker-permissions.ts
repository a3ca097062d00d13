import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** What the worker calls on its queue; DeleteMessage and ChangeMessageVisibility also cover their batch forms. */
export const WORKER_SQS_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'];
/**
 * What the worker calls on its progress table: reads and conditional writes of the ledger, plus
 * the journal (put-if-absent, query, delete after replay), the audit trail and the per-receive
 * batched state read.
 */
export const WORKER_DYNAMODB_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  // Group-committed ledger advances are PartiQL UPDATE (and INSERT for a new source) statements
  // in BatchExecuteStatement, which IAM authorizes per statement kind.
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];
/** What `fifo-relay park | unpark | skip` call: read the source, conditional state writes, journal queries, audit records. No delete, no scan. */
export const PARK_OPERATOR_DYNAMODB_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];

export interface WorkerPermissionsProps {
  queueArn: string;
  /** The table's ARN in this region (the local replica of the global table). */
  tableArn: string;
  /** Every index of the table: the sparse stuck-by-since and state-by-since listings. */
  indexArns: string[];
}

/**
 * The task role and the operator policy, written out action by action instead of through
 * grant helpers, which would add actions the worker never uses (SendMessage, Scan, …).
 */
export class WorkerPermissions extends Construct {
  readonly taskRole: iam.Role;
  /** Pulls the image, writes the log stream, reads the auth secret at task start; CDK adds those grants. */
  readonly executionRole: iam.Role;
  readonly operatorPolicy: iam.ManagedPolicy;
  readonly parkOperatorPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: WorkerPermissionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Only ECS acting for this account (and, for the task role, for an ECS resource of this
    // account and region) may assume the roles: no confused deputy through another account.
    const fromThisAccount = { StringEquals: { 'aws:SourceAccount': stack.account } };
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', {
        conditions: {
          ...fromThisAccount,
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'ecs', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }) },
        },
      }),
      description: 'fifo-relay worker: consume its FIFO queue and advance its progress ledger',
    });
    // ECS documents the aws:SourceAccount / aws:SourceArn conditions for task roles only; the
    // execution role keeps the plain trust ECS documents for it, since a condition ECS does not
    // send there would fail every task start.
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'fifo-relay task start: image pull, log stream, auth secret',
    });
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ConsumeQueue', actions: WORKER_SQS_ACTIONS, resources: [props.queueArn] }),
    );
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ProgressLedger', actions: WORKER_DYNAMODB_ACTIONS, resources: [props.tableArn] }),
    );
    // The replayer finds unparked sources through the sparse state index; the status page lists
    // stuck, parked and replaying sources across tasks from both sparse indexes.
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'SourceLists', actions: ['dynamodb:Query'], resources: props.indexArns }),
    );

    // For people and tools running `fifo-relay status`: read-only, never attached to the task.
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      description: 'fifo-relay status: list stuck sources and read queue depth (read-only)',
      statements: [
        // Lists from the two sparse indexes; `status <sourceId>` reads one source's items with one Query.
        new iam.PolicyStatement({ sid: 'ListSources', actions: ['dynamodb:Query'], resources: props.indexArns }),
        new iam.PolicyStatement({ sid: 'ReadOneSource', actions: ['dynamodb:Query'], resources: [props.tableArn] }),
        new iam.PolicyStatement({ sid: 'QueueDepth', actions: ['sqs:GetQueueAttributes'], resources: [props.queueArn] }),
      ],
    });

    // Separate, for the few people allowed to change a source's course: park, unpark, skip.
    this.parkOperatorPolicy = new iam.ManagedPolicy(this, 'ParkOperatorPolicy', {
      description: 'fifo-relay park, unpark and skip: conditional state writes on a source, journal reads, audit records',
      statements: [new iam.PolicyStatement({ sid: 'ParkUnparkSkip', actions: PARK_OPERATOR_DYNAMODB_ACTIONS, resources: [props.tableArn] })],
    });
  }
}
