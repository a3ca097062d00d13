import { runDemo } from '../../demo/run-demo';
import { defineCommand } from '../spec';

export const demo = defineCommand({
  name: 'demo',
  summary: 'run the whole system locally on emulators and judge the result (needs Java 17+)',
  options: {
    messages: { kind: 'int', value: 'N', help: 'messages to send', default: 3000 },
    sources: { kind: 'int', value: 'N', help: 'sources they are spread over', default: 40 },
    workers: { kind: 'int', value: 'N', help: 'worker tasks', default: 2 },
    'fail-rate': { kind: 'rate', value: 'R', help: 'share of app calls that fail', default: 0.1 },
    'slow-rate': { kind: 'rate', value: 'R', help: 'share of app calls that are slow', default: 0.02 },
    'slow-ms': { kind: 'int', value: 'MS', help: 'how slow, in milliseconds', default: 1500 },
    poison: { kind: 'flag', help: 'one message the app rejects until fixed: shows its source stuck, parks it, fixes the app, unparks it' },
  },
  details: ['Exits 0 only if every message was delivered in order and the queue is empty. Ctrl-C stops everything it started.'],
  async run(v, _args, out) {
    const verdict = await runDemo(
      { messages: v.messages, sources: v.sources, workers: v.workers, failRate: v['fail-rate'], slowRate: v['slow-rate'], slowMs: v['slow-ms'], poison: v.poison },
      out,
    );
    return verdict.ok ? 0 : 1;
  },
});
