import { describeConfig } from '../../src/config';
import { checkFargateSize, checkHttpPort, checkRegionalArn, checkSecretArn, checkSecretName, checkTargetUrl, targetPort } from './settings-checks';
import { tableRegions, type TableRegions } from './table-regions';

/** Everything the app reads from context; `{region}` in a string is replaced per region. */
export interface RelaySettings {
  /** Regions that run a queue and a worker service. */
  regions: string[];
  /** Where the global table lives, set apart from where services run. */
  table: TableRegions;
  /** Leave undefined for account-agnostic templates (synth needs no credentials then). */
  account: string | undefined;
  stackPrefix: string;
  queueName: string;
  tableName: string;
  imageUri: string;
  targetUrl: string;
  /** The app's port, which the task's security group lets out besides 443. */
  targetPort: number;
  /** Context keys left at a placeholder; only a dry run (dryRun=true) may have any. */
  placeholders: string[];
  /** A complete secret ARN or a secret name holding the Authorization header value. */
  authSecret: { arn: string } | { name: string };
  /** The customer-managed KMS key that encrypts the secret, if any: the execution role needs kms:Decrypt on it. */
  authSecretKmsKeyArn: string | undefined;
  minTasks: number;
  maxTasks: number;
  /** Target of visible messages per running task that the scaling policy holds. */
  backlogPerTask: number;
  cpu: number;
  memoryMiB: number;
  vpcId: string | undefined;
  alarmTopicArn: string | undefined;
  oldestMessageAlarmSeconds: number;
  stuckSourceAlarmSeconds: number;
  noDeliveryAlarmMinutes: number;
  logRetentionDays: number;
  /** Extra worker settings (env variable → value), checked against the worker's config schema. */
  workerEnv: Record<string, string>;
}

export const PLACEHOLDER_TARGET_URL = 'https://app.example.invalid/deliveries';
export const PLACEHOLDER_IMAGE_URI = 'fifo-relay:placeholder-set-imageUri';
/** Ends in neither "-" nor six characters after one, so a partial ARN can never look complete. */
export const DEFAULT_AUTH_SECRET_NAME = 'fifo-relay/target-authorization';

/** Env variables the stack sets itself, or must come from a secret; not overridable through workerEnv. */
export const STACK_OWNED_ENV = ['QUEUE_URL', 'TARGET_URL', 'PROGRESS_TABLE', 'AWS_REGION', 'TARGET_AUTH_HEADER', 'EMF_NAMESPACE'];

type ContextReader = (key: string) => unknown;

function str(get: ContextReader, key: string, fallback: string): string;
function str(get: ContextReader, key: string, fallback?: undefined): string | undefined;
function str(get: ContextReader, key: string, fallback?: string): string | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v !== 'string') throw new Error(`context ${key} must be a string`);
  return v;
}

function int(get: ContextReader, key: string, fallback: number, min: number, max: number): number {
  const raw = get(key);
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new Error(`context ${key} must be an integer from ${min} to ${max} (got ${String(raw)})`);
  }
  return v;
}

/** Accepts a JSON array or a comma-separated string, as `-c key=a,b` on the command line gives. */
function list(get: ContextReader, key: string): string[] | undefined {
  const v = get(key);
  if (v === undefined || v === '') return undefined;
  const items = Array.isArray(v) ? v : String(v).split(',');
  return items.map((s) => String(s).trim()).filter((s) => s !== '');
}

/** Exactly true or false (a boolean, or its text): a typo never switches a safety check off. */
function bool(get: ContextReader, key: string): boolean {
  const v = get(key);
  if (v === undefined || v === '' || v === false || v === 'false') return false;
  if (v === true || v === 'true') return true;
  throw new Error(`context ${key} must be true or false (got ${String(v)})`);
}

/** Accepts an object or a JSON string of one. */
function record(get: ContextReader, key: string): Record<string, string> {
  const v = get(key);
  if (v === undefined || v === '') return {};
  const obj: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`context ${key} must be an object of strings`);
  return Object.fromEntries(Object.entries(obj).map(([k, val]) => [k, String(val)]));
}

// CloudWatch Logs accepts only these retention periods.
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function retentionDays(get: ContextReader): number {
  const days = int(get, 'logRetentionDays', 30, 1, 3653);
  if (!RETENTION_DAYS.includes(days)) throw new Error(`context logRetentionDays must be one of ${RETENTION_DAYS.join(', ')}`);
  return days;
}

function checkWorkerEnv(env: Record<string, string>): void {
  const known = new Set(describeConfig().map((c) => c.env));
  for (const name of Object.keys(env)) {
    if (!known.has(name)) throw new Error(`context workerEnv: ${name} is not a worker setting`);
    if (STACK_OWNED_ENV.includes(name)) throw new Error(`context workerEnv: ${name} is set by the stack`);
  }
}

/**
 * imageUri and targetUrl have no usable default: the image would not exist and the worker would
 * retry forever against a name that cannot resolve. Only a dry run may leave them out.
 */
