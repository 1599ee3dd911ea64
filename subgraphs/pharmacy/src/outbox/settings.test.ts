import { notifierSettings, readNotifierOptions, readNotifierTiming } from './settings';

describe('notifierSettings', () => {
  it("takes the kit's outbox defaults and the subgraph's identity URL unless told otherwise", () => {
    const s = notifierSettings({ messagingUrl: 'http://m:4003', clientId: 'pharmacy', clientSecret: 's', pollMs: 500, retentionHours: undefined }, 'http://i:4001');
    expect(s).toMatchObject({ pollMs: 500, retryBaseMs: 1_000, maxRefusals: 10, retentionHours: 168, identityUrl: 'http://i:4001', messagingUrl: 'http://m:4003' });
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
  it('reads the limits shared by every outbox, validated', () => {
    expect(readNotifierTiming({ OUTBOX_MAX_REFUSALS: '3', OUTBOX_RETENTION_HOURS: '24' })).toMatchObject({ maxRefusals: 3, retentionHours: 24 });
    expect(() => readNotifierTiming({ OUTBOX_MAX_REFUSALS: '0' })).toThrow(/OUTBOX_MAX_REFUSALS/);
  });
});
