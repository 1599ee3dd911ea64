import { createHash } from 'node:crypto';
import { openTestIdentityDatabase, type TestIdentityDatabase } from '../db/testDatabase';
import { LOCK_MINUTES, MAX_FAILED_SIGN_INS, Throttle, throttleKey } from './throttle';

describe('throttleKey', () => {
  it('prefixes the kind, so no username (which has no colon) can share it', () => {
    expect(throttleKey('card', 'abc')).toBe('card:abc');
    expect(throttleKey('card-account', 'ac-1')).toBe('card-account:ac-1');
    expect(throttleKey('identity', '1000000001')).toBe('identity:1000000001');
  });

  it('hashes a value that would make the key longer than 64 characters', () => {
    const fits = 'x'.repeat(64 - 'card:'.length);
    expect(throttleKey('card', fits)).toBe(`card:${fits}`);
    const long = `${fits}y`;
    const hashed = throttleKey('card', long);
    expect(hashed).toBe(`card:#${createHash('sha256').update(long).digest('base64url')}`);
    expect(hashed.length).toBeLessThanOrEqual(64);
    expect(throttleKey('card', `${fits}z`)).not.toBe(hashed);
  });
});

describe('Throttle', () => {
  let t: TestIdentityDatabase;
  let now: Date;
  let throttle: Throttle;
  const later = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };
  beforeAll(async () => {
    t = await openTestIdentityDatabase();
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    now = new Date('2030-03-01T12:00:00.000Z');
    throttle = new Throttle(t.store, () => now);
  });

  it('allows five failures in a row and locks the key at the fifth, for 15 minutes', async () => {
    expect(MAX_FAILED_SIGN_INS).toBe(5);
    expect(LOCK_MINUTES).toBe(15);
    for (let i = 1; i < 5; i++) {
      expect(await throttle.fail('k-lock')).toBeNull();
      expect(await throttle.lockedUntil('k-lock')).toBeNull();
    }
    const until = await throttle.fail('k-lock');
    expect(until).toBe('2030-03-01T12:15:00.000Z');
    expect(await throttle.lockedUntil('k-lock')).toBe(until);
    expect(await throttle.lockedUntil('k-other')).toBeNull();
    later(15 * 60_000 - 1);
    expect(await throttle.lockedUntil('k-lock')).toBe(until);
    later(1);
    expect(await throttle.lockedUntil('k-lock')).toBeNull();
  });

  it('counts afresh after a lock: the next lock takes five more failures', async () => {
    for (let i = 0; i < 5; i++) await throttle.fail('k-again');
    later(16 * 60_000);
    for (let i = 1; i < 5; i++) expect(await throttle.fail('k-again')).toBeNull();
    expect(await throttle.fail('k-again')).toBe('2030-03-01T12:31:00.000Z');
  });

  it('counts failures in a row: clear starts the count again', async () => {
    for (let i = 0; i < 4; i++) await throttle.fail('k-clear');
    await throttle.clear('k-clear');
    for (let i = 1; i < 5; i++) expect(await throttle.fail('k-clear')).toBeNull();
    expect(await throttle.fail('k-clear')).not.toBeNull();
  });

  it('keeps keys apart', async () => {
    for (let i = 0; i < 4; i++) await throttle.fail('k-a');
    expect(await throttle.fail('k-b')).toBeNull();
    expect(await throttle.lockedUntil('k-b')).toBeNull();
    expect(await throttle.fail('k-a')).not.toBeNull();
  });
});
