import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { PortalConfig } from '../config';
import { closeRedis, openRedis, type Redis } from './redis';
import {
  defaultSessionGuard,
  redisSessionGuard,
  RedisSessions,
  remoteSessionGuard,
  SESSION_CACHE_MS,
  SESSION_IDLE_SECONDS,
  SESSION_MAX_SECONDS,
} from './sessions';
import type { Viewer } from './tokens';
import { NO_TEST_REDIS, skipWithoutRedis, startFaultProxy, testRedisUrl, uniqueRedisKeyPrefix } from '../testing';

const REDIS_URL = testRedisUrl() ?? NO_TEST_REDIS;
const configWith = (over: Partial<PortalConfig>): PortalConfig => ({ production: false, dataDir: '/nonexistent', identityUrl: 'http://127.0.0.1:1', ...over });

const viewer = (over: Partial<Viewer> = {}): Viewer => ({
  accountId: 'ac-1',
  personId: 'pt-1',
  role: 'PATIENT',
  method: 'DS_LOGON',
  sessionId: 'sess-1',
  careTeamIds: [],
  scopes: [],
  expiresAt: new Date(Date.now() + 3_600_000),
  token: 'tok-1',
  ...over,
});

async function refusal(p: Promise<unknown>): Promise<{ code: unknown; message: string } | 'OK'> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return { code: (e as { extensions?: { code?: unknown } }).extensions?.code, message: (e as Error).message };
  }
}
const ENDED = { code: 'UNAUTHENTICATED', message: 'Your session has ended; sign in again.' };
const UNAVAILABLE = { code: 'SERVICE_UNAVAILABLE', message: 'Your sign-in could not be checked right now. Try again shortly.' };

it('keeps the documented limits: 15 idle minutes, 8 hours in all, 5 s of trust without Redis', () => {
  expect(SESSION_IDLE_SECONDS).toBe(900);
  expect(SESSION_MAX_SECONDS).toBe(8 * 3600);
  expect(SESSION_CACHE_MS).toBe(5000);
});

