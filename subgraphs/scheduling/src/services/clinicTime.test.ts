import { addDays, isWeekday, localDate, zonedInstant } from './clinicTime';

describe('zonedInstant', () => {
  it('keeps 09:00 local across the spring change in New York', () => {
    expect(zonedInstant('2026-03-06', 9, 0, 'America/New_York').toISOString()).toBe('2026-03-06T14:00:00.000Z');
    expect(zonedInstant('2026-03-09', 9, 0, 'America/New_York').toISOString()).toBe('2026-03-09T13:00:00.000Z');
  });

  it('keeps 09:30 local across the autumn change in Chicago', () => {
    expect(zonedInstant('2026-10-30', 9, 30, 'America/Chicago').toISOString()).toBe('2026-10-30T14:30:00.000Z');
    expect(zonedInstant('2026-11-02', 9, 30, 'America/Chicago').toISOString()).toBe('2026-11-02T15:30:00.000Z');
  });

  it('works east of Greenwich and in UTC', () => {
    expect(zonedInstant('2026-07-01', 9, 0, 'Europe/Berlin').toISOString()).toBe('2026-07-01T07:00:00.000Z');
    expect(zonedInstant('2026-07-01', 9, 0, 'UTC').toISOString()).toBe('2026-07-01T09:00:00.000Z');
  });

  it('resolves a wall time skipped by spring-forward to an hour later and a repeated one to its first occurrence', () => {
    expect(zonedInstant('2026-03-08', 2, 30, 'America/New_York').toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(zonedInstant('2026-11-01', 1, 30, 'America/New_York').toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });
});

describe('calendar helpers', () => {
  it('gives the local date, which can differ from the UTC date', () => {
    expect(localDate(new Date('2026-01-15T03:00:00Z'), 'America/New_York')).toBe('2026-01-14');
    expect(localDate(new Date('2026-01-15T03:00:00Z'), 'UTC')).toBe('2026-01-15');
  });

  it('adds days across month ends and tells weekdays', () => {
    expect(addDays('2026-02-27', 3)).toBe('2026-03-02');
    expect(addDays('2026-03-02', -3)).toBe('2026-02-27');
    expect(isWeekday('2026-03-06')).toBe(true); // Friday
    expect(isWeekday('2026-03-07')).toBe(false); // Saturday
  });
});

describe('zonedInstant east of Greenwich', () => {
  it('resolves the repeated hour in Berlin to its first occurrence and the skipped one to an hour later', () => {
    expect(zonedInstant('2026-10-25', 2, 30, 'Europe/Berlin').toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(zonedInstant('2026-03-29', 2, 30, 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });
});
