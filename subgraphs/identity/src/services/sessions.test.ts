import { randomBytes } from 'node:crypto';
import type { PortalConfig, Viewer } from '@portal/kit';
import { closeRedis, openRedis, type Redis } from '@portal/kit';
import { RedisSessions, SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS } from '@portal/kit';
import type { SessionRow } from '../db/entities';
import type { IdentityStore } from '../db/store';
import { openTestIdentityDatabase, type TestIdentityDatabase } from '../db/testDatabase';
import { skipWithoutRedis, testRedisUrl } from '@portal/kit/testing';
import { dropRedisKeys, REDIS_URL } from '../testing';
import { createSessionService, openSession, SessionService } from './sessions';

const IDLE = SESSION_IDLE_SECONDS * 1000;
const T0 = new Date('2030-04-01T08:00:00.000Z').getTime();

async function refusal(p: Promise<unknown>): Promise<{ code: unknown; message: string } | 'OK'> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return { code: (e as { extensions?: { code?: unknown } }).extensions?.code, message: (e as Error).message };
  }
}
const ENDED = { code: 'UNAUTHENTICATED', message: 'Your session has ended; sign in again.' };

const viewerOf = (sessionId: string, accountId = 'ac-jane-doe'): Viewer => ({
  accountId,
  personId: 'pt-1000000001',
  role: 'PATIENT',
  method: 'DS_LOGON',
  sessionId,
  careTeamIds: [],
  scopes: [],
  expiresAt: new Date(T0 + SESSION_MAX_SECONDS * 1000),
  token: 't',
});

