import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { DEFAULT_RATE_LIMITS, parseRateLimitRule, rateLimited, RateLimits, readRateLimitSettings, retryAfterOf, serviceBusy, type RateLimitSettings } from './rateLimit';
import { ErrorCode, PortalError } from './errors';
import { NO_TEST_REDIS, skipWithoutRedis, testRedisUrl } from './testing';
import { readConfig } from './config';

const REDIS_URL = testRedisUrl() ?? NO_TEST_REDIS;

/** The error `work` throws, or null when it does not. */
async function refusal(work: Promise<unknown>): Promise<{ code: unknown; status: unknown; retryAfter: string | undefined } | null> {
  try {
    await work;
    return null;
  } catch (e) {
    if (!(e instanceof PortalError)) throw e;
    const http = e.extensions.http as { status: number; headers: Map<string, string> };
    return { code: e.extensions.code, status: http?.status, retryAfter: http?.headers.get('retry-after') };
  }
}

const small = (perAddress: number, global: number): Partial<RateLimitSettings> => ({
  signIn: { perAddress: { points: perAddress, seconds: 60 }, global: { points: global, seconds: 60 } },
});

describe('rate-limit settings', () => {
  it('parses <per address>,<global> with off for none', () => {
    expect(parseRateLimitRule('30/60,1200/60s', 'X')).toEqual({ perAddress: { points: 30, seconds: 60 }, global: { points: 1200, seconds: 60 } });
    expect(parseRateLimitRule('5/900, off', 'X')).toEqual({ perAddress: { points: 5, seconds: 900 }, global: null });
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['30/60', '30,60', '30/0,1/1', 'lots/60,1/1', '-1/60,1/1']) expect(() => parseRateLimitRule(bad, 'RATE_LIMIT_SIGN_IN')).toThrow(/RATE_LIMIT_SIGN_IN/);
    // Whole values only: nothing before or after a limit, at most 9 digits of points and 7 of seconds.
    for (const bad of ['1/1,1/1,1/1', 'x1/60,1/1', '1/60x,1/1', '1/60ss,1/1', '1/60,1/1m', 'offf,1/1', '1234567890/60,1/1', '1/12345678,1/1', '/60,1/1', '1/,1/1']) {
      expect(() => parseRateLimitRule(bad, 'RATE_LIMIT_TOKEN')).toThrow(/^RATE_LIMIT_TOKEN: /);
    }
    expect(parseRateLimitRule('123456789/1234567s,off', 'X')).toEqual({ perAddress: { points: 123456789, seconds: 1234567 }, global: null });
  });

  it('reads only the RATE_LIMIT_* variables that are set', () => {
    expect(readRateLimitSettings({ RATE_LIMIT_TOKEN: '1/1,2/2', RATE_LIMIT_SIGN_IN: '', RATE_LIMIT_CHALLENGE: '   ' })).toEqual({
      token: { perAddress: { points: 1, seconds: 1 }, global: { points: 2, seconds: 2 } },
    });
  });
});

describe('the refusals', () => {
  const httpOf = (e: { extensions: Record<string, unknown> }) => e.extensions.http as { status: number; headers: Map<string, string> };

  it('RATE_LIMITED says the whole seconds to wait, rounded up, at least 1, in the message and in Retry-After', () => {
    for (const [ms, seconds, message] of [
      [0, '1', 'Too many requests: try again in 1 second.'],
      [1, '1', 'Too many requests: try again in 1 second.'],
      [1_000, '1', 'Too many requests: try again in 1 second.'],
      [1_001, '2', 'Too many requests: try again in 2 seconds.'],
      [59_500, '60', 'Too many requests: try again in 60 seconds.'],
    ] as const) {
      const e = rateLimited(ms);
      expect([ms, e.extensions.code, e.message, httpOf(e).status, httpOf(e).headers.get('retry-after'), retryAfterOf(e)]).toEqual([ms, ErrorCode.RATE_LIMITED, message, 429, seconds, seconds]);
    }
  });

  it('SERVICE_UNAVAILABLE with 503 and the given Retry-After; an error without one reads as 1 second', () => {
    const e = serviceBusy('Busy.', 7);
    expect([e.extensions.code, e.message, httpOf(e).status, retryAfterOf(e)]).toEqual([ErrorCode.SERVICE_UNAVAILABLE, 'Busy.', 503, '7']);
    expect(retryAfterOf(new PortalError(ErrorCode.RATE_LIMITED, 'x'))).toBe('1');
    expect(retryAfterOf(new PortalError(ErrorCode.RATE_LIMITED, 'x', { http: { status: 429 } }))).toBe('1');
  });
});

