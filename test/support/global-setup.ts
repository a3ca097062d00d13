import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startDynamoEmulator, startSqsEmulator, type Emulator } from '../../src/dev/emulators';

declare global {
  var __fifoRelayEmulators: Emulator[] | undefined;
}

/** One fauxqs and one DynamoDB Local for the whole run; test files isolate by fresh names. */
export default async function globalSetup(): Promise<void> {
  const [sqs, ddb] = await Promise.all([startSqsEmulator(), startDynamoEmulator()]);
  globalThis.__fifoRelayEmulators = [sqs, ddb];
  // Workers inherit this environment, so the relay's SDK clients find the emulators the way
  // they find any custom endpoint in production: through the SDK's own variables.
  Object.assign(process.env, {
    FIFO_RELAY_TEST_SQS_ENDPOINT: sqs.endpoint,
    FIFO_RELAY_TEST_DDB_ENDPOINT: ddb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
  });
}
