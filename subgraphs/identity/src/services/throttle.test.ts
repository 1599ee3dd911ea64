import { createHash } from 'node:crypto';
import type { IdentityStore } from '../db/store';
import { openTestIdentityDatabase, type TestIdentityDatabase } from '../db/testDatabase';
import { delayAfter, FIRST_DELAY_SECONDS, MAX_DELAY_SECONDS, retryAfterSeconds, Throttle, throttleKey, type Reservation } from './throttle';

describe('throttleKey', () => {
  it('prefixes the kind, so no username (which has no colon) can share it', () => {
    expect(throttleKey('identity', '1000000001')).toBe('identity:1000000001');
  });

  it('hashes a value that would make the key longer than 64 characters', () => {
    const fits = 'x'.repeat(64 - 'identity:'.length);
    expect(throttleKey('identity', fits)).toBe(`identity:${fits}`);
    const long = `${fits}y`;
    const hashed = throttleKey('identity', long);
    expect(hashed).toBe(`identity:#${createHash('sha256').update(long).digest('base64url')}`);
    expect(hashed.length).toBeLessThanOrEqual(64);
    expect(throttleKey('identity', `${fits}z`)).not.toBe(hashed);
  });
});

describe('delayAfter and retryAfterSeconds', () => {
  it('waits nothing before the fifth failure, then 5 s doubling up to 15 minutes, also for absurd counts', () => {
    expect([1, 2, 3, 4].map(delayAfter)).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8].map(delayAfter)).toEqual([5, 10, 20, 40]);
    expect(delayAfter(12)).toBe(640);
    expect(delayAfter(13)).toBe(MAX_DELAY_SECONDS);
    expect(delayAfter(10_000)).toBe(MAX_DELAY_SECONDS);
    expect(FIRST_DELAY_SECONDS).toBe(5);
    expect(MAX_DELAY_SECONDS).toBe(900);
  });

  it('rounds the wait up to whole seconds, at least one', () => {
    const now = new Date('2030-03-01T12:00:00.000Z');
    expect(retryAfterSeconds(new Date(now.getTime() + 4001), now)).toBe(5);
    expect(retryAfterSeconds(new Date(now.getTime() + 5000), now)).toBe(5);
    expect(retryAfterSeconds(now, now)).toBe(1);
    expect(retryAfterSeconds(new Date(now.getTime() - 5000), now)).toBe(1);
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

  async function reserved(key: string): Promise<Reservation> {
    const r = await throttle.reserve(key);
    if (!r.ok) throw new Error(`expected ${key} to be let through, it waits until ${r.until.toISOString()}`);
    return r.reservation;
  }

  it('lets four failures through freely; the fifth sets a 5 s wait, during which nothing is let through', async () => {
    for (let n = 1; n <= 4; n++) expect(await reserved('u-five')).toEqual({ key: 'u-five', failures: n, lockedUntil: null });
    const fifth = await reserved('u-five');
    expect(fifth).toEqual({ key: 'u-five', failures: 5, lockedUntil: new Date(now.getTime() + 5000) });
    expect(await throttle.reserve('u-five')).toEqual({ ok: false, until: new Date(now.getTime() + 5000) });
    later(4999);
    expect((await throttle.reserve('u-five')).ok).toBe(false);
    later(1);
    // The sixth failure doubles the wait, and a refused attempt is told the wait's real end.
    expect(await reserved('u-five')).toEqual({ key: 'u-five', failures: 6, lockedUntil: new Date(now.getTime() + 10_000) });
    const lockEnd = new Date(now.getTime() + 10_000);
    expect(await throttle.reserve('u-five')).toEqual({ ok: false, until: lockEnd });
    later(9_999);
    expect(await throttle.reserve('u-five')).toEqual({ ok: false, until: lockEnd });
  });

  it('a success clears the count, so the next failure is the first again', async () => {
    await reserved('u-clear');
    await reserved('u-clear');
    const third = await reserved('u-clear');
    expect(await throttle.succeeded(third)).toBe(true);
    expect(await t.store.throttleOf('u-clear')).toBeNull();
    expect((await reserved('u-clear')).failures).toBe(1);
  });

  it('a success whose key another success already cleared still stands', async () => {
    const first = await reserved('u-twice');
    const second = await reserved('u-twice');
    expect(await throttle.succeeded(second)).toBe(true);
    expect(await t.store.throttleOf('u-twice')).toBeNull();
    expect(await throttle.succeeded(first)).toBe(true);
  });

  it('refuses a success reserved before other attempts set a wait that has not ended', async () => {
    const first = await reserved('u-race');
    for (let n = 2; n <= 5; n++) await reserved('u-race');
    expect(await throttle.succeeded(first)).toBe(false);
    expect(await t.store.throttleOf('u-race')).toMatchObject({ failures: 5 });
    later(5000);
    // Once the wait is over the late success stands.
    expect(await throttle.succeeded(first)).toBe(true);
    expect(await t.store.throttleOf('u-race')).toBeNull();
  });

  it('never waits longer than 15 minutes after the last failure', async () => {
    let last = now;
    for (let n = 1; n <= 20; n++) {
      last = now;
      const r = await reserved('u-cap');
      if (r.lockedUntil) {
        expect(r.lockedUntil.getTime() - now.getTime()).toBeLessThanOrEqual(MAX_DELAY_SECONDS * 1000);
        now = r.lockedUntil;
      }
    }
    expect(await t.store.throttleOf('u-cap')).toEqual({ failures: 20, lockedUntil: new Date(last.getTime() + MAX_DELAY_SECONDS * 1000).toISOString() });
  });

  it('keeps keys apart', async () => {
    for (let n = 1; n <= 5; n++) await reserved('u-apart-a');
    expect((await throttle.reserve('u-apart-a')).ok).toBe(false);
    expect(await reserved('u-apart-b')).toEqual({ key: 'u-apart-b', failures: 1, lockedUntil: null });
    expect(await reserved(throttleKey('identity', 'u-apart-a'))).toMatchObject({ failures: 1 });
  });
});

describe('Throttle when a lock ends while an attempt is refused', () => {
  // Races between instances cannot be timed in a test: a store that answers as a racing database would.
  const now = new Date('2030-03-01T12:00:00.000Z');
  const row = { failures: 6, lockedUntil: null };

  it('tries again when the lock it was refused by has ended (exactly now, or the row is gone)', async () => {
    const answers = [{ lockedUntil: now.toISOString(), failures: 5 }, null];
    let tries = 0;
    const store = {
      reserveAttempt: async () => (++tries === 3 ? row : null),
      throttleOf: async () => answers.shift() ?? null,
    } as unknown as IdentityStore;
    expect(await new Throttle(store, () => now).reserve('u-raced')).toEqual({ ok: true, reservation: { key: 'u-raced', failures: 6, lockedUntil: null } });
    expect(tries).toBe(3);
  });

  it('gives up after three tries, asking for the first delay', async () => {
    let tries = 0;
    const store = {
      reserveAttempt: async () => {
        tries++;
        return null;
      },
      throttleOf: async () => null,
    } as unknown as IdentityStore;
    expect(await new Throttle(store, () => now).reserve('u-raced')).toEqual({ ok: false, until: new Date(now.getTime() + FIRST_DELAY_SECONDS * 1000) });
    expect(tries).toBe(3);
  });
});
