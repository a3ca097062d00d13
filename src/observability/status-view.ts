import type { QueueDepth } from '../adapters/queue-health';
import type { SourceStory } from '../adapters/source-status';
import { judgeApp, type AppCondition, type TaskHealth } from '../core/app-health';
import type { ConditionCounts, SourceSummary, StuckThresholds } from '../core/source-condition';
import type { RetryingHead } from '../worker/lane';
import type { Worker, WorkerStats } from '../worker/worker';
import type { TableSnapshot, TableStatusCache } from './table-status';
import type { TaskHeartbeat } from './task-heartbeat';
import { Throughput } from './throughput';

/** The app's health across tasks: what the top of the page and of `fifo-relay status` show. */
export interface HealthView {
  app: AppCondition;
  /** Tasks heard from recently, this one included (marked self), by task id. */
  tasks: Array<TaskHealth & { ageMs: number; self: boolean }>;
  tasksError?: string;
  queue?: QueueDepth;
  queueError?: string;
  /** The oldest failing head the table knows (GetQueueAttributes has no oldest-message age). */
  oldestFailingHead?: { sourceId: string; seq: string; sentAt: number; ageMs: number };
}

/** What /status answers (as JSON, or rendered as the page). */
export interface StatusView {
  generatedAt: number;
  /** This task only. */
  task: WorkerStats & { retrying: RetryingHead[] };
  /** This task's circuit breaker, 429 pause and rate limit. */
  flow: ReturnType<Worker['flowStatus']>;
  throughput: { perSecond10s: number; perSecond60s: number; deliveredSinceStart: number };
  health: HealthView;
  /** Every task's sources, from the table. */
  table: {
    readAt: number;
    ageMs: number;
    error?: string;
    thresholds: StuckThresholds;
    counts: ConditionCounts;
    truncated: boolean;
    sources: SourceSummary[];
  };
  /** The queue's MessageRetentionPeriod, to judge how short a time left is. */
  retentionSeconds: number;
}

/** One source's drill-down: its story from the table, and this task's own view of it. */
export interface SourceView {
  generatedAt: number;
  sourceId: string;
  /** Undefined when the table holds nothing for the source. */
  story?: SourceStory;
  error?: string;
  retentionSeconds: number;
  thresholds: StuckThresholds;
  /** This task is retrying the source right now. */
  retryingHere?: RetryingHead;
}

const EMPTY_COUNTS: ConditionCounts = { stuck: 0, retrying: 0, parked: 0, replaying: 0, closing: 0 };
/** At most this many drill-downs are kept, each for one refresh interval. */
const STORY_CACHE = 50;

export interface StatusServiceOptions {
  retentionSeconds: number;
  now?: () => number;
  /** This task's heartbeat: its own line is always fresh on its own page. */
  heartbeat?: TaskHeartbeat;
  /** A task not heard from for this long is left out of the health (3 heartbeats). */
  taskStaleMs?: number;
  /** One source's story (SourceStatusReader.describe); without it there is no drill-down. */
  describe?: (sourceId: string, thresholds: StuckThresholds, now: number) => Promise<SourceStory | undefined>;
}

export class StatusService {
  private readonly throughput: Throughput;
  private readonly now: () => number;
  private readonly stories = new Map<string, { at: number; story: Promise<SourceStory | undefined> }>();

  constructor(
    private readonly worker: Worker,
    readonly cache: TableStatusCache,
    private readonly opts: StatusServiceOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.throughput = new Throughput(this.now);
    worker.on('delivered', () => this.throughput.add());
  }

  get delivered(): number {
    return this.throughput.total;
  }

  /** The app condition from the last table read, without reading again (for /readyz). */
  appCondition(): AppCondition {
    return this.health(this.cache.peek(), this.now()).app;
  }

  async view(): Promise<StatusView> {
    const snap = await this.cache.get();
    const now = this.now();
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      generatedAt: now,
      task: { ...this.worker.stats(), retrying: this.worker.retryingHeads() },
      flow: this.worker.flowStatus(),
      throughput: { perSecond10s: round(this.throughput.perSecond(10)), perSecond60s: round(this.throughput.perSecond(59)), deliveredSinceStart: this.throughput.total },
      health: this.health(snap, now),
      table: {
        readAt: snap.readAt,
        ageMs: snap.readAt ? now - snap.readAt : 0,
        ...(snap.error === undefined ? {} : { error: snap.error }),
        thresholds: this.cache.thresholds,
        counts: snap.list?.counts ?? EMPTY_COUNTS,
        truncated: snap.list?.truncated ?? false,
        // Time left is as of the read; the page shows the read's age next to it.
        sources: snap.list?.sources ?? [],
      },
      retentionSeconds: this.opts.retentionSeconds,
    };
  }

  async source(sourceId: string): Promise<SourceView> {
    const now = this.now();
    const base: SourceView = { generatedAt: now, sourceId, retentionSeconds: this.opts.retentionSeconds, thresholds: this.cache.thresholds };
    const here = this.worker.retryingHeads().find((r) => r.sourceId === sourceId);
    if (here) base.retryingHere = here;
    if (!this.opts.describe) return { ...base, error: 'this worker has no table reader' };
    try {
      const story = await this.story(sourceId, now);
      return story ? { ...base, story } : base;
    } catch (err) {
      this.stories.delete(sourceId);
      return { ...base, error: (err as Error).message };
    }
  }

  /** Read at most once per refresh interval per source, whoever looks; a handful of sources kept. */
  private story(sourceId: string, now: number): Promise<SourceStory | undefined> {
    const cached = this.stories.get(sourceId);
    if (cached && now - cached.at < this.cache.refreshMs) return cached.story;
    const describe = this.opts.describe;
    if (!describe) return Promise.resolve(undefined);
    const story = describe(sourceId, this.cache.thresholds, now);
    this.stories.delete(sourceId);
    this.stories.set(sourceId, { at: now, story });
    while (this.stories.size > STORY_CACHE) this.stories.delete(this.stories.keys().next().value as string);
    return story;
  }

  private health(snap: TableSnapshot, now: number): HealthView {
    const staleMs = this.opts.taskStaleMs ?? 45_000;
    const self = this.opts.heartbeat?.snapshot();
    const fromTable = (snap.tasks ?? []).filter((t) => t.taskId !== self?.taskId && now - t.seenAt <= staleMs && !t.stopping);
    const tasks = [...(self ? [{ ...self, ageMs: 0, self: true }] : []), ...fromTable.map((t) => ({ ...t, ageMs: now - t.seenAt, self: false }))].sort((a, b) =>
      a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0,
    );
    const sources = snap.list?.sources ?? [];
    let oldest: HealthView['oldestFailingHead'];
    for (const s of sources) {
      const sentAt = s.head?.sentAt;
      if (s.head && sentAt !== undefined && s.headJournaled !== true && s.head.asideAt === undefined && (!oldest || sentAt < oldest.sentAt)) oldest = { sourceId: s.sourceId, seq: s.head.seq, sentAt, ageMs: now - sentAt };
    }
    return {
      app: judgeApp(sources, tasks, now, staleMs),
      tasks,
      ...(snap.tasksError === undefined ? {} : { tasksError: snap.tasksError }),
      ...(snap.queue === undefined ? {} : { queue: snap.queue }),
      ...(snap.queueError === undefined ? {} : { queueError: snap.queueError }),
      ...(oldest ? { oldestFailingHead: oldest } : {}),
    };
  }
}
