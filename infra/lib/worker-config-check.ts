import { Token } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../../src/config';

/**
 * Values CloudFormation fills in at deploy time, replaced by one of the same form so the worker's
 * format checks can run on everything else. The auth header is left out: it comes from the
 * secret at task start and is checked there.
 */
const DEPLOY_TIME_STAND_INS: Record<string, string> = {
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/stand-in.fifo',
};

/**
 * Runs the worker's own configuration check on the container environment the task definition
 * will carry. A setting the worker refuses would make every task exit 1 at start, trip the
 * deployment circuit breaker and roll the whole stack back (VPC and NAT gateways included).
 */
export function checkWorkerConfig(environment: Record<string, string>): void {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (!Token.isUnresolved(value)) env[name] = value;
    else if (DEPLOY_TIME_STAND_INS[name] !== undefined) env[name] = DEPLOY_TIME_STAND_INS[name];
    else throw new Error(`fifo-relay: ${name} is only known at deploy time and has no stand-in for the synth-time configuration check`);
  }
  try {
    loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new Error(
      `context workerEnv: the worker would refuse to start with this task definition's environment (every task would exit 1):\n` +
        err.problems.map((p) => `  - ${p}`).join('\n'),
      { cause: err },
    );
  }
}
