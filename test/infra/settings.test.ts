import { readSettings } from '../../infra/lib/settings';

const deployable = { imageUri: 'public.ecr.aws/example/fifo-relay:1.0.0', targetUrl: 'https://app.example.com/events' };
const read = (context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => readSettings((k) => ({ ...deployable, ...context })[k], env);

describe('infra settings from context', () => {
  it('has defaults for everything but the image and the app URL', () => {
    const s = read({});
    expect(s).toMatchObject({ regions: ['us-east-1'], account: undefined, queueName: 'fifo-relay.fifo', minTasks: 1, maxTasks: 10, backlogPerTask: 100 });
    expect(s.table).toEqual({ home: 'us-east-1', replicas: [], unprotected: [] });
    expect(s.placeholders).toEqual([]);
  });

  it('refuses to synthesize without imageUri and targetUrl unless it is a dry run, which lists the placeholders', () => {
    expect(() => read({ imageUri: undefined })).toThrow('context imageUri must be set (or set dryRun=true');
    expect(() => read({ imageUri: undefined, targetUrl: undefined })).toThrow(/context imageUri and targetUrl must be set/);
    expect(read({ imageUri: undefined, targetUrl: undefined, dryRun: 'true' }).placeholders).toEqual(['imageUri', 'targetUrl']);
    expect(read({ targetUrl: undefined, dryRun: true }).placeholders).toEqual(['targetUrl']);
    expect(() => read({ imageUri: undefined, dryRun: 'yes' })).toThrow(/dryRun must be true or false/);
  });

  it('reads regions as a comma list (command line) or an array (cdk.json)', () => {
    expect(read({ regions: 'eu-west-1, us-east-1', tableRegion: 'eu-west-1', replicaRegions: 'us-east-1' }).regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(read({ regions: ['ap-northeast-1', 'us-west-2'], tableRegion: 'us-west-2', replicaRegions: ['ap-northeast-1'] }).regions).toEqual([
      'ap-northeast-1',
      'us-west-2',
    ]);
    expect(read({}, { CDK_DEFAULT_REGION: 'eu-central-1', CDK_DEFAULT_ACCOUNT: '123456789012' })).toMatchObject({
      regions: ['eu-central-1'],
      account: '123456789012',
    });
    expect(() => read({ regions: 'us-east-1,us-east-1' })).toThrow(/twice/);
  });

  it('keeps the table\'s home and replicas apart from the service regions, so reordering or dropping a region moves no replica', () => {
    expect(() => read({ regions: 'eu-west-1,us-east-1' })).toThrow(/tableRegion is required with several regions/);
    expect(() => read({ regions: 'eu-west-1,us-east-1', tableRegion: 'eu-west-1' })).toThrow(/us-east-1 runs a service but has no table replica/);
    const reordered = read({ regions: 'us-east-1,eu-west-1', tableRegion: 'eu-west-1', replicaRegions: 'us-east-1' });
    expect(reordered.table).toEqual({ home: 'eu-west-1', replicas: ['us-east-1'], unprotected: [] });
    // A replica without a service (a region being retired, or a standby) is allowed.
    expect(read({ regions: 'eu-west-1', tableRegion: 'eu-west-1', replicaRegions: 'us-east-1' }).table.replicas).toEqual(['us-east-1']);
    expect(() => read({ tableRegion: 'us-east-1', replicaRegions: 'us-east-1' })).toThrow(/must not include tableRegion/);
  });

  it('allows one replica change per deploy against the recorded deployed replicas', () => {
    const base = { regions: 'eu-west-1', tableRegion: 'eu-west-1' };
    expect(read({ ...base, replicaRegions: 'us-east-1', deployedReplicaRegions: '' }).table.replicas).toEqual(['us-east-1']);
    expect(() => read({ ...base, replicaRegions: 'us-east-1,ap-southeast-2', deployedReplicaRegions: [] })).toThrow(
      /changes \+us-east-1 \+ap-southeast-2 .*one replica per update/,
    );
    expect(() => read({ ...base, replicaRegions: 'ap-southeast-2', deployedReplicaRegions: 'us-east-1' })).toThrow(/\+ap-southeast-2 -us-east-1/);
    expect(read({ ...base, replicaRegions: 'ap-southeast-2', deployedReplicaRegions: 'us-east-1,ap-southeast-2' }).table.replicas).toEqual(['ap-southeast-2']);
  });

  it('unprotects only a replica whose service is already retired', () => {
    const base = { tableRegion: 'eu-west-1', replicaRegions: 'us-east-1' };
    expect(read({ ...base, regions: 'eu-west-1', unprotectedReplicaRegions: 'us-east-1' }).table.unprotected).toEqual(['us-east-1']);
    expect(() => read({ ...base, regions: 'eu-west-1,us-east-1', unprotectedReplicaRegions: 'us-east-1' })).toThrow(/still runs a service/);
    expect(() => read({ ...base, regions: 'eu-west-1', unprotectedReplicaRegions: 'ap-south-1' })).toThrow(/not in replicaRegions/);
  });

  it('reads numbers given as strings on the command line and refuses nonsense', () => {
    expect(read({ minTasks: '2', maxTasks: '20', backlogPerTask: '50' })).toMatchObject({ minTasks: 2, maxTasks: 20, backlogPerTask: 50 });
    expect(() => read({ minTasks: '0' })).toThrow(/minTasks/);
    expect(() => read({ minTasks: 5, maxTasks: 4 })).toThrow(/maxTasks/);
    expect(() => read({ backlogPerTask: '1.5' })).toThrow(/backlogPerTask/);
    expect(() => read({ logRetentionDays: 31 })).toThrow(/logRetentionDays/);
  });

  it('accepts only CPU and memory pairs that Fargate runs', () => {
    for (const [cpu, memoryMiB] of [[256, 512], [256, 2048], [512, 4096], [1024, 2048], [2048, 16384], [4096, 30720], [8192, 20480], [16384, 122880]]) {
      expect(read({ cpu, memoryMiB })).toMatchObject({ cpu, memoryMiB });
    }
    expect(() => read({ cpu: 256, memoryMiB: 1536 })).toThrow(/memoryMiB 1536 is not a Fargate size for cpu 256/);
    expect(() => read({ cpu: 512, memoryMiB: 512 })).toThrow(/use 1024 to 4096 in steps of 1024/);
    expect(() => read({ cpu: 1024, memoryMiB: 9216 })).toThrow(/cpu 1024/);
    expect(() => read({ cpu: 8192, memoryMiB: 18432 })).toThrow(/steps of 4096/);
    expect(() => read({ cpu: 768 })).toThrow(/cpu must be one of Fargate's sizes/);
  });

  it('checks workerEnv against the worker\'s configuration schema, so a typo fails synth', () => {
    expect(read({ workerEnv: '{"APP_TIMEOUT_MS":"20000"}' }).workerEnv).toEqual({ APP_TIMEOUT_MS: '20000' });
    expect(read({ workerEnv: { RETRY_MAX_SECONDS: 600 } }).workerEnv).toEqual({ RETRY_MAX_SECONDS: '600' });
    expect(() => read({ workerEnv: { APP_TIMEOUT: '20000' } })).toThrow(/APP_TIMEOUT is not a worker setting/);
    expect(() => read({ workerEnv: { QUEUE_URL: 'https://elsewhere' } })).toThrow(/set by the stack/);
    expect(() => read({ workerEnv: { TARGET_AUTH_HEADER: 'Bearer x' } })).toThrow(/set by the stack/);
  });

  it('refuses an HTTP_PORT the non-root worker cannot bind or the health check cannot find', () => {
    expect(read({ workerEnv: { HTTP_PORT: '9500' } }).workerEnv.HTTP_PORT).toBe('9500');
    for (const port of ['0', '80', '1023', '65536', '9x']) {
      expect(() => read({ workerEnv: { HTTP_PORT: port } })).toThrow(/HTTP_PORT must be from 1024 to 65535/);
    }
  });

  it('defaults to a secret name that cannot be mistaken for a complete ARN, and refuses names that can', () => {
    expect(read({}).authSecret).toEqual({ name: 'fifo-relay/target-authorization' });
    expect(read({ authSecretName: 'app/auth' }).authSecret).toEqual({ name: 'app/auth' });
    for (const name of ['fifo-relay/target-auth-header', 'app/auth-AbCdEf', 'relay-secret']) {
      expect(() => read({ authSecretName: name })).toThrow(/ends in "-" and six characters/);
    }
  });

  it('prefers a complete secret ARN over a secret name, and refuses a partial one', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/auth-AbCdEf';
    expect(read({ authSecretName: 'app/auth', authSecretArn: arn }).authSecret).toEqual({ arn });
    expect(() => read({ authSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/auth' })).toThrow(/complete secret ARN/);
  });

  it('sends the auth header over https only, unless cleartext is explicitly allowed', () => {
    expect(() => read({ targetUrl: 'http://app.example.com/events' })).toThrow(/cleartext.*allowCleartextAuth=true/);
    expect(read({ targetUrl: 'http://app.example.com:8080/events', allowCleartextAuth: 'true' })).toMatchObject({ targetPort: 8080 });
    expect(read({}).targetPort).toBe(443);
  });

  it('refuses credentials inside targetUrl without repeating them', () => {
    let message = '';
    try {
      read({ targetUrl: 'https://svc:hunter2@app.example.com/events' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/must not carry credentials/);
    expect(message).not.toContain('hunter2');
  });

  it('needs vpcId for an app a new VPC cannot resolve or reach', () => {
    for (const url of ['https://orders.internal/ops', 'https://orders/ops', 'https://10.1.2.3/ops', 'https://app.corp/x', 'https://[fd00::1]/x', 'https://a.svc.local/x']) {
      expect(() => read({ targetUrl: url })).toThrow(/not publicly resolvable.*set vpcId/);
      expect(read({ targetUrl: url, vpcId: 'vpc-0123456789abcdef0' }).targetUrl).toBe(url);
    }
    expect(read({ targetUrl: 'https://203.0.113.10/ops' }).targetUrl).toBe('https://203.0.113.10/ops');
  });
});