function deployTarget(get: ContextReader): { imageUri: string; targetUrl: string; placeholders: string[] } {
  const dryRun = bool(get, 'dryRun');
  const imageUri = str(get, 'imageUri');
  const targetUrl = str(get, 'targetUrl');
  const missing = [imageUri ? undefined : 'imageUri', targetUrl ? undefined : 'targetUrl'].filter((k) => k !== undefined);
  if (missing.length > 0 && !dryRun) {
    throw new Error(`context ${missing.join(' and ')} must be set (or set dryRun=true to synthesize with placeholders that cannot be deployed)`);
  }
  return { imageUri: imageUri ?? PLACEHOLDER_IMAGE_URI, targetUrl: targetUrl ?? PLACEHOLDER_TARGET_URL, placeholders: missing };
}

function authSecret(get: ContextReader): { arn: string } | { name: string } {
  const arn = str(get, 'authSecretArn');
  if (arn) {
    checkSecretArn(arn);
    return { arn };
  }
  const name = str(get, 'authSecretName', DEFAULT_AUTH_SECRET_NAME);
  checkSecretName(name);
  return { name };
}

export function readSettings(get: ContextReader, env: NodeJS.ProcessEnv = process.env): RelaySettings {
  const regions = list(get, 'regions') ?? [env.CDK_DEFAULT_REGION ?? 'us-east-1'];
  if (regions.length === 0) throw new Error('context regions must name at least one region');
  if (new Set(regions).size !== regions.length) throw new Error('context regions lists a region twice');
  const table = tableRegions({
    serviceRegions: regions,
    tableRegion: str(get, 'tableRegion'),
    replicaRegions: list(get, 'replicaRegions'),
    unprotectedReplicaRegions: list(get, 'unprotectedReplicaRegions'),
    deployedReplicaRegions: list(get, 'deployedReplicaRegions') ?? (get('deployedReplicaRegions') === '' ? [] : undefined),
  });
  const queueName = str(get, 'queueName', 'fifo-relay.fifo');
  if (!queueName.endsWith('.fifo')) throw new Error('context queueName must end with .fifo');
  const minTasks = int(get, 'minTasks', 1, 1, 1000);
  const maxTasks = int(get, 'maxTasks', 10, 1, 1000);
  if (maxTasks < minTasks) throw new Error('context maxTasks must be at least minTasks');
  if (bool(get, 'deploymentAlarms')) {
    throw new Error(
      'context deploymentAlarms: no alarm of this app is release-sensitive (StuckSources and NoDeliveries watch the app and the data, ' +
        'so they would roll back unrelated deployments); the deployment circuit breaker is the rollback signal. Leave it unset or false',
    );
  }
  const workerEnv = record(get, 'workerEnv');
  checkWorkerEnv(workerEnv);
  checkHttpPort(workerEnv);
  const cpu = int(get, 'cpu', 512, 256, 16384);
  const memoryMiB = int(get, 'memoryMiB', 1024, 512, 122880);
  checkFargateSize(cpu, memoryMiB);
  const vpcId = str(get, 'vpcId');
  const target = deployTarget(get);
  // The placeholder cannot resolve by design; the deploy guard keeps it from being deployed.
  const url = target.placeholders.includes('targetUrl')
    ? new URL(target.targetUrl)
    : checkTargetUrl(target.targetUrl, { allowCleartextAuth: bool(get, 'allowCleartextAuth'), vpcId });
  return {
    regions,
    table,
    account: str(get, 'account') ?? env.CDK_DEFAULT_ACCOUNT,
    stackPrefix: str(get, 'stackPrefix', 'FifoRelay'),
    queueName,
    tableName: str(get, 'tableName', 'fifo-relay-progress'),
    imageUri: target.imageUri,
    targetUrl: target.targetUrl,
    targetPort: targetPort(url),
    placeholders: target.placeholders,
    authSecret: authSecret(get),
    authSecretKmsKeyArn: checkRegionalArn('authSecretKmsKeyArn', str(get, 'authSecretKmsKeyArn'), regions),
    minTasks,
    maxTasks,
    backlogPerTask: int(get, 'backlogPerTask', 100, 1, 1_000_000),
    cpu,
    memoryMiB,
    vpcId,
    alarmTopicArn: checkRegionalArn('alarmTopicArn', str(get, 'alarmTopicArn'), regions),
    oldestMessageAlarmSeconds: int(get, 'oldestMessageAlarmSeconds', 900, 60, 1209600),
    stuckSourceAlarmSeconds: int(get, 'stuckSourceAlarmSeconds', 900, 60, 1209600),
    noDeliveryAlarmMinutes: int(get, 'noDeliveryAlarmMinutes', 15, 5, 1440),
    logRetentionDays: retentionDays(get),
    workerEnv,
  };
}

export function forRegion(value: string, region: string): string {
  return value.replaceAll('{region}', region);
}
