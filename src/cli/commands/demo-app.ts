import { startDemoApp } from '../../demo/app-server';
import { onInterrupt } from '../../dev/interrupt';
import { defineCommand } from '../spec';

export const demoApp = defineCommand({
  name: 'demo-app',
  summary: 'the bundled stub app on its own: accepts deliveries, fails a share of them; point TARGET_URL at it',
  options: {
    port: { kind: 'int', value: 'PORT', help: 'port to listen on, 0 picks a free one', default: 8080, min: 0 },
    host: { kind: 'string', value: 'HOST', help: 'address to listen on (default 127.0.0.1)' },
    'fail-rate': { kind: 'rate', value: 'R', help: 'share of calls answered 503', default: 0.1 },
    'slow-rate': { kind: 'rate', value: 'R', help: 'share of calls answered only after --slow-ms', default: 0 },
    'slow-ms': { kind: 'int', value: 'MS', help: 'how slow, in milliseconds', default: 1500 },
    'latency-ms': { kind: 'int', value: 'MS', help: 'added to every answer, in milliseconds', default: 5 },
  },
  details: ['Logs one line per call (source, seq, attempt, status). Ctrl-C stops it.'],
  async run(v, _args, out) {
    const app = await startDemoApp({
      port: v.port,
      host: v.host ?? '127.0.0.1',
      failRate: v['fail-rate'],
      slowRate: v['slow-rate'],
      slowMs: v['slow-ms'],
      latencyMs: v['latency-ms'],
    });
    onInterrupt(async () => {
      await app.close();
      return [`stopped the demo app (${app.records.length} calls received)`];
    }, out);
    out(`demo app on http://${v.host ?? '127.0.0.1'}:${app.port}/ — ${Math.round(v['fail-rate'] * 100)}% of calls answered 503`);
    out(`export TARGET_URL=http://127.0.0.1:${app.port}/`);
    let shown = 0;
    setInterval(() => {
      for (const r of app.records.slice(shown)) out(`${new Date(r.at).toISOString()}  ${r.status}  ${r.sourceId}  seq ${r.seq}  attempt ${r.attempt}`);
      shown = app.records.length;
    }, 500).unref();
    return new Promise<number>(() => undefined);
  },
});
