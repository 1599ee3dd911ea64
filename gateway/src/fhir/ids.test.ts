import { fhirId, isFhirId, ref } from './ids';
import { parseNumber, quantity } from './systems';

describe('fhirId', () => {
  it('keeps the portal ids FHIR accepts', () => {
    for (const id of ['pt-1000000001', 'lr-jane-a1c-3', '0b6f3c1e-8a0e-4c3e-9f43-6a2b1d9f1e2a', 'a.b-C']) expect(fhirId(id)).toBe(id);
  });

  it('turns any other id into a stable, valid one', () => {
    for (const id of ['has_underscore', 'with space', 'x'.repeat(65), 'ünïcode', '']) {
      const mapped = fhirId(id);
      expect(isFhirId(mapped)).toBe(true);
      expect(mapped).toHaveLength(64);
      expect(fhirId(id)).toBe(mapped);
    }
    expect(fhirId('a_b')).not.toBe(fhirId('a b'));
  });

  it('writes references as Type/id with the same mapping', () => {
    expect(ref('Patient', 'pt-1')).toEqual({ reference: 'Patient/pt-1' });
    expect(ref('Practitioner', 'pr_1', 'Alex Kim')).toEqual({ reference: `Practitioner/${fhirId('pr_1')}`, display: 'Alex Kim' });
  });
});

describe('quantities', () => {
  it('codes known units in UCUM and leaves others as text', () => {
    expect(quantity(128, 'mmHg')).toEqual({ value: 128, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
    expect(quantity(6.9, '%')).toEqual({ value: 6.9, unit: '%', system: 'http://unitsofmeasure.org', code: '%' });
    expect(quantity(3, 'furlongs')).toEqual({ value: 3, unit: 'furlongs' });
    expect(quantity(1, null)).toEqual({ value: 1 });
  });

  it('reads numbers with their comparator, and words as no number', () => {
    expect(parseNumber(' 6.9 ')).toEqual({ value: 6.9 });
    expect(parseNumber('<0.5')).toEqual({ value: 0.5, comparator: '<' });
    expect(parseNumber('>= 10')).toEqual({ value: 10, comparator: '>=' });
    expect(parseNumber('-.5')).toEqual({ value: -0.5 });
    expect(parseNumber('Not detected')).toBeNull();
    expect(parseNumber('128/82')).toBeNull();
    expect(parseNumber('')).toBeNull();
  });
});
