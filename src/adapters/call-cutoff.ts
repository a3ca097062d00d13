/**
 * One switch that aborts every outstanding SQS and DynamoDB call at shutdown's hard deadline.
 * After the cut, new calls get a short deadline of their own, so the last best-effort release
 * pass can still go out but cannot hang either.
 */
export class CallCutoff {
  private controller = new AbortController();
  private lastPass: AbortSignal | undefined;

  constructor(private readonly lastPassMs = 2000) {}

  /** The signal to pass to an SDK call made now. */
  signal(): AbortSignal {
    return this.lastPass ?? this.controller.signal;
  }

  cut(): void {
    this.controller.abort(new Error('shutdown hard deadline'));
    this.lastPass = AbortSignal.timeout(this.lastPassMs);
  }
}

/**
 * The same client, every call of which carries the cutoff's signal: for adapters that take a
 * client and no options (journal, source control, audit), so shutdown's hard deadline cuts them too.
 */
export function withCutoff<T extends object>(client: T, cutoff: CallCutoff): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'send' || typeof value !== 'function') return value;
      return (command: unknown, options?: Record<string, unknown>) =>
        (value as (c: unknown, o: Record<string, unknown>) => unknown).call(target, command, { ...options, abortSignal: cutoff.signal() });
    },
  });
}