describe('SessionService', () => {
  let t: TestIdentityDatabase;
  let now: number;
  const clock = () => new Date(now);
  const later = (ms: number) => {
    now += ms;
  };
  beforeAll(async () => {
    t = await openTestIdentityDatabase();
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    now = T0;
  });

  describe('in the identity database', () => {
    let sessions: SessionService;
    beforeEach(() => {
      sessions = new SessionService(t.store, null, clock);
    });

    it('opens a session that ends after 8 hours at most, and after 15 idle minutes', async () => {
      const opened = await sessions.open('ac-jane-doe', 'CAC');
      expect(opened.idleExpiresAt).toEqual(new Date(T0 + IDLE));
      expect(await t.store.sessionById(opened.id)).toEqual({
        id: opened.id,
        accountId: 'ac-jane-doe',
        method: 'CAC',
        createdAt: new Date(T0).toISOString(),
        expiresAt: new Date(T0 + SESSION_MAX_SECONDS * 1000).toISOString(),
        endedAt: null,
        lastSeenAt: new Date(T0).toISOString(),
      });
      const second = await sessions.open('ac-jane-doe', 'CAC');
      expect(second.id).not.toBe(opened.id);
    });

    it('passes a live session and pushes its idle deadline on with every request', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'DS_LOGON');
      expect(await sessions.check(viewerOf(id))).toEqual(new Date(T0 + IDLE));
      later(10 * 60_000);
      expect(await sessions.check(viewerOf(id))).toEqual(new Date(now + IDLE));
      later(10 * 60_000);
      expect(await sessions.check(viewerOf(id))).toEqual(new Date(now + IDLE));
    });

    it('ends a session idle for 15 minutes, recording when it ended', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'DS_LOGON');
      await sessions.check(viewerOf(id));
      later(IDLE - 1);
      await sessions.check(viewerOf(id));
      later(IDLE);
      expect(await refusal(sessions.check(viewerOf(id)))).toEqual(ENDED);
      expect((await t.store.sessionById(id))?.endedAt).toBe(new Date(T0 + IDLE - 1 + IDLE).toISOString());
      later(-IDLE);
      // Ended is ended, even when asked again.
      expect(await refusal(sessions.check(viewerOf(id)))).toEqual(ENDED);
    });

    it('measures idleness from the table on another instance, and from the open time before any request', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'DS_LOGON');
      later(IDLE);
      expect(await refusal(new SessionService(t.store, null, clock).check(viewerOf(id)))).toEqual(ENDED);
    });

    it('refuses an unknown session, another account’s session, and one past its 8 hours', async () => {
      expect(await refusal(sessions.check(viewerOf('no-such-session')))).toEqual(ENDED);
      const { id } = await sessions.open('ac-john-roe', 'DS_LOGON');
      expect(await refusal(sessions.check(viewerOf(id, 'ac-jane-doe')))).toEqual(ENDED);
      // ...also when this instance has just seen the session in use by its own account.
      await sessions.check(viewerOf(id, 'ac-john-roe'));
      expect(await refusal(sessions.check(viewerOf(id, 'ac-jane-doe')))).toEqual(ENDED);
      const old = await sessions.open('ac-jane-doe', 'DS_LOGON');
      for (let i = 0; i < 8 * 4; i++) {
        later(15 * 60_000 - 1);
        await sessions.check(viewerOf(old.id));
      }
      later(SESSION_MAX_SECONDS * 1000 - 32 * (15 * 60_000 - 1) - 1);
      expect(await new SessionService(t.store, null, clock).check(viewerOf(old.id))).toEqual(new Date(now + IDLE));
      later(1);
      expect(await refusal(new SessionService(t.store, null, clock).check(viewerOf(old.id)))).toEqual(ENDED);
    });

    it('writes activity to the table at most every 30 seconds, for other instances to see', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'DS_LOGON');
      const lastSeen = async () => (await t.store.sessionById(id))?.lastSeenAt;
      later(1000);
      await sessions.check(viewerOf(id));
      expect(await lastSeen()).toBe(new Date(T0 + 1000).toISOString());
      later(29_999);
      await sessions.check(viewerOf(id));
      expect(await lastSeen()).toBe(new Date(T0 + 1000).toISOString());
      later(1);
      await sessions.check(viewerOf(id));
      expect(await lastSeen()).toBe(new Date(T0 + 31_000).toISOString());
      // Another instance keeps the session alive from the table: 14 minutes after the last write.
      later(14 * 60_000);
      expect(await new SessionService(t.store, null, clock).check(viewerOf(id))).toEqual(new Date(now + IDLE));
    });

    it('counts this instance’s own unwritten activity when it reads the table again', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'DS_LOGON');
      await sessions.check(viewerOf(id));
      later(20_000);
      await sessions.check(viewerOf(id));
      // The table says T0 (the last write), this instance saw T0+20s.
      expect((await t.store.sessionById(id))?.lastSeenAt).toBe(new Date(T0).toISOString());
      later(IDLE - 10_000);
      expect(await sessions.check(viewerOf(id))).toEqual(new Date(now + IDLE));
    });

    it('trusts its "live" answer for 5 seconds: an end elsewhere is seen within that', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'DS_LOGON');
      await sessions.check(viewerOf(id));
      await new SessionService(t.store, null, clock).end(viewerOf(id));
      later(4_999);
      await sessions.check(viewerOf(id));
      later(1);
      expect(await refusal(sessions.check(viewerOf(id)))).toEqual(ENDED);
    });

    it('sees its own end at once', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'DS_LOGON');
      await sessions.check(viewerOf(id));
      later(1000);
      await sessions.end(viewerOf(id));
      expect((await t.store.sessionById(id))?.endedAt).toBe(new Date(T0 + 1000).toISOString());
      expect(await refusal(sessions.check(viewerOf(id)))).toEqual(ENDED);
    });

    it('ends every session of one account at once, and no one else’s', async () => {
      const a = await sessions.open('ac-john-roe', 'DS_LOGON');
      const b = await sessions.open('ac-john-roe', 'CAC');
      const other = await sessions.open('ac-jane-doe', 'DS_LOGON');
      for (const s of [a, b]) await sessions.check(viewerOf(s.id, 'ac-john-roe'));
      await sessions.check(viewerOf(other.id));
      await sessions.endAllOf('ac-john-roe');
      expect(await refusal(sessions.check(viewerOf(a.id, 'ac-john-roe')))).toEqual(ENDED);
      expect(await refusal(sessions.check(viewerOf(b.id, 'ac-john-roe')))).toEqual(ENDED);
      expect(await sessions.check(viewerOf(other.id))).toEqual(new Date(now + IDLE));
    });

    it('keeps the unwritten activity of other accounts’ sessions when it ends one account’s', async () => {
      const mine = await sessions.open('ac-john-roe', 'DS_LOGON');
      const other = await sessions.open('ac-jane-doe', 'DS_LOGON');
      await sessions.check(viewerOf(mine.id, 'ac-john-roe'));
      await sessions.check(viewerOf(other.id));
      later(20_000);
      // Seen at T0+20s by this instance; the table still says T0 (written at most every 30 s).
      await sessions.check(viewerOf(other.id));
      await sessions.endAllOf('ac-john-roe');
      later(IDLE - 10_000);
      // Idle since T0 by the table, but not since T0+20s.
      expect(await sessions.check(viewerOf(other.id))).toEqual(new Date(now + IDLE));
    });

    it('closes with what it was given', async () => {
      let closed = 0;
      await new SessionService(t.store, null, clock, async () => void closed++).close();
      expect(closed).toBe(1);
      await expect(new SessionService(t.store, null, clock).close()).resolves.toBeUndefined();
    });
  });

  describe('its memory of activity', () => {
    // 10,002 sessions: a store in memory answers the three statements a check makes (the
    // statements themselves are tested above on the real table); what is tested here is which
    // entries the service forgets once it remembers more than 10,000.
    const rows = new Map<string, SessionRow>();
    const store = {
      sessionById: async (id: string) => rows.get(id) ?? null,
      touchSession: async (id: string, at: Date) => {
        rows.get(id)!.lastSeenAt = at.toISOString();
      },
      endSession: async (id: string, at: Date) => {
        rows.get(id)!.endedAt = at.toISOString();
      },
    } as unknown as IdentityStore;
    const row = (id: string): SessionRow => ({
      id,
      accountId: 'ac-jane-doe',
      method: 'DS_LOGON',
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + SESSION_MAX_SECONDS * 1000).toISOString(),
      endedAt: null,
      lastSeenAt: new Date(now).toISOString(),
    });
    const checkNew = async (sessions: SessionService, id: string) => {
      rows.set(id, row(id));
      return sessions.check(viewerOf(id));
    };

    it('past 10,000 sessions forgets the idle ones only, keeping a live session’s unwritten activity', async () => {
      const sessions = new SessionService(store, null, clock);
      for (let i = 0; i < 10_000; i++) await checkNew(sessions, `old-${i}`);
      later(60_000);
      const t1 = now;
      await checkNew(sessions, 'live');
      later(20_000);
      // The 10,001st entry: nothing is idle yet. This instance saw `live` at t1+20s; the table says t1.
      await sessions.check(viewerOf('live'));
      expect(rows.get('live')!.lastSeenAt).toBe(new Date(t1).toISOString());
      // Past 10,000 again once the old ones are idle: they go, `live` (idle for less) stays.
      now = T0 + IDLE;
      await checkNew(sessions, 'trigger');
      now = t1 + 20_000 + IDLE - 1;
      expect(await sessions.check(viewerOf('live'))).toEqual(new Date(now + IDLE));
      expect(rows.get('live')!.endedAt).toBeNull();
    });
  });

  describe('in Redis', () => {
    if (skipWithoutRedis('SessionService in Redis (services/sessions.test.ts)')) return;
    let redis: Redis;
    let prefix: string;
    let sessions: SessionService;
    beforeAll(() => {
      redis = openRedis(REDIS_URL);
    });
    beforeEach(() => {
      prefix = `portal-test-${randomBytes(4).toString('hex')}:`;
      sessions = new SessionService(t.store, new RedisSessions(redis, prefix), clock);
    });
    afterEach(async () => {
      await dropRedisKeys(REDIS_URL, prefix);
    });
    afterAll(async () => {
      await closeRedis(redis);
    });

    it('opens the session in Redis and keeps the row as the sign-in record', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'PIV');
      expect(JSON.parse((await redis.get(`${prefix}session:${id}`))!)).toEqual({ accountId: 'ac-jane-doe', method: 'PIV' });
      expect(await t.store.sessionById(id)).toMatchObject({ accountId: 'ac-jane-doe', method: 'PIV', endedAt: null });
    });

    it('checks Redis alone: a live session passes, an ended or foreign one does not', async () => {
      const { id } = await sessions.open('ac-jane-doe', 'DS_LOGON');
      later(60_000);
      expect(await sessions.check(viewerOf(id))).toEqual(new Date(now + IDLE));
      expect(await refusal(sessions.check(viewerOf(id, 'ac-john-roe')))).toEqual(ENDED);
      // Redis is the truth: a row without a Redis session is not a live session.
      await redis.del(`${prefix}session:${id}`);
      expect(await refusal(sessions.check(viewerOf(id)))).toEqual(ENDED);
    });

    it('ends sessions in Redis and in the table', async () => {
      const one = await sessions.open('ac-jane-doe', 'DS_LOGON');
      await sessions.end(viewerOf(one.id));
      expect(await redis.exists(`${prefix}session:${one.id}`)).toBe(0);
      expect((await t.store.sessionById(one.id))?.endedAt).not.toBeNull();
      const a = await sessions.open('ac-john-roe', 'DS_LOGON');
      const b = await sessions.open('ac-john-roe', 'CAC');
      await sessions.endAllOf('ac-john-roe');
      for (const s of [a, b]) {
        expect(await redis.exists(`${prefix}session:${s.id}`)).toBe(0);
        expect((await t.store.sessionById(s.id))?.endedAt).not.toBeNull();
      }
    });
  });

  describe('createSessionService and openSession', () => {
    const config = (over: Partial<PortalConfig> = {}): PortalConfig => ({ production: false, dataDir: t.dataDir, identityUrl: 'http://127.0.0.1:1', ...over });

    it('keep sessions in the table without REDIS_URL', async () => {
      const opened = await openSession(config(), t.db.dataSource, 'ac-jane-doe', 'CAC');
      expect(await t.store.sessionById(opened.id)).toMatchObject({ accountId: 'ac-jane-doe', method: 'CAC', endedAt: null });
      const service = createSessionService(config(), t.db.dataSource);
      expect((await service.check(viewerOf(opened.id))).getTime()).toBeGreaterThan(Date.now());
      await service.close();
      // Nothing of it in Redis, even with one running at the default address: the table alone decides, so an end there ends it.
      if (testRedisUrl()) {
        const redis = openRedis(REDIS_URL);
        try {
          expect(await redis.exists(`portal:session:${opened.id}`)).toBe(0);
        } finally {
          await closeRedis(redis);
        }
      }
      await t.store.endSession(opened.id, new Date());
      const fresh = createSessionService(config(), t.db.dataSource);
      expect(await refusal(fresh.check(viewerOf(opened.id)))).toEqual(ENDED);
      await fresh.close();
    });

    describe('with REDIS_URL', () => {
      if (skipWithoutRedis('createSessionService with REDIS_URL (services/sessions.test.ts)')) return;

      it('close the Redis connection they opened when closed', async () => {
        const service = createSessionService(config({ redisUrl: REDIS_URL, redisKeyPrefix: `portal-test-${randomBytes(4).toString('hex')}:` }), t.db.dataSource, clock);
        const { redis } = (service as unknown as { redis: RedisSessions }).redis;
        try {
          await redis.ping();
          await service.close();
          // Closed by the service: a command on it is refused (not queued for a reconnection).
          await expect(redis.ping()).rejects.toThrow('Connection is closed.');
          expect(['close', 'end']).toContain(redis.status);
        } finally {
          redis.disconnect();
        }
      });

      it('keep them under portal: in Redis when no prefix is configured', async () => {
        const opened = await openSession(config({ redisUrl: REDIS_URL }), t.db.dataSource, 'ac-jane-doe', 'CAC');
        const redis = openRedis(REDIS_URL);
        try {
          expect(await redis.exists(`portal:session:${opened.id}`)).toBe(1);
        } finally {
          await redis.del(`portal:session:${opened.id}`);
          await redis.srem('portal:account-sessions:ac-jane-doe', opened.id);
          await closeRedis(redis);
        }
      });

      it('keep them in Redis, under the configured prefix, with REDIS_URL', async () => {
        const prefix = `portal-test-${randomBytes(4).toString('hex')}:`;
        try {
          const opened = await openSession(config({ redisUrl: REDIS_URL, redisKeyPrefix: prefix }), t.db.dataSource, 'ac-jane-doe', 'CAC');
          const redis = openRedis(REDIS_URL);
          try {
            expect(await redis.exists(`${prefix}session:${opened.id}`)).toBe(1);
          } finally {
            await closeRedis(redis);
          }
          const service = createSessionService(config({ redisUrl: REDIS_URL, redisKeyPrefix: prefix }), t.db.dataSource, clock);
          try {
            expect(await service.check(viewerOf(opened.id))).toEqual(new Date(T0 + IDLE));
          } finally {
            await service.close();
          }
        } finally {
          await dropRedisKeys(REDIS_URL, prefix);
        }
      });
    });
  });
});
