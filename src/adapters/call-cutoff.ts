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
