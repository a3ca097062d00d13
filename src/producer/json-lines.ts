import { problemOf, type ProducerMessage } from './validate';

const FIELDS: ReadonlySet<string> = new Set(['sourceId', 'body', 'contentType', 'traceparent']);
/** Bad lines listed in one report; the rest are counted. */
const MAX_LISTED = 20;

export interface ParsedLines {
  messages: ProducerMessage[];
  /** The input line of each message (1-based), for progress and error reports. */
  lineOf: number[];
  problems: string[];
  badLines: number;
}

/**
 * JSON lines `{"sourceId":…,"body":…}` (also contentType, traceparent), blank lines
 * skipped. Every line is checked before anything is sent, so a bad line anywhere sends nothing.
 */
export function parseJsonLines(text: string): ParsedLines {
  const out: ParsedLines = { messages: [], lineOf: [], problems: [], badLines: 0 };
  const bad = (line: number, why: string) => {
    out.badLines++;
    if (out.problems.length < MAX_LISTED) out.problems.push(`line ${line}: ${why}`);
  };
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      bad(line, `not JSON (${(err as Error).message})`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      bad(line, 'not a JSON object');
      return;
    }
    const unknown = Object.keys(value).filter((k) => !FIELDS.has(k));
    if (unknown.length > 0) {
      bad(line, `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${[...FIELDS].join(', ')})`);
      return;
    }
    const m = value as ProducerMessage;
    const problem = problemOf(m);
    if (problem) {
      bad(line, problem);
      return;
    }
    out.messages.push(m);
    out.lineOf.push(line);
  });
  if (out.badLines > out.problems.length) out.problems.push(`… and ${out.badLines - out.problems.length} more bad line(s)`);
  return out;
}
