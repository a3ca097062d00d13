import type { SourceList } from '../../src/adapters/source-status';
import { TableStatusCache } from '../../src/observability/table-status';

const empty: SourceList = { sources: [], counts: { stuck: 0, retrying: 0, parked: 0, replaying: 0, closing: 0 }, truncated: false };

function setup() {
  let clock = 1_000_000;
  const reads: Array<(l: SourceList) => void> = [];
  const fails: Array<(e: Error) => void> = [];
  const reader = {
    list: () =>
      new Promise<SourceList>((resolve, reject) => {
        reads.push(resolve);
        fails.push(reject);
      }),
  };
  const cache = new TableStatusCache(reader, { thresholds: { attempts: 5, afterMs: 1000 }, refreshMs: 5000, now: () => clock });
  return { cache, reads, fails, advance: (ms: number) => (clock += ms) };
}

describe('the cached cross-task status', () => {
  it('reads the table once for any number of views within the refresh interval', async () => {
    const t = setup();
    const views = Array.from({ length: 10 }, () => t.cache.get());
    expect(t.reads).toHaveLength(1);
    t.reads[0]?.({ ...empty, truncated: true });
    for (const v of await Promise.all(views)) expect(v.list?.truncated).toBe(true);
    t.advance(4999);
    await Promise.all(Array.from({ length: 10 }, () => t.cache.get()));
    expect(t.reads).toHaveLength(1);
  });

  it('serves a slightly stale copy at once and refreshes it once in the background', async () => {
    const t = setup();
    const first = t.cache.get();
    t.reads[0]?.(empty);
    const firstSnap = await first;
    t.advance(6000);
    expect(await t.cache.get()).toBe(firstSnap);
    expect(await t.cache.get()).toBe(firstSnap);
    expect(t.reads).toHaveLength(2);
  });

  it('keeps the last list when a read fails, marked with the error, and retries only after the interval', async () => {
    const t = setup();
    const first = t.cache.get();
    t.reads[0]?.({ ...empty, counts: { ...empty.counts, stuck: 3 } });
    await first;
    t.advance(20_000);
    const failing = t.cache.get();
    t.fails[1]?.(new Error('AccessDeniedException'));
    const snap = await failing;
    expect(snap.error).toBe('AccessDeniedException');
    expect(snap.list?.counts.stuck).toBe(3);
    await t.cache.get();
    expect(t.reads).toHaveLength(2);
  });
});
