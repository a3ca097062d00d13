import type { SourceStatusReader } from '../adapters/source-status';
import { formatList, formatStory } from '../cli/status';
import type { StuckThresholds } from '../core/source-condition';
import type { DemoApp } from './app-server';
import type { SourceControl } from './source-control';

export interface PoisonPlan {
  sourceId: string;
  seq: string;
}

/**
 * The operator's side of `npm run demo -- --poison`: one message the app refuses until it is
 * fixed. Once `status` shows its source stuck, the operator parks it, fixes the app, unparks it,
 * and the verdict must still find every message delivered in order. Each step prints what the
 * operator would type and see.
 */
export class PoisonScenario {
  private phase: 'waiting' | 'done' = 'waiting';
  stuckAfterAttempts = 0;

  constructor(
    readonly plan: PoisonPlan,
    private readonly app: DemoApp,
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

  /** Called on every tick of the demo loop; acts once the source shows as stuck. */
  async step(now: number): Promise<void> {
    if (this.phase !== 'waiting') return;
    const story = await this.reader.describe(this.plan.sourceId, this.thresholds, now);
    if (story?.source.condition !== 'stuck') return;
    this.phase = 'done';
    this.stuckAfterAttempts = story.source.head?.attempt ?? 0;
    const id = this.plan.sourceId;
    const show = (command: string, lines: string[]) => {
      this.out('');
      this.out(`$ ${command}`);
      for (const l of lines) this.out(`  ${l}`);
    };
    show('fifo-relay status', formatList(await this.reader.list(this.thresholds, now), this.thresholds, now));
    const reason = `app rejects ${id} seq ${this.plan.seq} (HTTP 422); parked until the fix is deployed`;
    const parked = await this.control.park(id, reason);
    show(`fifo-relay park ${id} --reason "${reason}"`, [parked]);
    show(`fifo-relay status ${id}`, formatStory((await this.reader.describe(id, this.thresholds, Date.now()))!, Date.now()));
    this.app.behaviour.rejectKeys = [];
    this.out('');
    this.out('# the app is fixed: it accepts the message now');
    const unparkReason = 'fix deployed';
    const unparked = await this.control.unpark(id, unparkReason);
    show(`fifo-relay unpark ${id} --reason "${unparkReason}"`, [unparked]);
    show(`fifo-relay status ${id}`, formatStory((await this.reader.describe(id, this.thresholds, Date.now()))!, Date.now()));
    this.out('');
  }
}
