import { readSettings } from '../../infra/lib/settings';

const read = (context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => readSettings((k) => context[k], env);

describe('infra settings from context', () => {
  it('has defaults that synthesize without any context or credentials', () => {
    const s = read({});
    expect(s).toMatchObject({ regions: ['us-east-1'], account: undefined, queueName: 'fifo-relay.fifo', minTasks: 1, maxTasks: 10, backlogPerTask: 100 });
  });

  it('reads regions as a comma list (command line) or an array (cdk.json); the first is the table\'s home', () => {
    expect(read({ regions: 'eu-west-1, us-east-1' }).regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(read({ regions: ['ap-northeast-1', 'us-west-2'] }).regions).toEqual(['ap-northeast-1', 'us-west-2']);
    expect(read({}, { CDK_DEFAULT_REGION: 'eu-central-1', CDK_DEFAULT_ACCOUNT: '123456789012' })).toMatchObject({
      regions: ['eu-central-1'],
      account: '123456789012',
    });
    expect(() => read({ regions: 'us-east-1,us-east-1' })).toThrow(/twice/);
  });

  it('reads numbers given as strings on the command line and refuses nonsense', () => {
    expect(read({ minTasks: '2', maxTasks: '20', backlogPerTask: '50' })).toMatchObject({ minTasks: 2, maxTasks: 20, backlogPerTask: 50 });
    expect(() => read({ minTasks: '0' })).toThrow(/minTasks/);
    expect(() => read({ minTasks: 5, maxTasks: 4 })).toThrow(/maxTasks/);
    expect(() => read({ backlogPerTask: '1.5' })).toThrow(/backlogPerTask/);
    expect(() => read({ logRetentionDays: 31 })).toThrow(/logRetentionDays/);
  });

  it('only accepts a FIFO queue name', () => {
    expect(() => read({ queueName: 'relay' })).toThrow(/\.fifo/);
  });

  it('checks workerEnv against the worker\'s configuration schema, so a typo fails synth', () => {
    expect(read({ workerEnv: '{"APP_TIMEOUT_MS":"20000"}' }).workerEnv).toEqual({ APP_TIMEOUT_MS: '20000' });
    expect(read({ workerEnv: { RETRY_MAX_SECONDS: 600 } }).workerEnv).toEqual({ RETRY_MAX_SECONDS: '600' });
    expect(() => read({ workerEnv: { APP_TIMEOUT: '20000' } })).toThrow(/APP_TIMEOUT is not a worker setting/);
    expect(() => read({ workerEnv: { QUEUE_URL: 'https://elsewhere' } })).toThrow(/set by the stack/);
    expect(() => read({ workerEnv: { TARGET_AUTH_HEADER: 'Bearer x' } })).toThrow(/set by the stack/);
  });

  it('prefers a complete secret ARN over a secret name', () => {
    expect(read({}).authSecret).toEqual({ name: 'fifo-relay/target-auth-header' });
    expect(read({ authSecretName: 'app/auth' }).authSecret).toEqual({ name: 'app/auth' });
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/auth-AbCdEf';
    expect(read({ authSecretName: 'app/auth', authSecretArn: arn }).authSecret).toEqual({ arn });
  });
});
