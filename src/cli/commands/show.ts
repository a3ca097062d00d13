import { writeFileSync } from 'node:fs';
import { SourceStatusReader } from '../../adapters/source-status';
import { canonicalSeq } from '../../core/message';
import { DEFAULT_THRESHOLDS, unknownSource } from '../../core/source-condition';
import { commandClients } from '../aws';
import { entryLines, forTerminal, headLines, readJournalEntry } from '../show';
import { defineCommand } from '../spec';
import { UsageError } from '../usage';

export const show = defineCommand({
  name: 'show',
  summary: 'one message of a source: its failing head, or the journal entry at --seq; its body with --body',
  positionals: [{ name: 'sourceId', help: 'the source (MessageGroupId)', required: true }],
  options: {
    seq: { kind: 'string', value: 'N', help: 'the journal entry at this seq (default: the failing head)' },
    body: { kind: 'flag', help: 'print the body too (metadata then goes to stderr, the body to stdout)' },
    out: { kind: 'string', value: 'FILE', help: 'write the body to FILE instead (any size; an existing FILE is not overwritten)' },
    'max-bytes': { kind: 'int', value: 'N', help: 'largest body printed to stdout; larger needs --out', default: 65_536, min: 1 },
    table: { kind: 'string', value: 'NAME', help: 'progress table', env: 'PROGRESS_TABLE', required: true },
  },
  details: [
    'Reads only: nothing changes. A failing head that is not journaled yet has its body only in SQS; park the source and show it with --seq once journaled.',
    'Exit 1 with one line for an unknown source, a seq with no journal entry or a body too large for stdout.',
  ],
  async run(v, args, out) {
    const sourceId = args[0] ?? '';
    if (sourceId === '') throw new UsageError('the source id must not be empty');
    const seq = v.seq === undefined ? undefined : canonicalSeq(v.seq);
    if (v.seq !== undefined && seq === undefined) throw new UsageError(`--seq must be a whole number, got "${v.seq}"`);
    if (v.out !== undefined && !v.body) throw new UsageError('--out goes with --body');
    const fail = (line: string) => {
      process.stderr.write(`fifo-relay show: ${line}\n`);
      return 1;
    };
    // With the body on stdout, metadata goes to stderr so `show --body | jq` sees the body alone.
    const meta = (lines: string[]) => lines.forEach((l) => (v.body && v.out === undefined ? process.stderr.write(`${l}\n`) : out(l)));
    const aws = commandClients();
    try {
      const story = await new SourceStatusReader(aws.dynamo, v.table).describe(sourceId, DEFAULT_THRESHOLDS, Date.now());
      if (!story) return fail(`${unknownSource(sourceId)} (table ${v.table})`);
      const range = story.journal.entries > 0 ? `journal seq ${story.journal.firstSeq} .. ${story.journal.lastSeq}, ${story.journal.entries} entries` : 'journal empty';
      let entrySeq = seq;
      if (entrySeq === undefined) {
        if (!story.source.head) return fail(`source "${sourceId}" has no failing head; give --seq N for a journal entry (${range})`);
        meta(headLines(story, Date.now()));
        if (!v.body) return 0;
        if (!story.source.headJournaled) return fail(`the failing head's body is only in SQS (not journaled yet), where reading it would disturb its delivery; park the source, then show it with --seq ${story.source.head.seq || 'N'} once journaled`);
        entrySeq = story.source.head.seq;
        meta(['']);
      }
      const entry = await readJournalEntry(aws.dynamo, v.table, sourceId, BigInt(entrySeq), v.body);
      if (!entry) return fail(`source "${sourceId}" has no journal entry at seq ${entrySeq} (${range})`);
      meta(entryLines(sourceId, entry));
      if (!v.body || entry.body === undefined) return 0;
      if (v.out !== undefined) {
        writeFileSync(v.out, entry.body, { flag: 'wx' });
        out(`body written to ${v.out} (${entry.bytes} bytes)`);
        return 0;
      }
      if (entry.bytes > v['max-bytes']) return fail(`the body is ${entry.bytes} bytes, more than --max-bytes ${v['max-bytes']}: write it to a file with --out FILE`);
      process.stdout.write(process.stdout.isTTY ? forTerminal(entry.body) : entry.body);
      if (process.stdout.isTTY && !entry.body.endsWith('\n')) process.stdout.write('\n');
      return 0;
    } finally {
      aws.destroy();
    }
  },
});
