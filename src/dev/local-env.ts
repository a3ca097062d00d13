import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from './emulators';

/** The SDK's own variables (region, dummy credentials, endpoints) that point any client at the emulators. */
export function emulatorAwsEnv(ep: { sqsEndpoint: string; dynamoEndpoint: string }): Record<string, string> {
  return {
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: ep.sqsEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: ep.dynamoEndpoint,
  };
}

/** What a worker or `fifo-relay` in another shell needs to reach the local emulators' queue and table. */
export function localEnv(opts: { sqsEndpoint: string; dynamoEndpoint: string; queueUrl: string; table: string }): Record<string, string> {
  return { ...emulatorAwsEnv(opts), QUEUE_URL: opts.queueUrl, PROGRESS_TABLE: opts.table };
}

/** `export KEY=value` lines a person can paste into a shell (values here never need quoting). */
export function exportLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `export ${k}=${v}`);
}