describe('sessions in Redis', () => {
  if (skipWithoutRedis('RedisSessions and the Redis session guards (kit auth/sessions.test.ts)')) return;
  let redis: Redis;
  let prefix: string;
  let sessions: RedisSessions;
  beforeAll(() => {
    redis = openRedis(REDIS_URL);
  });
  beforeEach(() => {
    prefix = `portal-test-${randomBytes(4).toString('hex')}:`;
    sessions = new RedisSessions(redis, prefix, 100);
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    await closeRedis(redis);
  });

  it('opens a session that lives for the idle limit, listed under its account for longer than any session lives', async () => {
    await sessions.open('s-1', { accountId: 'ac-1', method: 'CAC' });
    expect(JSON.parse((await redis.get(`${prefix}session:s-1`))!)).toEqual({ accountId: 'ac-1', method: 'CAC' });
    expect(await redis.ttl(`${prefix}session:s-1`)).toBe(100);
    expect(await redis.smembers(`${prefix}account-sessions:ac-1`)).toEqual(['s-1']);
    expect(await redis.ttl(`${prefix}account-sessions:ac-1`)).toBe(SESSION_MAX_SECONDS + 100);
    // The default idle limit is the session's.
    await new RedisSessions(redis, prefix).open('s-2', { accountId: 'ac-2', method: 'PIV' });
    expect(await redis.ttl(`${prefix}session:s-2`)).toBe(SESSION_IDLE_SECONDS);
  });

  it('touch reads the session and pushes its idle deadline on; null once it is gone or unreadable', async () => {
    await sessions.open('s-1', { accountId: 'ac-1', method: 'DS_LOGON' });
    await redis.expire(`${prefix}session:s-1`, 5);
    expect(await sessions.touch('s-1')).toEqual({ accountId: 'ac-1', method: 'DS_LOGON' });
    expect(await redis.ttl(`${prefix}session:s-1`)).toBe(100);
    expect(await sessions.touch('s-unknown')).toBeNull();
    await redis.set(`${prefix}session:s-bad`, '{not json');
    expect(await sessions.touch('s-bad')).toBeNull();
  });

  it('ends one session, or all of an account’s, leaving other accounts’ alone', async () => {
    await sessions.open('s-1', { accountId: 'ac-1', method: 'DS_LOGON' });
    await sessions.open('s-2', { accountId: 'ac-1', method: 'CAC' });
    await sessions.open('s-3', { accountId: 'ac-1', method: 'CAC' });
    await sessions.open('s-other', { accountId: 'ac-2', method: 'CAC' });
    await sessions.end('s-1', 'ac-1');
    expect(await sessions.touch('s-1')).toBeNull();
    expect((await redis.smembers(`${prefix}account-sessions:ac-1`)).sort()).toEqual(['s-2', 's-3']);
    await sessions.endAllOf('ac-1');
    expect(await sessions.touch('s-2')).toBeNull();
    expect(await sessions.touch('s-3')).toBeNull();
    expect(await redis.exists(`${prefix}account-sessions:ac-1`)).toBe(0);
    expect(await sessions.touch('s-other')).toEqual({ accountId: 'ac-2', method: 'CAC' });
    // An account without sessions: nothing to end, and no error.
    await sessions.endAllOf('ac-none');
  });

  it('is SERVICE_UNAVAILABLE when a write fails inside the transaction', async () => {
    await redis.set(`${prefix}account-sessions:ac-1`, 'not a set');
    expect(await refusal(sessions.open('s-1', { accountId: 'ac-1', method: 'CAC' }))).toEqual(UNAVAILABLE);
  });

  it('is SERVICE_UNAVAILABLE, never "ended" or "live", when Redis cannot be reached', async () => {
    const down = openRedis(REDIS_URL);
    await new Promise((resolve) => down.once('ready', resolve));
    down.disconnect();
    const offline = new RedisSessions(down, prefix, 100);
    expect(await refusal(offline.open('s-1', { accountId: 'ac-1', method: 'CAC' }))).toEqual(UNAVAILABLE);
    expect(await refusal(offline.touch('s-1'))).toEqual(UNAVAILABLE);
    expect(await refusal(offline.end('s-1', 'ac-1'))).toEqual(UNAVAILABLE);
    expect(await refusal(offline.endAllOf('ac-1'))).toEqual(UNAVAILABLE);
    expect(await refusal(redisSessionGuard(offline).check(viewer({ sessionId: 's-1' })))).toEqual(UNAVAILABLE);
  });

  describe('redisSessionGuard', () => {
    it('passes a live session of the token’s account and returns its new idle deadline', async () => {
      await sessions.open('s-1', { accountId: 'ac-1', method: 'DS_LOGON' });
      const before = Date.now();
      const until = await redisSessionGuard(sessions).check(viewer({ sessionId: 's-1' }));
      expect(until.getTime()).toBeGreaterThanOrEqual(before + SESSION_IDLE_SECONDS * 1000);
      expect(until.getTime()).toBeLessThanOrEqual(Date.now() + SESSION_IDLE_SECONDS * 1000);
    });

    it('refuses an ended session, and a session of another account', async () => {
      const guard = redisSessionGuard(sessions);
      expect(await refusal(guard.check(viewer({ sessionId: 's-none' })))).toEqual(ENDED);
      await sessions.open('s-2', { accountId: 'ac-2', method: 'DS_LOGON' });
      expect(await refusal(guard.check(viewer({ sessionId: 's-2', accountId: 'ac-1' })))).toEqual(ENDED);
    });

    it('closes with what it was given', async () => {
      let closed = 0;
      await redisSessionGuard(sessions, async () => void closed++).close();
      expect(closed).toBe(1);
      await expect(redisSessionGuard(sessions).close()).resolves.toBeUndefined();
    });
  });

  it('defaultSessionGuard keys sessions under portal: when no prefix is configured', async () => {
    const id = `test-${randomBytes(8).toString('hex')}`;
    await redis.set(`portal:session:${id}`, JSON.stringify({ accountId: 'ac-1', method: 'CAC' }), 'EX', 60);
    const guard = defaultSessionGuard(configWith({ redisUrl: REDIS_URL }));
    try {
      expect((await guard.check(viewer({ sessionId: id }))).getTime()).toBeGreaterThan(Date.now());
    } finally {
      await guard.close();
      await redis.del(`portal:session:${id}`);
    }
  });

  it('defaultSessionGuard closes the Redis connection it opened', async () => {
    await sessions.open('s-1', { accountId: 'ac-1', method: 'DS_LOGON' });
    const guard = defaultSessionGuard(configWith({ redisUrl: REDIS_URL, redisKeyPrefix: prefix }));
    await guard.check(viewer({ sessionId: 's-1' }));
    await guard.close();
    expect(await refusal(guard.check(viewer({ sessionId: 's-1' })))).toEqual(UNAVAILABLE);
  });

  it('defaultSessionGuard checks Redis itself when REDIS_URL is set', async () => {
    await sessions.open('s-1', { accountId: 'ac-1', method: 'DS_LOGON' });
    const guard = defaultSessionGuard(configWith({ redisUrl: REDIS_URL, redisKeyPrefix: prefix }), 'http://127.0.0.1:1');
    try {
      expect((await guard.check(viewer({ sessionId: 's-1' }))).getTime()).toBeGreaterThan(Date.now());
      expect(await refusal(guard.check(viewer({ sessionId: 's-2' })))).toEqual(ENDED);
    } finally {
      await guard.close();
    }
  });
});

