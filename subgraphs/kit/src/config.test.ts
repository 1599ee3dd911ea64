import { DEFAULT_DATABASE_POOL, DEFAULT_IDENTITY_TIMEOUT_MS, DEFAULT_SHUTDOWN_GRACE_MS, readConfig } from './config';

describe('timeouts, shutdown grace and pool settings', () => {
  it('has defaults that fit the gateway’s per-subgraph budget of a few seconds', () => {
    const config = readConfig({});
    expect(config.identityTimeoutMs).toBe(DEFAULT_IDENTITY_TIMEOUT_MS);
    expect(DEFAULT_IDENTITY_TIMEOUT_MS).toBe(2_000);
    expect(config.shutdownGraceMs).toBe(DEFAULT_SHUTDOWN_GRACE_MS);
    expect(DEFAULT_SHUTDOWN_GRACE_MS).toBe(10_000);
    expect(config.databasePool).toEqual(DEFAULT_DATABASE_POOL);
  });

  it('reads IDENTITY_TIMEOUT_MS, SHUTDOWN_GRACE_MS and the DATABASE_POOL settings', () => {
    const config = readConfig({
      IDENTITY_TIMEOUT_MS: '1500',
      SHUTDOWN_GRACE_MS: '0',
      DATABASE_POOL_MAX: '25',
      DATABASE_ACQUIRE_TIMEOUT_MS: '750',
      DATABASE_STATEMENT_TIMEOUT_MS: '30000',
    });
    expect([config.identityTimeoutMs, config.shutdownGraceMs, config.databasePool]).toEqual([1_500, 0, { max: 25, acquireTimeoutMs: 750, statementTimeoutMs: 30_000 }]);
  });

  it.each([
    ['IDENTITY_TIMEOUT_MS', '2s'],
    ['IDENTITY_TIMEOUT_MS', '0'],
    ['IDENTITY_TIMEOUT_MS', '60001'],
    ['SHUTDOWN_GRACE_MS', '-1'],
    ['SHUTDOWN_GRACE_MS', '1.5'],
    ['DATABASE_POOL_MAX', '0'],
    ['DATABASE_POOL_MAX', 'ten'],
    ['DATABASE_ACQUIRE_TIMEOUT_MS', '50'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '10 s'],
  ])('refuses to start with %s=%s rather than run without the bound', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(name);
  });
});

describe('verified-token cache settings', () => {
  it('defaults to 10000 tokens for 60 s, reads TOKEN_CACHE_SIZE and TOKEN_CACHE_TTL_MS, and 0 turns it off', () => {
    expect(readConfig({}).tokenCache).toEqual({ size: 10_000, ttlMs: 60_000 });
    expect(readConfig({ TOKEN_CACHE_SIZE: '500', TOKEN_CACHE_TTL_MS: '5000' }).tokenCache).toEqual({ size: 500, ttlMs: 5_000 });
    expect(readConfig({ TOKEN_CACHE_SIZE: '0', TOKEN_CACHE_TTL_MS: '0' }).tokenCache).toEqual({ size: 0, ttlMs: 0 });
  });

  it('refuses to start on a value out of range rather than run without the bound', () => {
    for (const v of ['-1', '1.5', 'lots', '1000001']) expect(() => readConfig({ TOKEN_CACHE_SIZE: v })).toThrow(/TOKEN_CACHE_SIZE must be a whole number from 0/);
    // A token is never remembered longer than 15 minutes, whatever its exp.
    for (const v of ['900001', '-5', 'x']) expect(() => readConfig({ TOKEN_CACHE_TTL_MS: v })).toThrow(/TOKEN_CACHE_TTL_MS/);
  });
});
