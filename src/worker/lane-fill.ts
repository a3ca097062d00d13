import { messageFromEntry } from '../adapters/journal';
import type { RelayMessage } from '../core/message';
import type { LaneDeps } from './lane';
import { failureOf } from './lane-failures';
import { entryOf, type LaneCursor, type LaneEntry } from './lane-hold';
import type { RouteDecision } from './lane-route';

/** What a fill needs of its lane beside the lane's parts. */
export interface FillLane extends LaneCursor {
  /** The held SQS message the fill runs for, with its newest receipt handle. */
  readonly current: LaneEntry;
  /** The retention watchdog's answer for the held message: its backoff, or 'stop' when the lane ended. */
  watched(entry: LaneEntry, m: RelayMessage, backoffSeconds: number): Promise<number | 'stop'>;
}

/**
 * A contiguous source is behind the message a lane holds: deliver position + 1 from the journal
 * through the same gate, app call and exact-next advance as the lane's own deliveries, while the
 * SQS message stays held. 'delivered': recorded, ask again (the next missing seq, or the message
 * itself). 'stop': the lane ended (a failure backs off the held message, a stop hands it back).
 */
export async function fillFromJournal(deps: LaneDeps, lane: FillLane, entry: LaneEntry, m: RelayMessage, r: Extract<RouteDecision, { kind: 'fill' }>): Promise<'delivered' | 'stop'> {
  const { app, flow, clock, hold, emit, router } = deps;
  const rest = () => lane.entries.slice(lane.index);
  const ticket = await flow.admit();
  if (!ticket || clock.isStopping()) {
    if (ticket) flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'stopping' }, ticket);
    await hold.release(lane, rest(), 'shutdown');
    return 'stop';
  }
  if (!router.isFresh(r.readAt)) {
    // The wait at the gate outlasted the state read (rule 1): the held message comes back briefly and the fill starts over.
    flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'state read too old for a journal fill' }, ticket);
    return hold.forState(lane, entry, m);
  }
  const lost = hold.isLost(lane.current);
  if (lost || !clock.canStillHold(lane.current.receivedAt)) {
    flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'no longer held' }, ticket);
    await hold.release(lane, rest(), lost ? 'visibility-lost' : 'visibility-limit');
    return 'stop';
  }
  const filled = messageFromEntry(r.entry, 1);
  const outcome = await app.deliver(filled, 1, clock.deliverySignal);
  flow.report(m.sourceId, outcome, ticket);
  if (outcome.kind === 'aborted') {
    emit('deliveryAborted', { message: filled, attempt: 1, durationMs: outcome.durationMs });
    await hold.release(lane, rest(), 'shutdown');
    return 'stop';
  }
  if (outcome.kind !== 'success') {
    const status = outcome.kind === 'http-error' ? outcome.status : undefined;
    let backoffSeconds = clock.backoff(m.receiveCount, entry.receivedAt, outcome.kind === 'http-error' ? outcome.retryAfterSeconds : undefined);
    const watched = await lane.watched(entry, m, backoffSeconds);
    if (watched === 'stop') return 'stop';
    backoffSeconds = watched;
    // Recorded against the held message: its retention deadline is the one that matters (rule 3).
    await deps.failures.record(failureOf(m, m.receiveCount, `seq ${filled.seq.text} from the journal (needed before ${m.seq.text}): ${outcome.detail}`, status), backoffSeconds, m);
    flow.backedOff(m.sourceId, entryOf(lane.current), backoffSeconds, outcome);
    const released = await hold.backOff(lane, backoffSeconds);
    emit('deliveryFailed', { message: filled, attempt: 1, outcome, backoffSeconds, released, held: false });
    return 'stop';
  }
  let ledger: 'advanced' | 'stale';
  try {
    ledger = await router.recordSuccess(filled, r.position, clock.now(), true);
  } catch (err) {
    // Not recorded: the held message comes back and the fill is made again (the app sees the same key).
    return hold.ledgerFailed(lane, entry, m, 'advance', err as Error);
  }
  emit('delivered', { message: filled, attempt: 1, status: outcome.status, durationMs: outcome.durationMs, ledger });
  emit('filledFromJournal', { message: filled, before: m });
  return 'delivered';
}
