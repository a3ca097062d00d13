/**
 * The breaker's sliding window of call outcomes, with its counts kept as samples come and go:
 * the breaker asks after every failure, and at thousands of calls a second a scan of the whole
 * window per failure would cost more than the calls it judges.
 */
export interface Sample {
  at: number;
  source: string;
  failed: boolean;
}

export class OutcomeWindow {
  private samples: Sample[] = [];
  /** Index of the oldest sample still in the window (older ones await compaction). */
  private head = 0;
  private failedCount = 0;
  private readonly callsBySource = new Map<string, number>();
  private readonly failuresBySource = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  get calls(): number {
    return this.samples.length - this.head;
  }

  get failures(): number {
    return this.failedCount;
  }

  /** Sources with at least one call in the window. */
  get activeSources(): number {
    return this.callsBySource.size;
  }

  get failingSources(): number {
    return this.failuresBySource.size;
  }

  push(sample: Sample): void {
    this.samples.push(sample);
    bump(this.callsBySource, sample.source, 1);
    if (sample.failed) {
      this.failedCount++;
      bump(this.failuresBySource, sample.source, 1);
    }
  }

  /** The n-th newest sample (0 = newest), if the window holds that many. */
  fromEnd(n: number): Sample | undefined {
    return n < this.calls ? this.samples[this.samples.length - 1 - n] : undefined;
  }

  clear(): void {
    this.samples = [];
    this.head = 0;
    this.failedCount = 0;
    this.callsBySource.clear();
    this.failuresBySource.clear();
  }

  prune(now: number): void {
    const from = now - this.windowMs;
    while (this.head < this.samples.length && (this.samples[this.head] as Sample).at <= from) {
      const s = this.samples[this.head] as Sample;
      bump(this.callsBySource, s.source, -1);
      if (s.failed) {
        this.failedCount--;
        bump(this.failuresBySource, s.source, -1);
      }
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.samples.length) {
      this.samples = this.samples.slice(this.head);
      this.head = 0;
    }
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