describe('the settings in readConfig', () => {
  // Identity's password-hashing bounds are its own settings: server/src/settings.test.ts reads them.
  it('reads TRUSTED_PROXIES and RATE_LIMIT_*, with defaults', () => {
    expect(readConfig({})).toMatchObject({ trustedProxies: ['127.0.0.0/8', '::1'], rateLimits: {} });
    const config = readConfig({ TRUSTED_PROXIES: '10.0.0.0/8', RATE_LIMIT_ANONYMOUS: 'off,off' });
    expect(config).toMatchObject({ trustedProxies: ['10.0.0.0/8'], rateLimits: { anonymous: { perAddress: null, global: null } } });
  });

  it('refuses to start on a setting it cannot read', () => {
    expect(() => readConfig({ TRUSTED_PROXIES: 'gateway.internal' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => readConfig({ RATE_LIMIT_SIGN_IN: '5 per minute' })).toThrow(/RATE_LIMIT_SIGN_IN/);
  });
});

describe('RateLimits in memory', () => {
  it('lets the allowance through, then answers RATE_LIMITED with 429 and Retry-After in seconds', async () => {
    const limits = new RateLimits({ settings: small(3, 100) });
    for (let i = 0; i < 3; i++) await limits.consume('signIn', '203.0.113.1');
    const refused = await refusal(limits.consume('signIn', '203.0.113.1'));
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(Number(refused!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused!.retryAfter)).toBeLessThanOrEqual(60);
    // Another client, and another limit, are not affected.
    expect(await refusal(limits.consume('signIn', '203.0.113.2'))).toBeNull();
    expect(await refusal(limits.consume('challenge', '203.0.113.1'))).toBeNull();
  });

  it('refuses everyone once the global allowance is spent, but a client refused per address spends none of it', async () => {
    const limits = new RateLimits({ settings: small(2, 5) });
    for (let i = 0; i < 10; i++) await refusal(limits.consume('signIn', '198.51.100.1'));
    // 198.51.100.1 spent 2 of the 5 global points; 3 more clients get one each.
    for (const client of ['198.51.100.2', '198.51.100.3', '198.51.100.4']) expect(await refusal(limits.consume('signIn', client))).toBeNull();
    expect(await refusal(limits.consume('signIn', '198.51.100.5'))).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
  });

  it('counts an IPv6 /64 as one client', async () => {
    const limits = new RateLimits({ settings: small(1, 100) });
    await limits.consume('signIn', '2001:db8:1:2::1');
    expect(await refusal(limits.consume('signIn', '2001:db8:1:2::99'))).toMatchObject({ code: 'RATE_LIMITED' });
    expect(await refusal(limits.consume('signIn', '2001:db8:1:3::1'))).toBeNull();
  });

  it('check refuses without counting; count counts without refusing', async () => {
    const limits = new RateLimits({ settings: { signInFailures: { perAddress: { points: 2, seconds: 900 }, global: null } } });
    await limits.check('signInFailures', '192.0.2.1');
    await limits.count('signInFailures', '192.0.2.1');
    await limits.count('signInFailures', '192.0.2.1');
    await limits.count('signInFailures', '192.0.2.1');
    const refused = await refusal(limits.check('signInFailures', '192.0.2.1'));
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(Number(refused!.retryAfter)).toBeGreaterThan(60);
    await limits.check('signInFailures', '192.0.2.2');
  });

  it('check refuses from the moment the allowance is spent, not one later', async () => {
    const limits = new RateLimits({ settings: { signInFailures: { perAddress: { points: 2, seconds: 900 }, global: { points: 100, seconds: 900 } } } });
    await limits.count('signInFailures', '192.0.2.9');
    await limits.check('signInFailures', '192.0.2.9');
    await limits.count('signInFailures', '192.0.2.9');
    expect(await refusal(limits.check('signInFailures', '192.0.2.9'))).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
  });

  it('a limit that is off counts and refuses nothing; the other still holds', async () => {
    const limits = new RateLimits({ settings: { signInFailures: { perAddress: null, global: { points: 2, seconds: 900 } }, token: { perAddress: { points: 1, seconds: 60 }, global: null } } });
    await limits.count('signInFailures', '192.0.2.20');
    await limits.check('signInFailures', '192.0.2.21');
    await limits.count('signInFailures', '192.0.2.22');
    // Two failures from two clients spent the global allowance: everyone is refused.
    expect(await refusal(limits.check('signInFailures', '192.0.2.23'))).toMatchObject({ code: 'RATE_LIMITED' });
    await limits.consume('token', '192.0.2.30');
    await limits.consume('token', '192.0.2.31');
    expect(await refusal(limits.consume('token', '192.0.2.30'))).toMatchObject({ code: 'RATE_LIMITED' });
    const none = new RateLimits({ settings: { token: { perAddress: null, global: null } } });
    for (let i = 0; i < 5; i++) await none.consume('token', '192.0.2.40');
    await none.close();
  });

  it('has a limit of every kind by default, none of them off', () => {
    for (const rule of Object.values(DEFAULT_RATE_LIMITS)) {
      expect(rule.perAddress!.points).toBeGreaterThan(0);
      expect(rule.global!.points).toBeGreaterThan(rule.perAddress!.points);
    }
  });
});

describe('RateLimits in Redis', () => {
  if (skipWithoutRedis('RateLimits in Redis (kit rateLimit.test.ts)')) return;
  const prefix = `t_rl_${randomBytes(4).toString('hex')}:`;
  const admin = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });

  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  });

  it('shares the counts between instances on one prefix', async () => {
    const a = new RateLimits({ settings: small(3, 100), redisUrl: REDIS_URL, keyPrefix: prefix });
    const b = new RateLimits({ settings: small(3, 100), redisUrl: REDIS_URL, keyPrefix: prefix });
    try {
      await a.consume('signIn', '203.0.113.7');
      await b.consume('signIn', '203.0.113.7');
      await a.consume('signIn', '203.0.113.7');
      expect(await refusal(b.consume('signIn', '203.0.113.7'))).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
      expect(await admin.get(`${prefix}rl:signIn:a:203.0.113.7`)).toBe('4');
      // The global count is a key of its own; the refused request spent none of it.
      expect(await admin.get(`${prefix}rl:signIn:g:all`)).toBe('3');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps its keys under portal: when no prefix is given', async () => {
    const address = `203.0.113.${100 + Math.floor(Math.random() * 100)}`;
    const key = `portal:rl:token:a:${address}`;
    const limits = new RateLimits({ settings: { token: { perAddress: { points: 5, seconds: 60 }, global: null } }, redisUrl: REDIS_URL });
    try {
      await limits.consume('token', address);
      expect(await admin.get(key)).toBe('1');
    } finally {
      await limits.close();
      await admin.del(key);
    }
  });
});

describe('RateLimits with REDIS_URL set but no Redis there', () => {
  it('falls back to counting in memory when Redis cannot be reached', async () => {
    const limits = new RateLimits({ settings: small(2, 100), redisUrl: 'redis://127.0.0.1:1', keyPrefix: `t_rl_${randomBytes(4).toString('hex')}:` });
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await limits.consume('signIn', '203.0.113.8');
      await limits.consume('signIn', '203.0.113.8');
      expect(await refusal(limits.consume('signIn', '203.0.113.8'))).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    } finally {
      await limits.close();
      quiet.mockRestore();
    }
  });
});
