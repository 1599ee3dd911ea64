import {
  assertBookable,
  isCancellable,
  notCancellableBecause,
  parseRange,
  parseReason,
  statusChangeRefusedBecause,
} from './rules';

const now = new Date('2026-05-01T12:00:00Z');
const at = (offsetMinutes: number) => new Date(now.getTime() + offsetMinutes * 60_000);
const DAY = 24 * 60;

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e: any) {
    return [e.extensions?.code, e.extensions?.field];
  }
  return null;
};

describe('isCancellable', () => {
  it('allows a booked appointment that has not started', () => {
    expect(isCancellable('BOOKED', new Date('2026-05-01T12:00:01Z'), now)).toBe(true);
  });
  it('refuses one that has started or is in any other status, saying why', () => {
    expect(isCancellable('BOOKED', now, now)).toBe(false);
    expect(notCancellableBecause('BOOKED', now, now)).toMatch(/already started/);
    const reasons = (['CANCELLED', 'CHECKED_IN', 'FULFILLED', 'NO_SHOW'] as const).map((s) => notCancellableBecause(s, at(DAY), now));
    expect(reasons).toEqual(['it was already cancelled', expect.stringMatching(/checked in/), 'it has already taken place', expect.stringMatching(/no-show/)]);
  });
});

describe('assertBookable', () => {
  it('allows a future slot up to 180 days ahead', () => {
    expect(codeOf(() => assertBookable(at(1), now))).toBeNull();
    expect(codeOf(() => assertBookable(at(180 * DAY), now))).toBeNull();
  });
  it('refuses a slot that has started or lies beyond the booking window', () => {
    expect(codeOf(() => assertBookable(now, now))).toEqual(['BAD_USER_INPUT', 'slotId']);
    expect(codeOf(() => assertBookable(at(180 * DAY + 1), now))).toEqual(['BAD_USER_INPUT', 'slotId']);
  });
});

describe('input parsing', () => {
  it('bounds ranges to 31 days, the right way round', () => {
    expect(parseRange(now, at(31 * DAY))).toEqual({ from: now, to: at(31 * DAY) });
    expect(codeOf(() => parseRange(now, now))).toEqual(['BAD_USER_INPUT', 'to']);
    expect(codeOf(() => parseRange(at(10), now))).toEqual(['BAD_USER_INPUT', 'to']);
    expect(codeOf(() => parseRange(now, at(31 * DAY + 1)))).toEqual(['BAD_USER_INPUT', 'to']);
  });
  it('trims reasons, treats blank as none and counts characters, not UTF-16 units', () => {
    expect(parseReason('  Knee pain ')).toBe('Knee pain');
    expect(parseReason('   ')).toBeNull();
    expect(parseReason(undefined)).toBeNull();
    expect(parseReason('😀'.repeat(500))).toHaveLength(1000);
    expect(codeOf(() => parseReason('x'.repeat(501)))).toEqual(['BAD_USER_INPUT', 'reason']);
  });
});

describe('statusChangeRefusedBecause', () => {
  const start = at(30);
  const end = at(60);
  const change = (current: any, target: any, when: Date) => statusChangeRefusedBecause(current, target, start, end, when);

  it('checks in a booked appointment from an hour before its start until its end', () => {
    expect(change('BOOKED', 'CHECKED_IN', at(-31))).toMatch(/opens 60 minutes/);
    expect(change('BOOKED', 'CHECKED_IN', at(-30))).toBeNull();
    expect(change('BOOKED', 'CHECKED_IN', at(59))).toBeNull();
    expect(change('BOOKED', 'CHECKED_IN', at(60))).toMatch(/ended/);
  });
  it('marks fulfilled from booked or checked in, and no-show from booked, once started', () => {
    expect(change('CHECKED_IN', 'FULFILLED', at(29))).toMatch(/not started/);
    expect(change('CHECKED_IN', 'FULFILLED', at(30))).toBeNull();
    expect(change('BOOKED', 'FULFILLED', at(45))).toBeNull();
    expect(change('BOOKED', 'NO_SHOW', at(30))).toBeNull();
    expect(change('BOOKED', 'NO_SHOW', at(0))).toMatch(/not started/);
    expect(change('CHECKED_IN', 'NO_SHOW', at(45))).toMatch(/checked in/);
  });
  it('keeps cancelled, fulfilled and no-show appointments final', () => {
    const why = { CANCELLED: 'it was cancelled', FULFILLED: 'it is already fulfilled', NO_SHOW: 'it is already marked as a no-show' };
    for (const current of ['CANCELLED', 'FULFILLED', 'NO_SHOW'] as const) {
      for (const target of ['CHECKED_IN', 'FULFILLED', 'NO_SHOW'] as const) {
        if (current !== target) expect(change(current, target, at(45))).toBe(why[current]);
      }
    }
  });
});
