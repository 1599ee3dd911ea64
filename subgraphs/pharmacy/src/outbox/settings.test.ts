import { readNotifierOptions, readNotifierTiming, retryDelay } from './settings';

describe('retryDelay', () => {
  it('doubles from the base with every failure, capped, for ever', () => {
    const s = { retryBaseMs: 1_000, retryMaxMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(n, s))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(retryDelay(10_000, s)).toBe(60_000);
    expect(retryDelay(0, s)).toBe(1_000);
  });
});

describe('reading the environment', () => {
  it('takes all three of MESSAGING_URL and the credentials, or none', () => {
    expect(readNotifierOptions({})).toBeUndefined();
    expect(readNotifierOptions({ MESSAGING_URL: 'http://m:4003', PHARMACY_CLIENT_ID: 'pharmacy', PHARMACY_CLIENT_SECRET: 's', PHARMACY_OUTBOX_POLL_MS: '500' })).toEqual({
      messagingUrl: 'http://m:4003',
      clientId: 'pharmacy',
      clientSecret: 's',
      pollMs: 500,
      retryBaseMs: undefined,
      retryMaxMs: undefined,
    });
    expect(() => readNotifierOptions({ MESSAGING_URL: 'http://m:4003' })).toThrow(/together/);
    expect(() => readNotifierOptions({ MESSAGING_URL: 'm:4003', PHARMACY_CLIENT_ID: 'p', PHARMACY_CLIENT_SECRET: 's' })).toThrow(/http/);
  });
  it('refuses timings that are not positive whole milliseconds', () => {
    expect(() => readNotifierTiming({ PHARMACY_OUTBOX_RETRY_MAX_MS: '0' })).toThrow(/PHARMACY_OUTBOX_RETRY_MAX_MS/);
    expect(readNotifierTiming({ PHARMACY_OUTBOX_RETRY_BASE_MS: '250' })).toEqual({ pollMs: undefined, retryBaseMs: 250, retryMaxMs: undefined });
  });
});
