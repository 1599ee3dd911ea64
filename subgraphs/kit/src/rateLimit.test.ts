import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { DEFAULT_RATE_LIMITS, parseRateLimitRule, RateLimits, readRateLimitSettings, type RateLimitSettings } from './rateLimit';
import { PortalError } from './errors';
import { DEFAULT_PASSWORD_HASH_CONCURRENCY, readConfig } from './config';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

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
  });

  it('reads only the RATE_LIMIT_* variables that are set', () => {
    expect(readRateLimitSettings({ RATE_LIMIT_TOKEN: '1/1,2/2', RATE_LIMIT_SIGN_IN: '' })).toEqual({
      token: { perAddress: { points: 1, seconds: 1 }, global: { points: 2, seconds: 2 } },
    });
  });
});

describe('the settings in readConfig', () => {
  it('reads TRUSTED_PROXIES, RATE_LIMIT_* and the password-hashing bounds, with defaults', () => {
    expect(readConfig({})).toMatchObject({ trustedProxies: ['127.0.0.0/8', '::1'], rateLimits: {}, passwordHashing: { concurrency: DEFAULT_PASSWORD_HASH_CONCURRENCY, queue: 32 } });
    const config = readConfig({ TRUSTED_PROXIES: '10.0.0.0/8', RATE_LIMIT_ANONYMOUS: 'off,off', PASSWORD_HASH_CONCURRENCY: '4', PASSWORD_HASH_QUEUE: '0' });
    expect(config).toMatchObject({ trustedProxies: ['10.0.0.0/8'], rateLimits: { anonymous: { perAddress: null, global: null } }, passwordHashing: { concurrency: 4, queue: 0 } });
  });

  it('refuses to start on a setting it cannot read', () => {
    expect(() => readConfig({ TRUSTED_PROXIES: 'gateway.internal' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => readConfig({ RATE_LIMIT_SIGN_IN: '5 per minute' })).toThrow(/RATE_LIMIT_SIGN_IN/);
    expect(() => readConfig({ PASSWORD_HASH_CONCURRENCY: '0' })).toThrow(/PASSWORD_HASH_CONCURRENCY/);
    expect(() => readConfig({ PASSWORD_HASH_QUEUE: 'lots' })).toThrow(/PASSWORD_HASH_QUEUE/);
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

  it('has a limit of every kind by default, none of them off', () => {
    for (const rule of Object.values(DEFAULT_RATE_LIMITS)) {
      expect(rule.perAddress!.points).toBeGreaterThan(0);
      expect(rule.global!.points).toBeGreaterThan(rule.perAddress!.points);
    }
  });
});

describe('RateLimits in Redis', () => {
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
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('falls back to counting in memory when Redis cannot be reached', async () => {
    const limits = new RateLimits({ settings: small(2, 100), redisUrl: 'redis://127.0.0.1:1', keyPrefix: prefix });
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
