import { DynamoLedger, type StuckSource } from '../../adapters/progress-ledger';
import { commandClients } from '../aws';
import { defineCommand } from '../spec';

const ago = (ms: number, now: number) => {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`;
};

export function formatStuck(rows: StuckSource[], now: number): string[] {
  if (rows.length === 0) return ['no stuck sources'];
  const table = rows.map((r) => [r.sourceId, ago(r.stuckSince, now), String(r.attempt), r.headSeq || '-', r.headMessageId, r.lastError.replace(/\s+/g, ' ').slice(0, 80)]);
  const header = ['SOURCE', 'STUCK FOR', 'ATTEMPT', 'HEAD SEQ', 'HEAD MESSAGE', 'LAST ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  return [header, ...table].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

export const status = defineCommand({
  name: 'status',
  summary: 'list stuck sources (failing heads), oldest first, from the progress table',
  options: {
    table: { kind: 'string', value: 'NAME', help: 'progress table', env: 'PROGRESS_TABLE', required: true },
    limit: { kind: 'int', value: 'N', help: 'at most N sources', default: 50 },
    json: { kind: 'flag', help: 'print JSON instead of a table' },
  },
  async run(v, _args, out) {
    const aws = commandClients();
    try {
      const rows = await new DynamoLedger(aws.dynamo, v.table).listStuck(v.limit);
      if (v.json) out(JSON.stringify(rows, null, 2));
      else for (const line of formatStuck(rows, Date.now())) out(line);
      return 0;
    } finally {
      aws.destroy();
    }
  },
});
