import { DEMO } from '@portal/kit';
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
    it('count failures in a row per key, lock with the count reset, and clear', async () => {
      expect(await store.throttleOf('user-a')).toBeNull();
      expect(await store.recordFailure('user-a')).toBe(1);
      expect(await store.recordFailure('user-a')).toBe(2);
      expect(await store.recordFailure('user-b')).toBe(1);
      expect(await store.throttleOf('user-a')).toEqual({ failures: 2, lockedUntil: null });
      const until = new Date('2031-05-06T07:08:09.000Z');
      await store.lock('user-a', until);
      expect(await store.throttleOf('user-a')).toEqual({ failures: 0, lockedUntil: until.toISOString() });
      expect(await store.throttleOf('user-b')).toEqual({ failures: 1, lockedUntil: null });
      expect(await store.recordFailure('user-a')).toBe(1);
      await store.clearFailures('user-a');
      expect(await store.throttleOf('user-a')).toBeNull();
      expect(await store.throttleOf('user-b')).toEqual({ failures: 1, lockedUntil: null });
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

  describe('smart-card challenges', () => {
    const t0 = new Date('2030-02-01T10:00:00.000Z');
    const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

    it('are used up once, only before they expire, and never when unknown', async () => {
      await store.insertChallenge('ch-1', t0, at(5));
      expect(await store.consumeChallenge('ch-unknown', at(1))).toBe(false);
      expect(await store.consumeChallenge('ch-1', at(1))).toBe(true);
      expect(await store.consumeChallenge('ch-1', at(1))).toBe(false);
      await store.insertChallenge('ch-2', t0, at(5));
      expect(await store.consumeChallenge('ch-2', at(5))).toBe(false);
      await store.insertChallenge('ch-3', t0, at(5));
      expect(await store.consumeChallenge('ch-3', at(4.99))).toBe(true);
    });

    it('are purged once expired before the given time', async () => {
      await store.insertChallenge('ch-old', at(-120), at(-115));
      await store.insertChallenge('ch-edge', at(-120), at(-60));
      await store.insertChallenge('ch-new', t0, at(5));
      await store.purgeChallenges(at(-60));
      expect(await store.consumeChallenge('ch-old', at(-118))).toBe(false);
      expect(await store.consumeChallenge('ch-edge', at(-61))).toBe(true);
      expect(await store.consumeChallenge('ch-new', at(1))).toBe(true);
    });
  });
});
