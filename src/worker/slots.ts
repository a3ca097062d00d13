/** At most `size` lanes deliver at once; the others wait for a slot in arrival order. */
export class Slots {
  private running = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly size: number) {}

  /** Lanes delivering now. */
  get active(): number {
    return this.running;
  }

  /** Runs task in a slot; when stopping, a task starts at once (only to see the stop and hand its messages back). */
  async run(task: () => Promise<void>, stopping: () => boolean): Promise<void> {
    if (this.running >= this.size && !stopping()) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.running++;
    try {
      await task();
    } finally {
      this.running--;
      this.waiters.shift()?.();
    }
  }

  /** Shutdown: every waiting task starts now. */
  openAll(): void {
    for (const start of this.waiters.splice(0)) start();
  }
}
