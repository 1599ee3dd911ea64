/**
 * Rate limits through the gateway, with limits lowered for the test: the
 * client's address travels from the gateway to identity, a subgraph's 429
 * reaches the client as 429 with Retry-After and RATE_LIMITED, and the
 * gateway's own limits (anonymous requests, the record download) answer the
 * same way. The test talks from 127.0.0.1, a trusted proxy by default, so
 * its X-Forwarded-For stands for different clients.
 */
import type { RateLimitSettings } from '@portal/kit';
import { startTestStack, type TestStack } from './harness';

const limit = (points: number, seconds = 60) => ({ perAddress: { points, seconds }, global: { points: 10_000, seconds } });
const rateLimits: Partial<RateLimitSettings> = { signIn: limit(3), anonymous: limit(12), recordDownload: limit(1) };

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ rateLimits, passwordHashing: { concurrency: 1, queue: 0 } });
});
afterAll(() => stack?.stop());

async function post(query: string, variables: Record<string, unknown>, from: string, token?: string) {
  const res = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.errors?.[0]?.extensions?.code ?? 'OK', body };
}

const SIGN_IN = 'mutation($u: String!, $p: String!) { signInWithDsLogon(input: { username: $u, password: $p }) { accessToken } }';
const signIn = (from: string, u = 'jane.doe', p = 'Demo-Password-1') => post(SIGN_IN, { u, p }, from);

describe('rate limits through the gateway', () => {
  it('refuses the sign-in over the limit with 429, Retry-After and RATE_LIMITED; another address is not affected', async () => {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await signIn('203.0.113.30'));
    expect(results.map((r) => r.code)).toEqual(['OK', 'OK', 'OK', 'RATE_LIMITED']);
    const refused = results[3];
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(refused.body.errors![0].message).toMatch(/Too many requests/);
    expect(refused.body.data).toBeNull();

    const other = await signIn('203.0.113.31');
    expect(other).toMatchObject({ status: 200, code: 'OK' });
    expect(other.body.data.signInWithDsLogon.accessToken).toEqual(expect.any(String));
  });

  it('refuses anonymous requests over the gateway limit before any subgraph runs them; signed-in requests are not counted', async () => {
    const from = '203.0.113.40';
    const token = (await signIn('203.0.113.41')).body.data.signInWithDsLogon.accessToken as string;
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) codes.push((await post('{ supportContacts { name } }', {}, from)).code);
    expect(codes.every((c) => c === 'OK')).toBe(true);
    const refused = await post('{ supportContacts { name } }', {}, from);
    expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    // The same address with a token is a signed-in person, not an anonymous flood.
    expect(await post('{ me { account { username } } }', {}, from, token)).toMatchObject({ status: 200, code: 'OK' });
  });

  it('limits the record download per address with 429, Retry-After and a FHIR OperationOutcome', async () => {
    const token = (await signIn('203.0.113.50')).body.data.signInWithDsLogon.accessToken as string;
    const download = () => fetch(`${stack.gatewayUrl}/fhir/Patient/$everything`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.50' } });
    expect((await download()).status).toBe(200);
    const refused = await download();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
  });

  it('refuses at once, with 503 and Retry-After, the sign-ins beyond the password hashes identity runs at once (one here, none waiting)', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => signIn(`198.51.100.${60 + i}`, `nobody.${i}`, 'Wrong-Password-1')));
    const busy = results.filter((r) => r.code === 'SERVICE_UNAVAILABLE');
    expect(busy.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.code === 'INVALID_CREDENTIALS').length).toBeGreaterThan(0);
    expect(busy.length + results.filter((r) => r.code === 'INVALID_CREDENTIALS').length).toBe(8);
    for (const r of busy) {
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe('1');
    }
  });
});
