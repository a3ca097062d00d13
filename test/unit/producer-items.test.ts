import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { chunkItems, headerItem, pendingEntry } from '../../src/producer/entry-items';
import { parseJsonLines } from '../../src/producer/json-lines';
import { checkAll, MAX_BODY_BYTES, problemOf } from '../../src/producer/validate';

/** DynamoDB's item size: names plus values (UTF-8 strings; numbers about one byte per two digits plus one). */
function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) {
    n += Buffer.byteLength(name, 'utf8');
    if (v.S !== undefined) n += Buffer.byteLength(v.S, 'utf8');
    else if (v.N !== undefined) n += Math.ceil(v.N.replace(/^0+/, '').length / 2) + 1;
    else if (v.BOOL !== undefined) n += 1;
  }
  return n;
}

const entry = (sourceId: string, body: string) => pendingEntry(checkAll([{ sourceId, body }])[0] as never, '0f6e8a2c-7c43-4f27-9a47-1d1f3e0c5b11');

describe('producer journal items', () => {
  it('a header holds the body up to the inline limit and stays under DynamoDB\'s 400 KB item limit', () => {
    const sourceId = 's'.repeat(128);
    const inline = entry(sourceId, 'é'.repeat(175_000)); // 350,000 bytes: the most that stays inline
    expect(inline.parts).toHaveLength(1);
    const header = headerItem(inline, 10n ** 37n, 'c'.repeat(36), Date.now());
    expect(header.body?.S).toBe(inline.message.body);
    expect(itemBytes(header)).toBeLessThan(400 * 1024);
  });

  it('the largest body SQS takes goes to chunks, each under 400 KB, named by the header', () => {
    const big = entry('src', '€'.repeat(Math.floor(MAX_BODY_BYTES / 3)));
    const chunks = chunkItems(big);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(itemBytes(c)).toBeLessThan(400 * 1024);
    expect(chunks.map((c) => c.data?.S).join('')).toBe(big.message.body);
    const header = headerItem(big, 1n, 'claim', 1);
    expect(header.body).toBeUndefined();
    expect(header.chunks?.N).toBe(String(chunks.length));
    expect(chunks.every((c) => c.sk?.S?.startsWith(header.chunkPrefix?.S ?? '?'))).toBe(true);
    // Outside the j# range, so the range's top is always a header.
    expect(header.chunkPrefix?.S?.startsWith('jc#')).toBe(true);
  });

  it('a small message\'s header is a few hundred bytes: one write unit', () => {
    const header = headerItem(entry('meter-0001', JSON.stringify({ reading: 42, at: '2026-12-02T17:00:00Z' })), 123456n, '3b0c8a0e-4a57-4c1c-a2a5-0e6b8a1e9f00', Date.now());
    const bytes = itemBytes(header);
    process.stdout.write(`header of a 43-byte body: ${bytes} bytes\n`);
    expect(bytes).toBeLessThan(1024);
  });
});

describe('producer input checks', () => {
  it.each([
    [{ sourceId: 'a', body: 'x' }, undefined],
    [{ body: 'x' }, 'sourceId is missing'],
    [{ sourceId: 'a', body: '' }, 'body is empty (SQS refuses empty messages)'],
    [{ sourceId: 'a', body: 'x', contentType: 'text/plain\n' }, 'contentType must be 1–256 printable ASCII characters'],
    [{ sourceId: 'a', body: 'x', seq: '-1' }, 'seq "-1" is not a whole number of at most 38 digits'],
    [{ sourceId: 'a', body: '\ud800' }, 'body holds a character SQS refuses (control characters other than tab, CR and LF, or unpaired surrogates)'],
    [{ sourceId: 'a'.repeat(129), body: 'x' }, expect.stringMatching(/1–128 printable ASCII/)],
  ])('%j → %s', (m, problem) => {
    expect(problemOf(m as never)).toEqual(problem);
  });

  it('one bad message refuses the whole call, naming each', () => {
    expect(() => checkAll([{ sourceId: 'a', body: 'x' }, { sourceId: '', body: 'y' }, { sourceId: 'b', body: '' }])).toThrow(
      'nothing sent: message 1: sourceId is missing; message 2: body is empty (SQS refuses empty messages)',
    );
  });

  it('JSON lines: blank lines skipped, line numbers kept, at most twenty problems listed', () => {
    const ok = parseJsonLines('{"sourceId":"a","body":"1"}\n\n{"sourceId":"b","body":"2","contentType":"text/plain"}\n');
    expect(ok).toEqual({ messages: [{ sourceId: 'a', body: '1' }, { sourceId: 'b', body: '2', contentType: 'text/plain' }], lineOf: [1, 3], problems: [], badLines: 0 });
    const bad = parseJsonLines(Array.from({ length: 30 }, () => '[1]').join('\n'));
    expect(bad.badLines).toBe(30);
    expect(bad.problems).toHaveLength(21);
    expect(bad.problems[0]).toBe('line 1: not a JSON object');
    expect(bad.problems[20]).toBe('… and 10 more bad line(s)');
  });
});
