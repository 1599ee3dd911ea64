import { deliveryFailure, DeliveryError, outboxSettings, readOutboxLimits, refusal, retryDelay } from './outbox';

describe('retryDelay', () => {
  it('doubles from the base with every failure, capped, for ever', () => {
    const s = { retryBaseMs: 1_000, retryMaxMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(n, s))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(retryDelay(10_000, s)).toBe(60_000);
    expect(retryDelay(0, s)).toBe(1_000);
  });
});

describe('which failures are permanent', () => {
  it('goes by the GraphQL code when there is one', () => {
    for (const code of ['BAD_USER_INPUT', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'GRAPHQL_VALIDATION_FAILED']) {
      expect(refusal(200, code)).toMatchObject({ kind: `GraphQL ${code}`, permanent: true });
    }
    for (const code of ['UNAUTHENTICATED', 'INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'RATE_LIMITED']) {
      expect(refusal(200, code)).toMatchObject({ kind: `GraphQL ${code}`, permanent: false });
    }
    // A 400 that names a transient code is transient.
    expect(refusal(400, 'UNAUTHENTICATED').permanent).toBe(false);
  });
  it('else by the HTTP status: a 4xx but 401, 408, 425 and 429', () => {
    expect([400, 403, 404, 405, 413, 422].map((s) => refusal(s, undefined).permanent)).toEqual([true, true, true, true, true, true]);
    expect([401, 408, 425, 429, 500, 502, 503, 504, 200].map((s) => refusal(s, undefined).permanent)).toEqual(Array(9).fill(false));
    expect(refusal(502, undefined).kind).toBe('HTTP 502');
  });
  it('never keeps a code that could carry text, and counts anything unexpected as transient', () => {
    expect(refusal(400, 'patient Jane Doe').kind).toBe('HTTP 400');
    expect(deliveryFailure(new DeliveryError('Token HTTP 400'))).toEqual({ kind: 'Token HTTP 400', permanent: false });
    expect(deliveryFailure(Object.assign(new TypeError('fetch failed')))).toEqual({ kind: 'NetworkError', permanent: false });
    expect(deliveryFailure(new DOMException('timed out', 'TimeoutError'))).toEqual({ kind: 'Timeout', permanent: false });
    expect(deliveryFailure(new Error('patient Jane Doe'))).toEqual({ kind: 'Error', permanent: false });
  });
});

describe('settings', () => {
  it('reads OUTBOX_MAX_REFUSALS and OUTBOX_RETENTION_HOURS as whole numbers in range', () => {
    expect(readOutboxLimits({})).toEqual({ maxRefusals: undefined, retentionHours: undefined });
    expect(readOutboxLimits({ OUTBOX_MAX_REFUSALS: '5', OUTBOX_RETENTION_HOURS: '720' })).toEqual({ maxRefusals: 5, retentionHours: 720 });
    for (const bad of ['0', '-1', '2.5', 'ten', '1001']) expect(() => readOutboxLimits({ OUTBOX_MAX_REFUSALS: bad })).toThrow(/OUTBOX_MAX_REFUSALS must be a whole number/);
    for (const bad of ['0', '1e3', '87601']) expect(() => readOutboxLimits({ OUTBOX_RETENTION_HOURS: bad })).toThrow(/OUTBOX_RETENTION_HOURS must be a whole number/);
  });
  it('fills what is left out with the defaults', () => {
    expect(outboxSettings({ pollMs: 100, maxRefusals: undefined })).toEqual({
      pollMs: 100, retryBaseMs: 1_000, retryMaxMs: 60_000, leaseMs: 30_000, batchSize: 20, requestTimeoutMs: 10_000, maxRefusals: 10, retentionHours: 168, purgeEveryMs: 3_600_000,
    });
  });
});
