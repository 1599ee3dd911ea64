import { parseBounded, parseDecision, parseNote, parseRefillDenial } from './inputs';

const fieldOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { extensions: { code: string; field?: string } }).extensions;
  }
  return 'accepted';
};

describe('parseNote', () => {
  it('trims, keeps up to 500 characters (code points), and makes blank null', () => {
    expect(parseNote('  hello  ')).toBe('hello');
    expect(parseNote('   ')).toBeNull();
    expect(parseNote(undefined)).toBeNull();
    expect(parseNote('😀'.repeat(500))).toHaveLength(1000);
    expect(fieldOf(() => parseNote('x'.repeat(501)))).toEqual({ code: 'BAD_USER_INPUT', field: 'note' });
    expect(fieldOf(() => parseNote('a\u0000b'))).toEqual({ code: 'BAD_USER_INPUT', field: 'note' });
  });
});

describe('parseBounded', () => {
  it('accepts whole numbers in range and falls back when left out', () => {
    expect(parseBounded(undefined, 'refills', 0, 11, 5)).toBe(5);
    expect(parseBounded(0, 'refills', 0, 11, 5)).toBe(0);
    expect(parseBounded(11, 'refills', 0, 11, 5)).toBe(11);
    expect(fieldOf(() => parseBounded(12, 'refills', 0, 11, 5))).toEqual({ code: 'BAD_USER_INPUT', field: 'refills' });
    expect(fieldOf(() => parseBounded(1.5, 'refills', 0, 11, 5))).toEqual({ code: 'BAD_USER_INPUT', field: 'refills' });
  });
});

describe('parseDecision', () => {
  it('needs a reason to deny, not to approve', () => {
    expect(fieldOf(() => parseDecision({ requestId: 'rq-1', approve: false }))).toEqual({ code: 'BAD_USER_INPUT', field: 'note' });
    expect(parseDecision({ requestId: 'rq-1', approve: false, note: ' Book a visit. ' })).toEqual({ requestId: 'rq-1', approve: false, note: 'Book a visit.', refills: null, daysSupply: null });
    expect(parseDecision({ requestId: 'rq-1', approve: true })).toEqual({ requestId: 'rq-1', approve: true, note: null, refills: null, daysSupply: null });
  });
  it('bounds refills to 0..11 and days of supply to 1..365', () => {
    expect(parseDecision({ requestId: 'rq-1', approve: true, refills: 0, daysSupply: 365 })).toMatchObject({ refills: 0, daysSupply: 365 });
    expect(fieldOf(() => parseDecision({ requestId: 'rq-1', approve: true, refills: 12 }))).toEqual({ code: 'BAD_USER_INPUT', field: 'refills' });
    expect(fieldOf(() => parseDecision({ requestId: 'rq-1', approve: true, daysSupply: 0 }))).toEqual({ code: 'BAD_USER_INPUT', field: 'daysSupply' });
    expect(fieldOf(() => parseDecision({ requestId: 'rq-1', approve: true, daysSupply: 366 }))).toEqual({ code: 'BAD_USER_INPUT', field: 'daysSupply' });
    expect(fieldOf(() => parseDecision({ requestId: ' ', approve: true }))).toEqual({ code: 'BAD_USER_INPUT', field: 'requestId' });
  });
});

describe('parseRefillDenial', () => {
  it('needs a reason of 1 to 500 characters, trimmed, and a well-formed id', () => {
    expect(parseRefillDenial({ requestId: 'rq-1', reason: '  Too early.  ' })).toEqual({ requestId: 'rq-1', reason: 'Too early.' });
    expect(fieldOf(() => parseRefillDenial({ requestId: 'rq-1', reason: '   ' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(fieldOf(() => parseRefillDenial({ requestId: 'rq-1', reason: 'x'.repeat(501) }))).toEqual({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(fieldOf(() => parseRefillDenial({ requestId: 'rq 1;', reason: 'No.' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'requestId' });
  });
});
