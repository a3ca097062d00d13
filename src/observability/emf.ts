import type { Worker } from '../worker/worker';

export interface EmfOptions {
  namespace: string;
  queueName: string;
  intervalMs?: number;
  write(line: string): void;
  now?: () => number;
  /** Deliveries made outside the worker (the journal's replayer): registers the counter to call. */
  onReplayed?: (count: () => void) => void;
}

/**
 * CloudWatch Embedded Metric Format: a log line CloudWatch Logs turns into metrics, so alarms on
 * stuck sources and stalled delivery need no PutMetricData calls and no extra IAM.
 */
export function startEmf(worker: Worker, opts: EmfOptions): () => void {
  let deliveries = 0;
  const count = () => {
    deliveries++;
  };
  worker.on('delivered', count);
  opts.onReplayed?.(count);
  const now = opts.now ?? Date.now;
  const flush = () => {
    const s = worker.stats();
    const line = {
      _aws: {
        Timestamp: now(),
        CloudWatchMetrics: [
          {
            Namespace: opts.namespace,
            Dimensions: [['QueueName']],
            Metrics: [
              { Name: 'Deliveries', Unit: 'Count' },
              { Name: 'SourcesRetrying', Unit: 'Count' },
              { Name: 'OldestRetryingHeadAgeSeconds', Unit: 'Seconds' },
            ],
          },
        ],
      },
      QueueName: opts.queueName,
      Deliveries: deliveries,
      SourcesRetrying: s.retryingSources,
      OldestRetryingHeadAgeSeconds: Math.round(s.oldestRetryingHeadAgeSeconds),
    };
    deliveries = 0;
    opts.write(JSON.stringify(line));
  };
  const timer = setInterval(flush, opts.intervalMs ?? 60_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    worker.off('delivered', count);
    flush();
  };
}