describe('remoteSessionGuard (asking identity)', () => {
  let server: http.Server;
  let url: string;
  let seen: { method?: string; url?: string; authorization?: string }[];
  let reply: (res: http.ServerResponse) => void;
  let hold: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
      req.resume();
      void hold.then(() => reply(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
    hold = Promise.resolve();
  });

  const EXPIRES = '2031-01-02T03:04:05.000Z';
  const answer = (status: number, body: unknown) => (res: http.ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));

  it('asks identity with the viewer’s token and returns the idle deadline identity gives', async () => {
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    expect(await remoteSessionGuard(url).check(viewer())).toEqual(new Date(EXPIRES));
    expect(seen).toEqual([{ method: 'POST', url: '/internal/sessions/check', authorization: 'Bearer tok-1' }]);
  });

  it('trusts a live answer for the cache time, per account and session, and not after close', async () => {
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    const guard = remoteSessionGuard(url, 60_000);
    await guard.check(viewer());
    expect(await guard.check(viewer())).toEqual(new Date(EXPIRES));
    expect(seen).toHaveLength(1);
    await guard.check(viewer({ accountId: 'ac-2' }));
    await guard.check(viewer({ sessionId: 'sess-2' }));
    expect(seen).toHaveLength(3);
    await guard.close();
    await guard.check(viewer());
    expect(seen).toHaveLength(4);
  });

  it('asks again once the cache time is over', async () => {
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    const guard = remoteSessionGuard(url, 0);
    await guard.check(viewer());
    await new Promise((resolve) => setTimeout(resolve, 5));
    await guard.check(viewer());
    expect(seen).toHaveLength(2);
  });

  it('asks once for parallel checks of one session, and again after that answer', async () => {
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const guard = remoteSessionGuard(url, 0);
    const pending = [guard.check(viewer()), guard.check(viewer()), guard.check(viewer())];
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    expect(await Promise.all(pending)).toEqual([new Date(EXPIRES), new Date(EXPIRES), new Date(EXPIRES)]);
    expect(seen).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await guard.check(viewer());
    expect(seen).toHaveLength(2);
  });

  it('refuses an ended session: inactive, refused, or any answer that does not say "active" with a deadline', async () => {
    for (const [status, body] of [
      [200, { active: false }],
      [401, { active: true, expiresAt: EXPIRES }],
      [200, { active: 'true', expiresAt: EXPIRES }],
      [200, { active: true }],
      [200, { active: true, expiresAt: 123 }],
      [200, 'not json'],
    ] as const) {
      reply = answer(status, body);
      expect([status, body, await refusal(remoteSessionGuard(url).check(viewer()))]).toEqual([status, body, ENDED]);
    }
  });

  it('does not cache a refusal', async () => {
    const guard = remoteSessionGuard(url, 60_000);
    reply = answer(200, { active: false });
    expect(await refusal(guard.check(viewer()))).toEqual(ENDED);
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    expect(await guard.check(viewer())).toEqual(new Date(EXPIRES));
  });

  it('is SERVICE_UNAVAILABLE when identity fails or cannot be reached', async () => {
    reply = answer(500, { active: true, expiresAt: EXPIRES });
    expect(await refusal(remoteSessionGuard(url).check(viewer()))).toEqual(UNAVAILABLE);
    reply = answer(503, {});
    expect(await refusal(remoteSessionGuard(url).check(viewer()))).toEqual(UNAVAILABLE);
    expect(await refusal(remoteSessionGuard('http://127.0.0.1:1').check(viewer()))).toEqual(UNAVAILABLE);
  });

  it('is SERVICE_UNAVAILABLE, not a sign-out, for any answer that is not identity’s word on the session (404, 429, 400)', async () => {
    for (const status of [400, 404, 429]) {
      reply = answer(status, { active: false });
      expect([status, await refusal(remoteSessionGuard(url).check(viewer()))]).toEqual([status, UNAVAILABLE]);
    }
  });

  it('gives up after its timeout (IDENTITY_TIMEOUT_MS) when identity does not answer, and asks again next time', async () => {
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    const guard = remoteSessionGuard(url, 0, 200);
    expect(await refusal(guard.check(viewer()))).toEqual(UNAVAILABLE);
    release();
    hold = Promise.resolve();
    expect(await guard.check(viewer())).toEqual(new Date(EXPIRES));
  });

  it('trusts a live answer only while the cache time has not ended, to the millisecond (frozen clock)', async () => {
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    let clock = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    try {
      const guard = remoteSessionGuard(url, 1_000);
      await guard.check(viewer());
      clock += 999;
      await guard.check(viewer());
      expect(seen).toHaveLength(1);
      clock += 1;
      await guard.check(viewer());
      expect(seen).toHaveLength(2);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('past 10,000 cached answers drops the expired ones only, keeping a live one (frozen clock)', async () => {
    // 10,002 answers from the test's identity stand-in, asked 100 at a time (one at a time took over
    // a minute on a loaded machine: the test is about the cache, not about round trips).
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    const t0 = Date.now();
    let clock = t0;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    try {
      const guard = remoteSessionGuard(url, 5_000);
      for (let batch = 0; batch < 100; batch++) {
        await Promise.all(Array.from({ length: 100 }, (_, i) => guard.check(viewer({ sessionId: `old-${batch * 100 + i}` }))));
      }
      clock = t0 + 1;
      await guard.check(viewer({ sessionId: 'live' }));
      expect(seen).toHaveLength(10_001);
      // 10,001 cached: the next answer prunes the 10,000 that expired at t0 + 5 s, not the one live until t0 + 5.001 s.
      clock = t0 + 5_000;
      await guard.check(viewer({ sessionId: 'new' }));
      expect(seen).toHaveLength(10_002);
      expect(await guard.check(viewer({ sessionId: 'live' }))).toEqual(new Date(EXPIRES));
      expect(await guard.check(viewer({ sessionId: 'new' }))).toEqual(new Date(EXPIRES));
      expect(seen).toHaveLength(10_002);
      await guard.check(viewer({ sessionId: 'old-0' }));
      expect(seen).toHaveLength(10_003);
    } finally {
      jest.restoreAllMocks();
    }
  }, 300_000);

  it('defaultSessionGuard gives identity the configured IDENTITY_TIMEOUT_MS, not the default', async () => {
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    // identity answers after 600 ms: past the configured 100 ms, well within the default 2 s.
    const late = setTimeout(() => release(), 600);
    try {
      expect(await refusal(defaultSessionGuard(configWith({ identityUrl: url, identityTimeoutMs: 100 })).check(viewer()))).toEqual(UNAVAILABLE);
    } finally {
      await hold;
      clearTimeout(late);
    }
  });

  it('is what defaultSessionGuard uses without REDIS_URL, asking the identity URL it is given or the configured one', async () => {
    reply = answer(200, { active: true, expiresAt: EXPIRES });
    expect(await defaultSessionGuard(configWith({ identityUrl: 'http://127.0.0.1:1' }), url).check(viewer())).toEqual(new Date(EXPIRES));
    const config = configWith({ identityUrl: url });
    expect(await defaultSessionGuard(config).check(viewer())).toEqual(new Date(EXPIRES));
    expect(seen).toHaveLength(2);
  });
});

describe('sessions in Redis while Redis is unreachable', () => {
  if (skipWithoutRedis('sessions while Redis is cut off (kit auth/sessions.test.ts)')) return;
  /** Retries `work` until it succeeds: recovery takes a reconnection, whose moment the test does not choose. */
  async function eventually<T>(work: () => Promise<T>, tries = 80): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await work();
      } catch (e) {
        if (i >= tries) throw e;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  it.each([
    ['cut off', 'cut'],
    ['hung', 'hang'],
  ] as const)('answers SERVICE_UNAVAILABLE without hanging while Redis is %s, and recovers by itself', async (_, fault) => {
    const target = new URL(REDIS_URL);
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const redis = openRedis(`redis://127.0.0.1:${proxy.port}`, 300);
    const prefix = uniqueRedisKeyPrefix();
    const sessions = new RedisSessions(redis, prefix);
    const guard = redisSessionGuard(sessions);
    const jane = viewer({ sessionId: `s-${randomBytes(4).toString('hex')}` });
    try {
      await sessions.open(jane.sessionId, { accountId: jane.accountId, method: 'DS_LOGON' });
      expect(await refusal(guard.check(jane))).toBe('OK');
      proxy[fault]();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect(await refusal(guard.check(jane))).toEqual(UNAVAILABLE);
        // Bounded by the command timeout (300 ms here), with room for a loaded machine: never a hang.
        expect(Date.now() - started).toBeLessThan(10_000);
      }
      proxy.restore();
      // The same client, no restart: the session is there again, still live.
      expect(await eventually(() => guard.check(jane))).toBeInstanceOf(Date);
    } finally {
      await closeRedis(redis);
      await proxy.close();
      const direct = openRedis(REDIS_URL);
      const keys = await direct.keys(`${prefix}*`);
      if (keys.length) await direct.del(...keys);
      await closeRedis(direct);
    }
  });
});
