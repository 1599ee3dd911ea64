import { DateScalar, DateTimeScalar } from './scalars';

describe('Date', () => {
  it('accepts a real calendar date', () => expect(DateScalar.parseValue('2024-02-29')).toBe('2024-02-29'));
  it.each(['2023-02-29', '2024-13-01', '24-01-01', '2024-01-01T00:00:00Z', 20240101])('refuses %p', (v) => {
    expect(() => DateScalar.parseValue(v)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }));
  });
});

describe('DateTime', () => {
  it('needs a zone offset', () => {
    expect((DateTimeScalar.parseValue('2026-01-31T09:30:00-05:00') as Date).toISOString()).toBe('2026-01-31T14:30:00.000Z');
    expect(() => DateTimeScalar.parseValue('2026-01-31T09:30:00')).toThrow(/zone offset/);
  });
  it('serialises instants in UTC', () => expect(DateTimeScalar.serialize(new Date('2026-01-31T14:30:00Z'))).toBe('2026-01-31T14:30:00.000Z'));
});
