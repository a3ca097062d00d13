export default async function globalTeardown(): Promise<void> {
  globalThis.__fifoRelayUnhookInterrupt?.();
  await globalThis.__fifoRelayEmulators?.stop();
}
