import { failureKind, judgeApp, type TaskHealth } from '../../src/core/app-health';
import { summarize, type SourceRecord } from '../../src/core/source-condition';

const now = 1_000_000_000;
const t = { attempts: 5, afterMs: 60_000 };
const failing = (sourceId: string, lastError: string, lastStatus?: number) =>
  summarize(
    { sourceId, state: 'active', head: { seq: '1', messageId: 'm', attempt: 9, since: now - 1000, failedAt: now, nextAttemptAt: now, lastError, ...(lastStatus === undefined ? {} : { lastStatus }) } } satisfies SourceRecord,
    t,
    now,
  );
const task = (taskId: string, breaker: string, seenAgoMs = 0, stopping = false): TaskHealth => ({
  taskId, seenAt: now - seenAgoMs, startedAt: now - 60_000, breaker, inFlightSources: 0, heldMessages: 0, retryingSources: 0, deliveredSinceStart: 0, stopping,
});

describe('the app condition across sources and tasks', () => {
  it('classifies failures by what they say about the app', () => {
    expect(failureKind('network error: connect ECONNREFUSED 127.0.0.1:9', undefined)).toBe('network');
    expect(failureKind('no answer within 10000 ms', undefined)).toBe('timeout');
    expect(failureKind('HTTP 503', 503)).toBe('server');
    expect(failureKind('HTTP 429', 429)).toBe('throttled');
    expect(failureKind('HTTP 422: rejected', 422)).toBe('rejected');
  });

  it('many sources failing the same app-wide way is one condition: the app is down', () => {
    const sources = ['a', 'b', 'c', 'd'].map((id) => failing(id, 'network error: ECONNREFUSED'));
    const app = judgeApp(sources, [], now, 45_000);
    expect(app).toMatchObject({ state: 'down', failingSources: 4, dominant: { kind: 'network', sources: 4 } });
    expect(app.summary).toBe('the app looks down — cannot reach the app: 4 of 4 failing sources fail this way. Fix the app: these sources resume by themselves once it answers; parking them does not help');
  });

  it('an open breaker on any live task is the same signal; a stale or stopping task is not counted', () => {
    const app = judgeApp([failing('a', 'HTTP 500', 500)], [task('t1', 'open'), task('t2', 'closed'), task('gone', 'open', 60_000), task('leaving', 'open', 0, true)], now, 45_000);
    expect(app.state).toBe('down');
    expect(app.breakers).toEqual({ closed: 1, holding: 1, ramping: 0, tasks: 2 });
    expect(app.summary).toContain('circuit breaker open on 1 of 2 task(s)');
  });

  it('a few poison sources, or many rejecting (4xx) ones, are their own problem: not app-wide', () => {
    expect(judgeApp([failing('a', 'ECONNREFUSED'), failing('b', 'ECONNREFUSED')], [task('t1', 'closed')], now, 45_000).state).toBe('ok');
    expect(judgeApp(['a', 'b', 'c', 'd'].map((id) => failing(id, 'HTTP 422', 422)), [task('t1', 'closed')], now, 45_000).state).toBe('ok');
    // Mixed failures below the share: ok.
    const mixed = [failing('a', 'ECONNREFUSED'), failing('b', 'ECONNREFUSED'), failing('c', 'HTTP 422', 422), failing('d', 'HTTP 400', 400)];
    expect(judgeApp(mixed, [], now, 45_000).state).toBe('ok');
    // Throttling (429) is backpressure the flow gate handles, not an outage.
    expect(judgeApp(['a', 'b', 'c'].map((id) => failing(id, 'HTTP 429', 429)), [], now, 45_000).state).toBe('ok');
    // A recovering (ramping) breaker does not say down.
    expect(judgeApp([], [task('t1', 'ramping')], now, 45_000).state).toBe('ok');
  });
});
