/** Deliveries per second over the last minute, in one-second buckets (no timers). */
export class Throughput {
  private readonly buckets = new Array<number>(60).fill(0);
  private readonly stamps = new Array<number>(60).fill(-1);
  total = 0;

  constructor(private readonly now: () => number = Date.now) {}

  add(n = 1): void {
    const second = Math.floor(this.now() / 1000);
    const i = second % 60;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i] = (this.buckets[i] ?? 0) + n;
    this.total += n;
  }

  /** Mean rate over the last `seconds` full seconds (1–59). */
  perSecond(seconds: number): number {
    const current = Math.floor(this.now() / 1000);
    let sum = 0;
    for (let s = current - seconds; s < current; s++) {
      const i = ((s % 60) + 60) % 60;
      if (this.stamps[i] === s) sum += this.buckets[i] ?? 0;
    }
    return sum / seconds;
  }
}
