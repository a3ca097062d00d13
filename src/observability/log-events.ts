import type { Logger } from 'pino';
import type { Worker } from '../worker/worker';
import type { RelayMessage } from '../core/message';

const ids = (m: RelayMessage) => ({ sourceId: m.sourceId, messageId: m.messageId, seq: m.seq.text });

/** One log line per delivery outcome, with the ids an operator searches by. */
export function logWorkerEvents(worker: Worker, log: Logger): void {
  worker.on('delivered', (e) =>
    log.info({ event: 'delivered', ...ids(e.message), attempt: e.attempt, status: e.status, durationMs: e.durationMs, ledger: e.ledger }, 'delivered'),
  );
  worker.on('deliveryFailed', (e) =>
    log.warn(
      { event: 'delivery_failed', ...ids(e.message), attempt: e.attempt, outcome: e.outcome.kind, error: e.outcome.detail, durationMs: e.outcome.durationMs, backoffSeconds: e.backoffSeconds, released: e.released, held: e.held },
      e.held ? 'delivery failed; held at the flow gate' : 'delivery failed; will retry',
    ),
  );
  worker.on('deliveryAborted', (e) =>
    log.warn({ event: 'delivery_aborted', ...ids(e.message), attempt: e.attempt, durationMs: e.durationMs }, 'delivery aborted by shutdown; message released'),
  );
  worker.on('duplicateSkipped', (e) =>
    log.info({ event: 'duplicate_skipped', ...ids(e.message), attempt: e.message.receiveCount }, 'already delivered per ledger; deleted without calling the app'),
  );
  worker.on('invalidMessage', (e) =>
    log.error(
      { event: 'invalid_message', messageId: e.invalid.messageId, sourceId: e.invalid.sourceId, reason: e.invalid.reason, error: e.invalid.detail, attempt: e.invalid.receiveCount, backoffSeconds: e.backoffSeconds },
      'message cannot be delivered; kept in the queue and retried',
    ),
  );
  worker.on('ledgerError', (e) =>
    log.error({ event: 'ledger_error', ...ids(e.message), stage: e.stage, err: e.error, backoffSeconds: e.backoffSeconds }, 'progress ledger call failed'),
  );
  worker.on('journaled', (e) => log.info({ event: 'journaled', ...ids(e.message), written: e.written }, 'source parked: message journaled and deleted from SQS'));
  worker.on('journalError', (e) =>
    log.error({ event: 'journal_error', ...ids(e.message), conflict: e.conflict, err: e.error, backoffSeconds: e.backoffSeconds }, e.conflict ? 'journal conflict: a different message holds this seq; kept in SQS' : 'journal write failed; kept in SQS'),
  );
  worker.on('heldForState', (e) => log.info({ event: 'held_for_state', ...ids(e.message), backoffSeconds: e.backoffSeconds }, 'source is finishing a replay: message kept in SQS briefly'));
  worker.on('setAside', (e) => log.warn({ event: 'set_aside', ...ids(e.message), detail: e.detail }, 'operator set-aside done: the head is kept in the table (aside) and deleted from SQS'));
  worker.on('autoParked', (e) =>
    log.error(
      { event: 'auto_parked', ...ids(e.message), ageSeconds: e.ageSeconds, deadlineAt: e.deadlineAt },
      'retention watchdog parked the source: its failing head was about to reach the queue retention (journaled; see fifo-relay status, then unpark or skip)',
    ),
  );
  worker.on('queueError', (e) => log.error({ event: 'queue_error', operation: e.operation, err: e.error }, 'SQS call failed'));
  worker.on('batchFailures', (e) => log.warn({ event: 'batch_failures', operation: e.operation, failures: e.failures }, 'SQS refused some batch entries'));
  worker.on('heartbeat', (e) => {
    if (e.capped > 0) log.warn({ event: 'heartbeat_capped', extended: e.extended, capped: e.capped }, 'visibility renewal capped by the 12-hour SQS limit');
  });
  worker.on('flowTransition', (t) => {
    const line = { event: 'breaker', from: t.from, to: t.to, reason: t.reason, secondsInPrevious: Math.round(t.inPreviousMs / 100) / 10 };
    if (t.to === 'open') log.warn(line, `circuit breaker open: ${t.reason}`);
    else log.info(line, `circuit breaker ${t.to}: ${t.reason}`);
  });
  worker.on('putAside', (e) =>
    log.error(
      { event: 'put_aside', ...ids(e.message), reason: e.reason, parked: e.parked },
      'retention watchdog put a head that cannot be delivered aside (kept in the table, audited) and deleted it from SQS; see fifo-relay status',
    ),
  );
  worker.on('parkedHeadsRecalled', (e) =>
    log.info({ event: 'parked_heads_recalled', sourceIds: e.sourceIds, failures: e.failures.length }, 'backed-off heads of parked sources handed back to be journaled'),
  );
  worker.on('recalled', (e) =>
    log.info({ event: 'heads_recalled', count: e.count, failures: e.failures.length }, 'heads backed off during the outage handed back for the ramp'),
  );
  worker.on('visibilityLost', (e) =>
    log.warn({ event: 'visibility_lost', messageIds: e.messageIds }, 'SQS no longer hides these messages for this task; their lane lets go of them'),
  );
  worker.on('internalError', (e) => log.error({ event: 'internal_error', lane: e.lane, err: e.error }, 'unexpected error in a lane; its messages were released'));
  worker.on('stopping', (e) => log.info({ event: 'stopping', inFlight: e.inFlight, graceMs: e.graceMs }, 'stopping: no new receives'));
  worker.on('stopped', (e) =>
    e.hardDeadline
      ? log.warn({ event: 'stopped', abortedDeliveries: e.abortedDeliveries, hardDeadline: true, releasedAtDeadline: e.releasedAtDeadline }, 'stopped at the hard deadline: calls cut short, held messages released')
      : log.info({ event: 'stopped', abortedDeliveries: e.abortedDeliveries }, 'stopped'),
  );
}
