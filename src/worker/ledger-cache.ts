import type { LedgerPosition } from '../core/ledger-position';

/** Bounded least-recently-used memory of ledger positions; Map keeps insertion order. */
export class LedgerCache {
  private readonly entries = new Map<string, LedgerPosition>();

  constructor(private readonly capacity: number) {}

  get(sourceId: string): LedgerPosition | undefined {
    const pos = this.entries.get(sourceId);
    if (pos !== undefined) {
      this.entries.delete(sourceId);
      this.entries.set(sourceId, pos);
    }
    return pos;
  }

  set(sourceId: string, pos: LedgerPosition | undefined): void {
    if (this.capacity === 0 || pos === undefined) return;
    this.entries.delete(sourceId);
    this.entries.set(sourceId, pos);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
