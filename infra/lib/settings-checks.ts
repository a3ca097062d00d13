import { isIP } from 'node:net';

/**
 * Checks on settings that AWS would only reject at deploy time (or, worse, accept and then fail
 * at run time). Each throws one line that names the context key and says what to do.
 */

/** Fargate's supported task sizes: CPU units → allowed memory (MiB) as [from, to, step]. */
const FARGATE_SIZES: Record<number, [number, number, number]> = {
  256: [512, 2048, 512],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

export function checkFargateSize(cpu: number, memoryMiB: number): void {
  const range = FARGATE_SIZES[cpu];
  if (!range) throw new Error(`context cpu must be one of Fargate's sizes ${Object.keys(FARGATE_SIZES).join(', ')} (got ${cpu})`);
  const [from, to, step] = range;
  // 256 CPU units allow 512, 1024 and 2048 only; the step rule covers every other size.
  const allowed = cpu === 256 ? [512, 1024, 2048].includes(memoryMiB) : memoryMiB >= from && memoryMiB <= to && (memoryMiB - from) % step === 0;
  if (!allowed) {
    throw new Error(`context memoryMiB ${memoryMiB} is not a Fargate size for cpu ${cpu}: use ${from} to ${to} in steps of ${step}`);
  }
}

/** The worker runs as the unprivileged `node` user, which cannot bind below 1024; 0 would pick a random port the health check cannot know. */
export function checkHttpPort(workerEnv: Record<string, string>): number {
  const raw = workerEnv.HTTP_PORT ?? '9400';
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new Error(`context workerEnv: HTTP_PORT must be from 1024 to 65535 (got ${raw}): the worker runs as a non-root user and the health check needs a fixed port`);
  }
  return port;
}

/**
 * Secrets Manager appends "-" and six random characters to a secret's ARN. A name that itself
 * ends that way makes `fromSecretNameV2`'s partial ARN look complete, so the lookup fails at
 * every task start (the CDK and Secrets Manager docs both warn about it).
 */
export function checkSecretName(name: string): void {
  if (/-[A-Za-z0-9/_+=.@]{6}$/.test(name)) {
    throw new Error(
      `context authSecretName "${name}" ends in "-" and six characters, which Secrets Manager reads as an ARN suffix: ` +
        'rename the secret, or give its complete ARN as authSecretArn',
    );
  }
}

export function checkSecretArn(arn: string): void {
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-{}]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(arn)) {
    throw new Error('context authSecretArn must be a complete secret ARN, ending in "-" and the six characters Secrets Manager added');
  }
}

const REGIONAL_ARNS: Record<string, { pattern: RegExp; kind: string; why: string }> = {
  alarmTopicArn: {
    pattern: /^arn:aws[a-z-]*:sns:([a-z0-9-]+|\{region\}):\d{12}:[A-Za-z0-9_-]{1,256}$/,
    kind: 'an SNS topic ARN (arn:…:sns:<region>:<account>:<topic>)',
    why: 'CloudWatch alarm actions cannot notify a topic in another region',
  },
  authSecretKmsKeyArn: {
    pattern: /^arn:aws[a-z-]*:kms:([a-z0-9-]+|\{region\}):\d{12}:key\/[A-Za-z0-9-]+$/,
    kind: 'a KMS key ARN (arn:…:key/<id>; IAM grants kms:Decrypt on a key, not on an alias)',
    why: "the secret's key lives in the secret's region, and the grant's kms:ViaService condition names that region's Secrets Manager",
  },
};

/**
 * An ARN that must be in each service's own region: its format, and after `{region}` is
 * replaced, its region against every service region. Returns the value unchanged.
 */
export function checkRegionalArn(key: keyof typeof REGIONAL_ARNS, value: string | undefined, serviceRegions: string[]): string | undefined {
  if (value === undefined) return undefined;
  const rule = REGIONAL_ARNS[key]!;
  const m = rule.pattern.exec(value);
  if (!m) throw new Error(`context ${key} must be ${rule.kind}`);
  const region = m[1]!;
  if (region === '{region}') return value;
  const other = serviceRegions.find((r) => r !== region);
  if (other) {
    throw new Error(
      `context ${key} is in ${region}, but the service in ${other} needs one in its own region (${rule.why}): ` +
        'write {region} in its place and have one in every service region',
    );
  }
  return value;
}

// Names that never resolve in public DNS (RFC 6761, RFC 8375, ICANN's .internal, common private suffixes).
const PRIVATE_SUFFIXES = ['internal', 'local', 'localhost', 'lan', 'home.arpa', 'corp', 'intranet', 'private', 'test', 'invalid', 'example'];

function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 6) return /^(::1$|f[cd]|fe[89ab])/i.test(ip);
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/** True when a new VPC (public DNS, a NAT gateway to the internet) cannot reach the host. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(host)) return isPrivateAddress(host);
  if (!host.includes('.')) return true;
  return PRIVATE_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`));
}

export interface TargetChecks {
  allowCleartextAuth: boolean;
  vpcId: string | undefined;
}

/** The app's URL as the stack will use it: absolute, no embedded credentials, https unless allowed, reachable. */
export function checkTargetUrl(targetUrl: string, opts: TargetChecks): URL {
  let url: URL;
  try {
    url = new URL(targetUrl);
  } catch {
    throw new Error('context targetUrl must be an absolute http(s) URL');
  }
  // Never echo the URL itself: it might carry the very credentials refused here.
  if (url.username || url.password) {
    throw new Error('context targetUrl must not carry credentials (user:password@): store the Authorization header in the auth secret');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('context targetUrl must be an http(s) URL');
  if (url.protocol === 'http:' && !opts.allowCleartextAuth) {
    throw new Error(
      'context targetUrl uses http: the Authorization header from the auth secret would cross the network in cleartext; ' +
        'use https, or set allowCleartextAuth=true if the path is private and you accept that',
    );
  }
  if (!opts.vpcId && isPrivateHost(url.hostname)) {
    throw new Error(
      `context targetUrl host ${url.hostname} is not publicly resolvable, and a new VPC can neither resolve nor route to it: ` +
        'set vpcId to a VPC that reaches the app (its DNS and routes), see docs/deploy-network.md',
    );
  }
  return url;
}

/** The app's port as the task's security group must allow it out. */
export function targetPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
