import { deliveredUpTo, idempotencyKey, judgeEntry, mayWrite, parsePrefixRule, planFailover, resolveHome, type ResolvedHome } from '../../src/core/home';

const rule = { defaultRegion: 'eu-west-1', prefixes: [{ prefix: 'pay-', region: 'us-east-1' }, { prefix: 'pay-eu-', region: 'eu-west-1' }] };
const regions = ['eu-west-1', 'us-east-1', 'ap-south-1'];
const req = { from: 'eu-west-1', to: 'us-east-1', regions, force: false, now: 0 };

describe('first home by rule', () => {
  test('longest prefix wins, else the default; a home record overrides the rule', () => {
    expect(resolveHome('meter-1', undefined, rule)).toMatchObject({ region: 'eu-west-1', epoch: 0, byRule: true });
    expect(resolveHome('pay-42', undefined, rule).region).toBe('us-east-1');
    expect(resolveHome('pay-eu-42', undefined, rule).region).toBe('eu-west-1');
    expect(resolveHome('pay-42', { region: 'ap-south-1', epoch: 2, seals: {} }, rule)).toMatchObject({ region: 'ap-south-1', epoch: 2, byRule: false });
  });
  test('a prefix rule is refused with one problem per bad part', () => {
    expect(parsePrefixRule('pay-=us-east-1, dev-=mars-1, nope, pay-=eu-west-1', regions).problems).toEqual([
      '"dev-=mars-1" names region mars-1, which is not one of eu-west-1, us-east-1, ap-south-1',
      '"nope" is not prefix=region',
      'prefix "pay-" is given twice',
    ]);
    expect(parsePrefixRule('a=us-east-1,b=eu-west-1', regions).prefixes).toHaveLength(2);
  });
});

test('only the home region may write, and the refusal says where to go', () => {
  const home = resolveHome('pay-1', undefined, rule);
  expect(mayWrite('us-east-1', 'pay-1', home)).toEqual({ ok: true });
  expect(mayWrite('eu-west-1', 'pay-1', home)).toEqual({ ok: false, reason: 'source pay-1 is homed in us-east-1 (epoch 0), not in eu-west-1: run this in us-east-1, or fail the source over first' });
});

test('epoch 0 keeps the single-region idempotency key', () => {
  expect(idempotencyKey('s', 0, '7')).toBe('s:7');
  expect(idempotencyKey('s', 3, '7')).toBe('s:3:7');
});

describe('journal entries across epochs', () => {
  const home: ResolvedHome = { region: 'us-east-1', epoch: 2, seals: { 0: '10', 1: '20' }, byRule: false };
  const positions = new Map<number, bigint>([
    [1, 15n],
    [2, 18n],
  ]);
  test('covered at or below any epoch position, delivered up to the seal, quarantined above it', () => {
    expect(judgeEntry(1, 12n, home, positions)).toBe('covered');
    expect(judgeEntry(1, 18n, home, positions)).toBe('covered');
    expect(judgeEntry(1, 19n, home, positions)).toBe('deliver');
    expect(judgeEntry(1, 20n, home, positions)).toBe('deliver');
    expect(judgeEntry(1, 21n, home, positions)).toBe('quarantine');
    expect(judgeEntry(0, 11n, home, positions)).toBe('quarantine');
    expect(judgeEntry(2, 19n, home, positions)).toBe('deliver');
    expect(judgeEntry(3, 30n, home, positions)).toBe('hold');
    // Seq 11 of epoch 1 is covered by epoch 1's position; seq 11 of epoch 0 came after its seal.
    expect(judgeEntry(1, 11n, { ...home, seals: { 0: '10', 1: '20' } }, positions)).toBe('covered');
    expect(judgeEntry(0, 9n, home, positions)).toBe('covered');
    expect(judgeEntry(0, 9n, home, new Map())).toBe('deliver');
    expect(deliveredUpTo(positions)).toBe(18n);
  });
  test('a replaced epoch with no seal never delivers automatically', () => {
    expect(judgeEntry(1, 19n, { ...home, seals: {} }, positions)).toBe('quarantine');
  });
});

describe('failover planning', () => {
  const home = resolveHome('meter-1', undefined, rule);
  test('raises the epoch and seals the old one at the highest seq the target sees', () => {
    expect(planFailover('meter-1', home, req, 41n)).toEqual({ sourceId: 'meter-1', ok: true, next: { region: 'us-east-1', epoch: 1, seals: { 0: '41' } } });
  });
  test('bad requests are refused, each with its reason', () => {
    expect(planFailover('meter-1', home, { ...req, to: 'mars-1' }, 0n)).toMatchObject({ ok: false, reason: 'unknown region mars-1 (regions: eu-west-1, us-east-1, ap-south-1)' });
    expect(planFailover('meter-1', home, { ...req, to: 'eu-west-1' }, 0n)).toMatchObject({ ok: false, reason: '--from and --to are both eu-west-1' });
    expect(planFailover('pay-1', resolveHome('pay-1', undefined, rule), req, 0n)).toMatchObject({ ok: false, reason: 'source pay-1 is homed in us-east-1 (epoch 0), not in eu-west-1' });
    expect(planFailover('meter-1', { ...home, moving: { to: 'us-east-1', startedAt: '1970-01-01T00:00:00.000Z' } }, req, 0n)).toMatchObject({ ok: false, reason: 'source meter-1 is already moving to us-east-1 (since 1970-01-01T00:00:00.000Z)' });
  });
});
