import '../../src/dev/require-node';
import { startEmulators, type Emulators } from '../../src/dev/emulators';
import { onInterrupt } from '../../src/dev/interrupt';
import { emulatorAwsEnv } from '../../src/dev/local-env';

declare global {
  var __fifoRelayEmulators: Emulators | undefined;
  var __fifoRelayUnhookInterrupt: (() => void) | undefined;
}

/** One fauxqs and one DynamoDB Local for the whole run; test files isolate by fresh names. */
export default async function globalSetup(): Promise<void> {
  const emulators = await startEmulators();
  globalThis.__fifoRelayEmulators = emulators;
  // Ctrl-C or SIGTERM on a test run: jest would exit without its teardown.
  globalThis.__fifoRelayUnhookInterrupt = onInterrupt(
    async () => {
      await emulators.stop();
      return [`stopped the test emulators: ${emulators.sqs.describe}, ${emulators.dynamo.describe}`];
    },
    (line) => process.stderr.write(`${line}\n`),
  );
  // Workers inherit this environment, so the relay's SDK clients find the emulators the way
  // they find any custom endpoint in production: through the SDK's own variables.
  Object.assign(process.env, {
    FIFO_RELAY_TEST_SQS_ENDPOINT: emulators.sqs.endpoint,
    FIFO_RELAY_TEST_DDB_ENDPOINT: emulators.dynamo.endpoint,
    ...emulatorAwsEnv({ sqsEndpoint: emulators.sqs.endpoint, dynamoEndpoint: emulators.dynamo.endpoint }),
  });
}
