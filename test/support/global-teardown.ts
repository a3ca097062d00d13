export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__fifoRelayEmulators ?? []).map((e) => e.stop()));
}
