import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PoisonRecord {
  sourceId: string;
  seq: string;
  key: string;
  status: number;
}

/** An app that answers 500 to every message of the poisoned sources, 200 otherwise, and records each call. */
export async function startPoisonApp(poisoned: Set<string>): Promise<{ url: string; records: PoisonRecord[]; close(): Promise<void> }> {
  const records: PoisonRecord[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const sourceId = String(req.headers['x-source-id'] ?? '');
      const status = poisoned.has(sourceId) ? 500 : 200;
      records.push({ sourceId, seq: String(req.headers['x-sequence'] ?? ''), key: String(req.headers['idempotency-key'] ?? ''), status });
      res.writeHead(status).end(status === 200 ? 'ok' : 'poisoned');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    records,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Seqs the app accepted for a source, in the order it accepted them. */
export const accepted = (records: PoisonRecord[], sourceId: string): number[] =>
  records.filter((r) => r.sourceId === sourceId && r.status === 200).map((r) => Number(r.seq));
