/** What a receive is assumed to bring per message before any body has been seen (SQS allows 1 MiB). */
const FIRST_ESTIMATE_BYTES = 256 * 1024;

/**
 * A byte budget for the bodies this task holds (in lanes, waiting for a slot, or in the app).
 * Before a receive it says how many messages to ask for, from the room left and the largest body
 * seen so far, so a task of large messages holds fewer of them instead of running out of memory.
 * Held bytes stay under the budget plus what one receive brought beyond its estimate.
 */
export class HeldBytesBudget {
  private reserved = 0;
  private largest = FIRST_ESTIMATE_BYTES;

  constructor(
    private readonly limitBytes: number,
    private readonly heldBytes: () => number,
  ) {}

  /** How many messages the next receive may ask for (0: wait until held bodies are let go). */
  reserve(maxCount: number): { count: number; release(bodies: number[]): void } {
    const room = this.limitBytes - this.heldBytes() - this.reserved;
    const count = room <= 0 ? 0 : Math.max(1, Math.min(maxCount, Math.floor(room / this.largest)));
    const held = count * this.largest;
    this.reserved += held;
    let done = false;
    return {
      count,
      release: (bodies) => {
        if (done) return;
        done = true;
        this.reserved -= held;
        for (const b of bodies) this.largest = Math.max(this.largest, b);
      },
    };
  }
}

/** Default budget: a quarter of the memory the task may use (its cgroup limit, else the machine's). */
export function defaultHeldBytesBudget(constrained: number | undefined, total: number): number {
  const memory = constrained && constrained > 0 && constrained < total ? constrained : total;
  return Math.floor(memory / 4);
}
