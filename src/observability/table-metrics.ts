import { Gauge, type Registry } from 'prom-client';
import { extremes } from '../core/source-condition';
import type { TableStatusCache } from './table-status';

/**
 * Cross-task gauges from the cached table read (every task reports the same values: alarm on
 * max or min across tasks). No per-source label: the page and `fifo-relay status` name sources.
 */
export function registerTableGauges(registry: Registry, cache: TableStatusCache, retentionSeconds: number): void {
  const gauge = (name: string, help: string, read: (s: Awaited<ReturnType<TableStatusCache['get']>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await cache.get()));
      },
    });
  gauge('fifo_relay_sources_stuck', 'Sources, across all tasks, whose failing head passed the stuck thresholds (STUCK_ATTEMPTS, STUCK_AFTER_SECONDS).', (s) => s.list?.counts.stuck ?? 0);
  gauge('fifo_relay_sources_parked', 'Sources parked by an operator or the watchdog, across all tasks.', (s) => s.list?.counts.parked ?? 0);
  gauge('fifo_relay_sources_replaying', 'Sources replaying their journal (or closing the replay), across all tasks.', (s) => (s.list ? s.list.counts.replaying + s.list.counts.closing : 0));
  gauge('fifo_relay_oldest_stuck_head_age_seconds', 'How long the longest-failing stuck head has been failing, across all tasks (0 when none).', (s) => (extremes(s.list?.sources ?? []).oldestStuckMs ?? 0) / 1000);
  gauge(
    'fifo_relay_least_retention_left_seconds',
    'Least time left before SQS retention deletes a failing head not yet journaled (parked sources included), across all tasks; the queue\'s whole retention period when there is none.',
    (s) => {
      const least = extremes(s.list?.sources ?? []).leastRetentionLeftMs;
      return least === undefined ? retentionSeconds : least / 1000;
    },
  );
  gauge('fifo_relay_status_table_age_seconds', 'Age of the cached cross-task status read behind these gauges and the status page.', (s) => (s.readAt ? (Date.now() - s.readAt) / 1000 : 0));
}
