import { DEMO } from '@portal/demo';
import { openTestIdentityDatabase, type TestIdentityDatabase } from './testDatabase';
import type { IdentityStore } from './store';

// The demo cast's care teams: Blue holds Jane, John and Alex; Green holds Jane and Riley.
// Morgan and Sam are on no team.
describe('IdentityStore: the security-relevant statements', () => {
  let t: TestIdentityDatabase;
  let store: IdentityStore;
  beforeAll(async () => {
    t = await openTestIdentityDatabase();
    store = t.store;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('patientsTreatedBy (care access)', () => {
    const everyone = [DEMO.jane, DEMO.john, 'pt-unknown'];

    it('names the patients who share a care team with the practitioner, and only those asked about', async () => {
      expect(await store.patientsTreatedBy(DEMO.alex, everyone)).toEqual(new Set([DEMO.jane, DEMO.john]));
      expect(await store.patientsTreatedBy(DEMO.riley, everyone)).toEqual(new Set([DEMO.jane]));
      expect(await store.patientsTreatedBy(DEMO.alex, [DEMO.john])).toEqual(new Set([DEMO.john]));
      expect(await store.patientsTreatedBy(DEMO.riley, [DEMO.john])).toEqual(new Set());
    });

    it('names no one for a practitioner on no team, or an unknown one', async () => {
      expect(await store.patientsTreatedBy(DEMO.morgan, everyone)).toEqual(new Set());
      expect(await store.patientsTreatedBy(DEMO.sam, everyone)).toEqual(new Set());
      expect(await store.patientsTreatedBy('pr-unknown', everyone)).toEqual(new Set());
    });

    it('asks nothing of the database for no patients', async () => {
      t.db.counter.count = 0;
      expect(await store.patientsTreatedBy(DEMO.alex, [])).toEqual(new Set());
      expect(t.db.counter.count).toBe(0);
    });
  });

  describe('sign-in throttle rows', () => {
    const now = '2031-05-06T07:00:00.000Z';
    const until = '2031-05-06T07:08:09.000Z';
    const later = '2031-05-06T07:09:00.000Z';
    // The third failure in a row, and every one after it, locks until `until`.
    const steps = [null, null, until];

    it('reserve attempts per key as failures, lock at the step that says so, and give nothing while locked', async () => {
      expect(await store.throttleOf('user-a')).toBeNull();
      expect(await store.reserveAttempt('user-a', now, steps)).toEqual({ failures: 1, lockedUntil: null });
      expect(await store.reserveAttempt('user-a', now, steps)).toEqual({ failures: 2, lockedUntil: null });
      expect(await store.reserveAttempt('user-b', now, steps)).toEqual({ failures: 1, lockedUntil: null });
      expect(await store.reserveAttempt('user-a', now, steps)).toEqual({ failures: 3, lockedUntil: until });
      expect(await store.reserveAttempt('user-a', now, steps)).toBeNull();
      expect(await store.reserveAttempt('user-a', until.replace('09.000Z', '08.999Z'), steps)).toBeNull();
      expect(await store.throttleOf('user-a')).toEqual({ failures: 3, lockedUntil: until });
      expect(await store.throttleOf('user-b')).toEqual({ failures: 1, lockedUntil: null });
      // Once the lock has ended, the next attempt counts on, under the last step's lock.
      expect(await store.reserveAttempt('user-a', until, steps)).toEqual({ failures: 4, lockedUntil: until });
    });

    it('release a success by clearing the key, unless another attempt locked it meanwhile', async () => {
      expect(await store.reserveAttempt('user-c', now, steps)).toEqual({ failures: 1, lockedUntil: null });
      expect(await store.releaseAttempt('user-c', 1, now)).toBe(true);
      expect(await store.throttleOf('user-c')).toBeNull();

      await store.reserveAttempt('user-d', now, steps);
      await store.reserveAttempt('user-d', now, steps);
      await store.reserveAttempt('user-d', now, steps);
      // The first of those three succeeds late: a lock set by the others stands.
      expect(await store.releaseAttempt('user-d', 1, now)).toBe(false);
      expect(await store.throttleOf('user-d')).toEqual({ failures: 3, lockedUntil: until });
      // The one that set the lock clears it; after the lock, any success clears the key.
      expect(await store.releaseAttempt('user-d', 3, now)).toBe(true);
      expect(await store.throttleOf('user-d')).toBeNull();
      await store.reserveAttempt('user-e', now, steps);
      await store.reserveAttempt('user-e', now, steps);
      await store.reserveAttempt('user-e', now, steps);
      expect(await store.releaseAttempt('user-e', 1, later)).toBe(true);
      expect(await store.throttleOf('user-e')).toBeNull();
    });
  });

  describe('session rows', () => {
    const row = (id: string, accountId: string) => ({
      id,
      accountId,
      method: 'DS_LOGON',
      createdAt: '2030-01-01T00:00:00.000Z',
      expiresAt: '2030-01-01T08:00:00.000Z',
      endedAt: null,
      lastSeenAt: '2030-01-01T00:00:00.000Z',
    });

    it('record activity only while open, and end once, at the first end', async () => {
      await store.createSession(row('s-1', 'ac-jane-doe'));
      await store.touchSession('s-1', new Date('2030-01-01T00:05:00.000Z'));
      expect((await store.sessionById('s-1'))?.lastSeenAt).toBe('2030-01-01T00:05:00.000Z');
      await store.endSession('s-1', new Date('2030-01-01T00:06:00.000Z'));
      await store.endSession('s-1', new Date('2030-01-01T00:07:00.000Z'));
      await store.touchSession('s-1', new Date('2030-01-01T00:08:00.000Z'));
      expect(await store.sessionById('s-1')).toMatchObject({ endedAt: '2030-01-01T00:06:00.000Z', lastSeenAt: '2030-01-01T00:05:00.000Z' });
    });

    it('end every open session of one account, and no one else’s', async () => {
      await store.createSession(row('s-2', 'ac-john-roe'));
      await store.createSession(row('s-3', 'ac-john-roe'));
      await store.createSession(row('s-4', 'ac-jane-doe'));
      await store.endSession('s-3', new Date('2030-01-01T00:01:00.000Z'));
      await store.endSessionsOf('ac-john-roe', new Date('2030-01-01T00:09:00.000Z'));
      expect((await store.sessionById('s-2'))?.endedAt).toBe('2030-01-01T00:09:00.000Z');
      expect((await store.sessionById('s-3'))?.endedAt).toBe('2030-01-01T00:01:00.000Z');
      expect((await store.sessionById('s-4'))?.endedAt).toBeNull();
    });
  });

  describe('smart-card challenges used', () => {
    const t0 = new Date('2030-02-01T10:00:00.000Z');
    const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

    it('are used once: only the first use of a nonce gets true', async () => {
      expect(await store.useChallenge('nonce-1', at(5))).toBe(true);
      expect(await store.useChallenge('nonce-1', at(5))).toBe(false);
      expect(await store.useChallenge('nonce-1', at(10))).toBe(false);
      expect(await store.useChallenge('nonce-2', at(5))).toBe(true);
    });

    it('are forgotten only once they expired before the given time', async () => {
      expect(await store.useChallenge('nonce-old', at(-115))).toBe(true);
      expect(await store.useChallenge('nonce-edge', at(-60))).toBe(true);
      expect(await store.useChallenge('nonce-new', at(5))).toBe(true);
      await store.purgeUsedChallenges(at(-60));
      // A forgotten nonce can be recorded again; the others are still used.
      expect(await store.useChallenge('nonce-old', at(-115))).toBe(true);
      expect(await store.useChallenge('nonce-edge', at(-60))).toBe(false);
      expect(await store.useChallenge('nonce-new', at(5))).toBe(false);
    });
  });
});
