/**
 * Identity's rate limits, called directly: counted in Redis and shared by two
 * instances, the per-address failure limit that slows a password spray, the
 * client address a caller cannot choose unless it is a trusted proxy, and
 * /oauth/token's 429.
 */
import { randomBytes } from 'node:crypto';
import type { RateLimitSettings } from '@portal/kit';
import { skipWithoutRedis } from '@portal/kit/testing';
import { REDIS_URL, SIGN_IN_WITH_DS_LOGON, startIdentity, type TestIdentity } from './testing';

const limit = (points: number, seconds = 60) => ({ perAddress: { points, seconds }, global: { points: 1_000, seconds } });
const rateLimits: Partial<RateLimitSettings> = { signIn: limit(3), signInFailures: limit(2, 900), token: limit(2) };

async function signIn(identity: TestIdentity, username: string, password: string, from?: string) {
  const res = await fetch(identity.server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(from ? { 'x-forwarded-for': from } : {}) },
    body: JSON.stringify({ query: SIGN_IN_WITH_DS_LOGON, variables: { username, password } }),
  });
  const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.errors?.[0]?.extensions?.code ?? 'OK' };
}

describe('identity rate limits in Redis, shared by two instances', () => {
  if (skipWithoutRedis('identity rate limits in Redis (rateLimits.int.test.ts)')) return;
  const redisKeyPrefix = `portal-test-${randomBytes(4).toString('hex')}:`;
  let a: TestIdentity;
  let b: TestIdentity;

  beforeAll(async () => {
    a = await startIdentity({ config: { redisUrl: REDIS_URL, redisKeyPrefix, rateLimits } });
    b = await startIdentity({ config: { redisUrl: REDIS_URL, redisKeyPrefix, rateLimits }, databaseName: a.databaseName });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('counts sign-ins from one address across both instances, and refuses the next with 429, Retry-After and RATE_LIMITED', async () => {
    const from = '203.0.113.10';
    expect((await signIn(a, 'jane.doe', 'Demo-Password-1', from)).code).toBe('OK');
    expect((await signIn(b, 'jane.doe', 'Demo-Password-1', from)).code).toBe('OK');
    expect((await signIn(a, 'jane.doe', 'Demo-Password-1', from)).code).toBe('OK');
    const refused = await signIn(b, 'jane.doe', 'Demo-Password-1', from);
    expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    // Another address is not affected.
    expect(await signIn(b, 'jane.doe', 'Demo-Password-1', '203.0.113.11')).toMatchObject({ status: 200, code: 'OK' });
  });

  it('slows one password sprayed over many usernames: after 2 failures the address is refused before any password is checked', async () => {
    const from = '203.0.113.20';
    expect((await signIn(a, 'sprayed.user1', 'Winter-2026!', from)).code).toBe('INVALID_CREDENTIALS');
    expect((await signIn(b, 'sprayed.user2', 'Winter-2026!', from)).code).toBe('INVALID_CREDENTIALS');
    // Even the right password is refused now: the failures of this address are spent, on both instances, for 15 minutes.
    const refused = await signIn(a, 'jane.doe', 'Demo-Password-1', from);
    expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(refused.retryAfter)).toBeGreaterThan(60);
    expect((await signIn(b, 'jane.doe', 'Demo-Password-1', '203.0.113.21')).code).toBe('OK');
  });
});

describe('identity rate limits in memory', () => {
  let identity: TestIdentity;

  beforeAll(async () => {
    // No trusted proxy: this instance believes no X-Forwarded-For, not even from loopback.
    identity = await startIdentity({ config: { rateLimits, trustedProxies: [] } });
  });
  afterAll(() => identity?.stop());

  it('ignores X-Forwarded-For from a caller that is not a trusted proxy: a new header each time does not buy new attempts', async () => {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await signIn(identity, 'john.roe', 'Demo-Password-2', `198.51.100.${i + 1}`));
    expect(results.map((r) => r.code)).toEqual(['OK', 'OK', 'OK', 'RATE_LIMITED']);
    expect(results[3].status).toBe(429);
  });

  it('answers /oauth/token over its limit with 429, Retry-After and an OAuth-shaped JSON error', async () => {
    const ask = () =>
      fetch(`${identity.server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'wrong' }).toString(),
      });
    expect((await ask()).status).toBe(401);
    expect((await ask()).status).toBe(401);
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(await refused.json()).toMatchObject({ error: 'rate_limited' });
  });
});
