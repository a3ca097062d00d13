import type { SourceStatusReader } from '../adapters/source-status';
import { formatList, formatStory } from '../cli/status';
import type { StuckThresholds } from '../core/source-condition';
import type { DemoApp } from './app-server';
import type { SourceControl } from './source-control';

export interface PoisonPlan {
  sourceId: string;
  seq: string;
  /** Messages of the source from the poison one on: what the journal holds once parking caught up. */
  journalExpected: number;
  /** The quiet period the skip waits out after the park, and why that long. */
  quietSeconds: number;
  quietWhy: string;
}

type Phase = 'waiting' | 'filling' | 'quiet' | 'replaying' | 'done';

/** Longest the demo waits for one step of the story before it tells what it saw and goes on. */
const STEP_TIMEOUT_MS = 90_000;
const DRY_RUN_LINES = 4;

/**
 * The operator's side of `make demo ARGS=--poison`: one message the app refuses (HTTP 422, a
 * payload it will never accept). Once `status` shows its source stuck the operator parks it and
 * watches the journal take the source's backlog out of SQS, skips the poison message (its body
 * stays in the journal, an audit record says who and why), unparks, and watches the source
 * replay and come back active. Each step prints what the operator would type and see; the
 * verdict must still find every other message delivered in order.
 */
export class PoisonScenario {
  private phase: Phase = 'waiting';
  private phaseSince = 0;
  private parkedAt = 0;
  stuckAfterAttempts = 0;
  journaled = 0;

  constructor(
    readonly plan: PoisonPlan,
    app: DemoApp,
    private readonly reader: SourceStatusReader,
    private readonly control: SourceControl,
    private readonly thresholds: StuckThresholds,
    private readonly out: (line: string) => void,
  ) {
    app.behaviour.rejectKeys = [`${plan.sourceId}:${plan.seq}`];
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Skipped on purpose: the verdict must not count it lost, nor see it delivered. */
  get skipped(): Array<{ sourceId: string; seq: string }> {
    return this.phase === 'replaying' || this.phase === 'done' ? [{ sourceId: this.plan.sourceId, seq: this.plan.seq }] : [];
  }

  private show(command: string, lines: string[]): void {
    this.out('');
    this.out(`$ ${command}`);
    for (const l of lines) this.out(`  ${l}`);
  }

  private note(line: string): void {
    this.out('');
    this.out(`# ${line}`);
  }

  private enter(phase: Phase, now: number): void {
    this.phase = phase;
    this.phaseSince = now;
  }

  private async story(): Promise<string[]> {
    const s = await this.reader.describe(this.plan.sourceId, this.thresholds, Date.now());
    return s ? formatStory(s, Date.now()) : [`unknown source ${this.plan.sourceId}`];
  }

  /** Called on every tick of the demo loop; each call does at most one step of the story. */
  async step(now: number): Promise<void> {
    const id = this.plan.sourceId;
    const timedOut = now - this.phaseSince > STEP_TIMEOUT_MS;
    switch (this.phase) {
      case 'waiting': {
        const story = await this.reader.describe(id, this.thresholds, now);
        if (story?.source.condition !== 'stuck') return;
        this.stuckAfterAttempts = story.source.head?.attempt ?? 0;
        this.show('fifo-relay status', formatList(await this.reader.list(this.thresholds, now), this.thresholds, now));
        const reason = `app rejects ${id} seq ${this.plan.seq} (HTTP 422)`;
        this.show(`fifo-relay park ${id} --reason "${reason}"`, await this.control.park(id, reason));
        this.parkedAt = Date.now();
        this.note(`parked: the workers now move ${id}'s messages from SQS into the journal (the failing head too, once it is received again)`);
        this.enter('filling', now);
        return;
      }
      case 'filling': {
        const story = await this.reader.describe(id, this.thresholds, now);
        this.journaled = story?.journal.entries ?? 0;
        if (this.journaled < this.plan.journalExpected && !timedOut) return;
        if (this.journaled < this.plan.journalExpected) this.note(`after ${STEP_TIMEOUT_MS / 1000} s the journal holds ${this.journaled} of the ${this.plan.journalExpected} messages expected; going on`);
        this.show(`fifo-relay status ${id}`, await this.story());
        const dry = await this.control.unparkDryRun(id);
        const listed = dry.slice(1);
        this.show(`fifo-relay unpark ${id} --dry-run`, [dry[0] ?? '', ...listed.slice(0, DRY_RUN_LINES), ...(listed.length > DRY_RUN_LINES ? [`… ${listed.length - DRY_RUN_LINES} more`] : [])]);
        this.note(`seq ${this.plan.seq} will never be accepted: skip it. ${this.plan.quietWhy}`);
        this.enter('quiet', now);
        return;
      }
      case 'quiet': {
        if (Date.now() < this.parkedAt + this.plan.quietSeconds * 1000) return;
        const reason = 'payload the app will never accept; agreed with the producer team';
        this.show(`fifo-relay skip ${id} --seq ${this.plan.seq} --quiet-seconds ${this.plan.quietSeconds} --reason "${reason}"`, await this.control.skip(id, this.plan.seq, reason, this.plan.quietSeconds));
        const unparkReason = 'poison message skipped';
        this.show(`fifo-relay unpark ${id} --reason "${unparkReason}"`, await this.control.unpark(id, unparkReason));
        this.enter('replaying', now);
        return;
      }
      case 'replaying': {
        const story = await this.reader.describe(id, this.thresholds, now);
        if (story?.source.state !== 'active' && !timedOut) return;
        if (story?.source.state !== 'active') this.note(`after ${STEP_TIMEOUT_MS / 1000} s ${id} is still ${story?.source.state ?? 'unknown'}`);
        else this.note(`the replay delivered the journal in order and ${id} is active again, reading from SQS`);
        this.show(`fifo-relay status ${id}`, await this.story());
        this.show('fifo-relay status', formatList(await this.reader.list(this.thresholds, Date.now()), this.thresholds, Date.now()));
        this.out('');
        this.enter('done', now);
        return;
      }
      case 'done':
        return;
    }
  }
}
