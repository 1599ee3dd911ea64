import { isCancellable } from './rules';

const now = new Date('2026-05-01T12:00:00Z');

describe('isCancellable', () => {
  it('allows a booked appointment that has not started', () => {
    expect(isCancellable('BOOKED', new Date('2026-05-01T12:00:01Z'), now)).toBe(true);
  });
  it('refuses one that has started or is in any other status', () => {
    expect(isCancellable('BOOKED', now, now)).toBe(false);
    for (const status of ['CANCELLED', 'CHECKED_IN', 'FULFILLED', 'NO_SHOW'] as const) {
      expect(isCancellable(status, new Date('2026-06-01T00:00:00Z'), now)).toBe(false);
    }
  });
});
