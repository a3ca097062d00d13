import { ConditionalCheckFailedException, DeleteItemCommand, DescribeTableCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { canonicalItem, itemCondition, type Item } from './item-compare';

/**
 * A stand-in for a DynamoDB global table in MREC mode, for tests and chaos runs: two DynamoDB
 * Locals ("regions") and this replicator between them. It keeps what MREC does to a program:
 * - asynchronous: a change reaches the other region after a configurable delay;
 * - items replicate independently, so changes to different items arrive out of order;
 * - last writer wins on the whole item: the newer version (by the time its home region made
 *   it) replaces the whole item in the other region, whatever attributes the older one changed;
 * - a conditional write is checked only against the local replica: both regions can "win" the
 *   same put-if-absent, and one body silently disappears when they meet;
 * - a partition switch per direction: changes queue up and flow when the link is healed.
 * Write times are the replicator's observation times (it polls each stream every pollMs;
 * DynamoDB Local stamps stream records only to the second), so two writes to one item in two
 * regions closer together than pollMs are ordered arbitrarily, as near-simultaneous writes are
 * under MREC. Its own applies are recognised on the target's stream and never echoed back.
 */
export interface ReplicaRegion {
  name: string;
  client: DynamoDBClient;
  streams: DynamoDBStreamsClient;
}

export interface ReplicatorOptions {
  table: string;
  regions: [ReplicaRegion, ReplicaRegion];
  /** Delay of each change, drawn uniformly from [min, max] ms per change (reordering across items). */
  delayMs?: { min: number; max: number };
  pollMs?: number;
  random?: () => number;
}

interface Version {
  at: number;
  region: string;
}

interface Known {
  version: Version;
  image: Item | undefined;
}

interface Pending {
  key: string;
  keyAttrs: Item;
  image: Item | undefined;
  version: Version;
  dueAt: number;
}

export interface ReplicatorStats {
  /** Local writes seen on each region's stream. */
  seen: Record<string, number>;
  /** Changes written into each region. */
  applied: Record<string, number>;
  /** Changes that arrived older than what the target held: dropped, as MREC's last writer wins. */
  overwritten: Record<string, number>;
  /** Changes waiting (delay or partition) for each target region. */
  pending: Record<string, number>;
}

function newer(a: Version, b: Version): boolean {
  return a.at > b.at || (a.at === b.at && a.region > b.region);
}

class RegionSide {
  readonly known = new Map<string, Known>();
  /** Images this replicator wrote into the region, per key, whose stream records are still to come. */
  readonly expected = new Map<string, string[]>();
  readonly pending: Pending[] = [];
  readonly iterators = new Map<string, string | undefined>();
  streamArn = '';
  seen = 0;
  applied = 0;
  overwritten = 0;
  constructor(readonly region: ReplicaRegion) {}
}

export class MrecReplicator {
  private readonly sides: [RegionSide, RegionSide];
  private readonly down = new Set<string>();
  private readonly delay: { min: number; max: number };
  private readonly pollMs: number;
  private readonly random: () => number;
  private clock = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastError: Error | undefined;

  constructor(private readonly options: ReplicatorOptions) {
    this.sides = [new RegionSide(options.regions[0]), new RegionSide(options.regions[1])];
    this.delay = options.delayMs ?? { min: 50, max: 300 };
    this.pollMs = options.pollMs ?? 25;
    this.random = options.random ?? Math.random;
  }

  /** Reads both streams from their start: start it right after the tables are created. */
  async start(): Promise<void> {
    for (const side of this.sides) {
      const t = await side.region.client.send(new DescribeTableCommand({ TableName: this.options.table }));
      const arn = t.Table?.LatestStreamArn;
      if (!arn) throw new Error(`table ${this.options.table} in ${side.region.name} has no stream: create it with StreamSpecification NEW_AND_OLD_IMAGES`);
      side.streamArn = arn;
      await this.openShards(side);
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Cuts (or heals) replication from one region to the other; nothing is lost, it waits. */
  setLink(from: string, to: string, up: boolean): void {
    const link = `${from}>${to}`;
    if (up) this.down.delete(link);
    else this.down.add(link);
  }

  /** Both directions at once. */
  partition(on: boolean): void {
    const [a, b] = this.sides.map((s) => s.region.name);
    this.setLink(a!, b!, !on);
    this.setLink(b!, a!, !on);
  }

  stats(): ReplicatorStats {
    const per = (f: (s: RegionSide) => number): Record<string, number> => Object.fromEntries(this.sides.map((s) => [s.region.name, f(s)]));
    return { seen: per((s) => s.seen), applied: per((s) => s.applied), overwritten: per((s) => s.overwritten), pending: per((s) => s.pending.length) };
  }

  /** Resolves once every change seen so far (and every change made before the call) has been applied or dropped; links must be up. */
  async settled(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Two quiet rounds: a write made just before the call may not be on its stream yet.
    let quiet = 0;
    while (quiet < 2) {
      if (this.lastError) throw this.lastError;
      if (Date.now() > deadline) throw new Error(`replication not settled within ${timeoutMs} ms: ${JSON.stringify(this.stats())}`);
      await new Promise((r) => setTimeout(r, Math.max(this.pollMs * 2, this.delay.max / 4)));
      const busy = this.sides.some((s) => s.pending.length > 0 || [...s.expected.values()].some((q) => q.length > 0));
      quiet = busy ? 0 : quiet + 1;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: Error) => {
          this.lastError = err;
        })
        .finally(() => this.schedule());
    }, this.pollMs);
  }

  private now(): number {
    // Strictly increasing, so versions observed in one tick still have an order.
    this.clock = Math.max(this.clock + 1, Date.now());
    return this.clock;
  }

  private async tick(): Promise<void> {
    for (const [i, side] of this.sides.entries()) await this.readStream(side, this.sides[1 - i]!);
    for (const [i, side] of this.sides.entries()) await this.applyDue(side, this.sides[1 - i]!);
  }

  private async openShards(side: RegionSide): Promise<void> {
    const d = await side.region.streams.send(new DescribeStreamCommand({ StreamArn: side.streamArn }));
    for (const shard of d.StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || side.iterators.has(shard.ShardId)) continue;
      const it = await side.region.streams.send(new GetShardIteratorCommand({ StreamArn: side.streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      side.iterators.set(shard.ShardId, it.ShardIterator);
    }
  }

  private async readStream(side: RegionSide, other: RegionSide): Promise<void> {
    let closed = false;
    for (const [shard, iterator] of side.iterators) {
      if (!iterator) continue;
      const out = await side.region.streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      side.iterators.set(shard, out.NextShardIterator);
      if (!out.NextShardIterator) closed = true;
      for (const record of out.Records ?? []) this.onRecord(side, other, record);
    }
    // A closed shard has children: follow them so no change is missed.
    if (closed) await this.openShards(side);
  }

  private onRecord(side: RegionSide, other: RegionSide, record: _Record): void {
    const keyAttrs = record.dynamodb?.Keys as Item | undefined;
    if (!keyAttrs) return;
    const key = canonicalItem(keyAttrs);
    const image = record.eventName === 'REMOVE' ? undefined : (record.dynamodb?.NewImage as Item | undefined);
    const canon = image ? canonicalItem(image) : 'REMOVE';
    const expected = side.expected.get(key);
    if (expected && expected.length > 0 && expected[0] === canon) {
      expected.shift();
      return;
    }
    side.seen++;
    const version = { at: this.now(), region: side.region.name };
    side.known.set(key, { version, image });
    const wait = this.delay.min + this.random() * (this.delay.max - this.delay.min);
    other.pending.push({ key, keyAttrs, image, version, dueAt: Date.now() + wait });
  }

  private async applyDue(from: RegionSide, target: RegionSide): Promise<void> {
    void from;
    const source = this.sides.find((s) => s !== target)!.region.name;
    if (this.down.has(`${source}>${target.region.name}`)) return;
    const now = Date.now();
    const due = target.pending.filter((p) => p.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    for (const p of due) {
      target.pending.splice(target.pending.indexOf(p), 1);
      const held = target.known.get(p.key);
      if (held && !newer(p.version, held.version)) {
        target.overwritten++;
        continue;
      }
      const same = (held?.image ? canonicalItem(held.image) : 'REMOVE') === (p.image ? canonicalItem(p.image) : 'REMOVE');
      if (!same && !(await this.write(target, p, held?.image))) {
        // The target changed locally since its stream was last read: decide after reading it.
        target.pending.push({ ...p, dueAt: now + this.pollMs });
        continue;
      }
      target.known.set(p.key, { version: p.version, image: p.image });
      if (!same) {
        target.applied++;
        const q = target.expected.get(p.key) ?? [];
        q.push(p.image ? canonicalItem(p.image) : 'REMOVE');
        target.expected.set(p.key, q);
      }
    }
  }

  /** Replaces the whole item (or removes it) only if the target still holds what we believe it holds. */
  private async write(target: RegionSide, p: Pending, believed: Item | undefined): Promise<boolean> {
    const cond = itemCondition(believed, Object.keys(p.keyAttrs)[0]!);
    try {
      if (p.image) {
        await target.region.client.send(new PutItemCommand({ TableName: this.options.table, Item: p.image as Record<string, AttributeValue>, ...cond }));
      } else {
        await target.region.client.send(new DeleteItemCommand({ TableName: this.options.table, Key: p.keyAttrs as Record<string, AttributeValue>, ...cond }));
      }
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
