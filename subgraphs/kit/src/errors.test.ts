import { GraphQLError } from 'graphql';
import { authenticationFailure, defineErrorCodes, ErrorCode, errorCodeRegistries, isKnownCode, maskError, passesCodes, PortalError, scrub } from './errors';

/** A subgraph's own codes, as one declares them in its src/errors.ts. */
const bookingErrors = defineErrorCodes('booking-test', {
  SLOT_UNAVAILABLE: 'Someone else booked the slot first: choose another.',
  ACCOUNT_LOCKED: 'Wait `extensions.retryAfter` seconds.',
});
const passes = passesCodes([bookingErrors]);

describe('maskError', () => {
  beforeAll(() => {
    process.env.PORTAL_LOG_ERRORS = '0';
  });

  it('keeps a registered code and the message, and nothing else', () => {
    const err = new PortalError(bookingErrors.codes.SLOT_UNAVAILABLE, 'That slot was just taken.');
    const out = maskError({ message: err.message, path: ['bookAppointment'], extensions: { code: 'SLOT_UNAVAILABLE', stacktrace: ['at x (/srv/a.ts:1)'], serviceName: 'scheduling' } }, err, passes);
    expect(out).toEqual({ message: 'That slot was just taken.', path: ['bookAppointment'], extensions: { code: 'SLOT_UNAVAILABLE' } });
  });

  it('keeps retryAfter, a whole number of seconds to wait, and drops anything else in its place', () => {
    const keep = maskError({ message: 'Wait.', extensions: { code: 'ACCOUNT_LOCKED', retryAfter: 10 } }, undefined, passes);
    expect(keep.extensions).toEqual({ code: 'ACCOUNT_LOCKED', retryAfter: 10 });
    for (const retryAfter of ['10', 1.5, -1, { at: 'x' }]) {
      expect(maskError({ message: 'Wait.', extensions: { code: 'RATE_LIMITED', retryAfter } }).extensions).toEqual({ code: 'RATE_LIMITED' });
    }
  });

  it('replaces an unknown error (a driver error with SQL in it) by a generic internal error', () => {
    const driver = new Error('duplicate key value violates unique constraint "slot_pkey" SELECT * FROM slot WHERE patient_id = 42');
    const out = maskError({ message: driver.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, new GraphQLError(driver.message, { originalError: driver }));
    expect(out.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(out.message).not.toMatch(/SELECT|constraint|slot/);
  });

  it('turns a database that is down or too slow into SERVICE_UNAVAILABLE, with nothing of the driver’s message', () => {
    const lost = Object.assign(new Error('Connection terminated unexpectedly'), { query: 'SELECT * FROM lab_result WHERE patient_id = $1' });
    const timedOut = Object.assign(new Error('canceling statement due to statement timeout'), { driverError: { code: '57014' } });
    for (const driver of [lost, timedOut]) {
      const out = maskError({ message: driver.message, path: ['labResults'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, new GraphQLError(driver.message, { originalError: driver }));
      expect(out).toEqual({ message: 'This part of the portal is unavailable right now. Try again shortly.', path: ['labResults'], extensions: { code: 'SERVICE_UNAVAILABLE' } });
    }
  });

  it('masks a code that is not in the registry', () => {
    const out = maskError({ message: 'request to http://10.0.0.5:4003/graphql failed', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR' } });
    expect(out.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(out.message).not.toContain('http://');
  });

  it('masks a well-formed code the given registries do not declare, with its message', () => {
    const out = maskError({ message: 'Slot 42 of Dr. Who is taken.', extensions: { code: 'SLOT_UNAVAILABLE' } }, undefined, passesCodes([]));
    expect(out).toEqual({ message: expect.not.stringContaining('Slot 42'), extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(passesCodes([['REFILL_NOT_ALLOWED']])('REFILL_NOT_ALLOWED')).toBe(true);
    expect(passesCodes([])('RATE_LIMITED')).toBe(true);
  });
});

describe('defineErrorCodes', () => {
  it('registers a subgraph’s codes with the kit, once', () => {
    expect(isKnownCode('SLOT_UNAVAILABLE')).toBe(true);
    expect(errorCodeRegistries().map((r) => r.owner)).toEqual(['booking-test']);
    expect(bookingErrors.codes).toEqual({ SLOT_UNAVAILABLE: 'SLOT_UNAVAILABLE', ACCOUNT_LOCKED: 'ACCOUNT_LOCKED' });
    expect(defineErrorCodes('booking-test', { ...bookingErrors.meanings })).toBe(bookingErrors);
  });

  it('refuses a malformed code, a generic one, another subgraph’s, and one without a one-line meaning', () => {
    expect(() => defineErrorCodes('a', { 'slot-taken': 'x' })).toThrow(/not of the form/);
    expect(() => defineErrorCodes('a', { NOT_FOUND: 'x' })).toThrow(/generic code/);
    expect(() => defineErrorCodes('a', { SLOT_UNAVAILABLE: 'x' })).toThrow(/booking-test's/);
    expect(() => defineErrorCodes('a', { NEW_CODE: 'two\nlines' })).toThrow(/one-line meaning/);
    expect(() => defineErrorCodes('booking-test', { OTHER_CODE: 'x' })).toThrow(/declared twice/);
    expect(isKnownCode('NEW_CODE')).toBe(false);
  });
});

describe('authenticationFailure', () => {
  it('keeps a deliberate refusal: 401 for UNAUTHENTICATED, 503 for SERVICE_UNAVAILABLE', () => {
    const ended = authenticationFailure(new PortalError(ErrorCode.UNAUTHENTICATED, 'Your session has ended; sign in again.'));
    expect([ended.message, ended.extensions]).toEqual(['Your session has ended; sign in again.', { code: 'UNAUTHENTICATED', http: { status: 401 } }]);
    const down = authenticationFailure(new PortalError(ErrorCode.SERVICE_UNAVAILABLE, 'Later.'));
    expect(down.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', http: { status: 503 } });
  });

  it('answers 503, never "sign in again", when the check itself failed (a database or Redis error)', () => {
    for (const e of [new Error('Connection terminated unexpectedly'), new TypeError('x'), new PortalError(ErrorCode.INTERNAL_SERVER_ERROR, 'boom')]) {
      const out = authenticationFailure(e);
      expect([out.message, out.extensions]).toEqual(['Your sign-in could not be checked right now. Try again shortly.', { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } }]);
    }
  });
});

describe('scrub', () => {
  it('drops quoted values and long numbers from a message before it is logged', () => {
    expect(scrub(`invalid input "Jane" for dod_id '1000000001' 1000000001`)).toBe(`invalid input "?" for dod_id '?' #`);
  });
});
