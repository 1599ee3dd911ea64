import { interpret } from './interpretation';

const result = (value: string, refLow: number | null, refHigh: number | null, interpretation: string | null = null) => ({
  value,
  refLow,
  refHigh,
  interpretation,
});

describe('interpret', () => {
  it('compares a number with both ends of the range, ends included as normal', () => {
    expect(interpret(result('6.9', 4.0, 5.6))).toBe('HIGH');
    expect(interpret(result('3.9', 4.0, 5.6))).toBe('LOW');
    expect(interpret(result('5.0', 4.0, 5.6))).toBe('NORMAL');
    expect(interpret(result('4.0', 4.0, 5.6))).toBe('NORMAL');
    expect(interpret(result('5.6', 4.0, 5.6))).toBe('NORMAL');
  });

  it('works with a range open on one side', () => {
    expect(interpret(result('142', null, 99))).toBe('HIGH');
    expect(interpret(result('80', null, 99))).toBe('NORMAL');
    expect(interpret(result('35', 40, null))).toBe('LOW');
    expect(interpret(result('0', 0, 99))).toBe('NORMAL');
  });

  it('prefers what the source reported, including HL7 flags', () => {
    expect(interpret(result('6.9', 4.0, 5.6, 'NORMAL'))).toBe('NORMAL');
    expect(interpret(result('600', 70, 99, 'HH'))).toBe('CRITICAL_HIGH');
    expect(interpret(result('Positive', null, null, 'a'))).toBe('ABNORMAL');
  });

  it('falls back to the range when the stored flag is unknown', () => {
    expect(interpret(result('6.9', 4.0, 5.6, 'W'))).toBe('HIGH');
  });

  it('is null for words, qualified numbers or a missing range', () => {
    expect(interpret(result('Negative', 0, 1))).toBeNull();
    expect(interpret(result('<0.5', 0, 1))).toBeNull();
    expect(interpret(result('', 0, 1))).toBeNull();
    expect(interpret(result('6.9', null, null))).toBeNull();
  });

  it('accepts signs, leading dots and spaces around a number', () => {
    expect(interpret(result(' .5 ', 1, 2))).toBe('LOW');
    expect(interpret(result('-3', -2, 2))).toBe('LOW');
    expect(interpret(result('+2.5', -2, 2))).toBe('HIGH');
  });
});
