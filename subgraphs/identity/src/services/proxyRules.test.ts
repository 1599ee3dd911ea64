import { ageOn, combine, grantAccess, guardianAccess, PROXY_SCOPES, shiftDay } from './proxyRules';

const ALL = [...PROXY_SCOPES];

describe('ageOn', () => {
  it('counts whole years, a year more from the birthday itself', () => {
    expect(ageOn('2014-05-20', '2026-05-19')).toBe(11);
    expect(ageOn('2014-05-20', '2026-05-20')).toBe(12);
    expect(ageOn('2014-05-20', '2026-12-31')).toBe(12);
    expect(ageOn('2014-05-20', '2027-01-01')).toBe(12);
  });

  it('makes someone born on 29 February a year older on 1 March in other years, on the day in leap years', () => {
    expect(ageOn('2008-02-29', '2026-02-28')).toBe(17);
    expect(ageOn('2008-02-29', '2026-03-01')).toBe(18);
    expect(ageOn('2008-02-29', '2028-02-29')).toBe(20);
  });
});

describe('shiftDay', () => {
  it('moves by years and days across month and year ends', () => {
    expect(shiftDay('2026-11-28', 5)).toBe('2031-11-28');
    expect(shiftDay('2026-03-01', 0, -1)).toBe('2026-02-28');
    expect(shiftDay('2008-02-29', 18, -1)).toBe('2026-02-28');
    expect(shiftDay('2026-12-31', 0, 1)).toBe('2027-01-01');
  });
});

describe('what a parent’s link gives, by the child’s age on the given day', () => {
  const born = '2014-05-20';

  it('under 13: every scope, sensitive records too, until the day before the 18th birthday', () => {
    expect(guardianAccess(born, '2026-11-28')).toEqual({ relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, hideSensitive: false, endsOn: '2032-05-19' });
    expect(guardianAccess(born, '2027-05-19')?.hideSensitive).toBe(false);
  });

  it('from the 13th birthday to the day before the 18th: every scope, sensitive records hidden', () => {
    expect(guardianAccess(born, '2027-05-20')).toEqual({ relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, hideSensitive: true, endsOn: '2032-05-19' });
    expect(guardianAccess(born, '2029-09-01')?.hideSensitive).toBe(true);
    expect(guardianAccess(born, '2032-05-19')?.scopes).toEqual(ALL);
  });

  it('gives a newborn’s parent everything from the day of birth', () => {
    expect(guardianAccess('2026-11-28', '2026-11-28')).toEqual({ relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, hideSensitive: false, endsOn: '2044-11-27' });
  });

  it('nothing from the 18th birthday, nor for a birth date after the day', () => {
    expect(guardianAccess(born, '2032-05-20')).toBeNull();
    expect(guardianAccess(born, '2040-01-01')).toBeNull();
    expect(guardianAccess('2027-01-01', '2026-11-28')).toBeNull();
  });
});

describe('a grant and combining sources', () => {
  it('gives the grant’s known scopes in the enum’s order, sensitive records included, until its end', () => {
    expect(grantAccess({ scopes: 'MESSAGES APPOINTMENTS UNKNOWN', endsOn: '2027-01-31' })).toEqual({
      relationship: 'CAREGIVER',
      scopes: ['APPOINTMENTS', 'MESSAGES'],
      hideSensitive: false,
      endsOn: '2027-01-31',
    });
  });

  it('joins scopes, hides sensitive records only when every source does, keeps the parent’s relationship and the latest end', () => {
    const parent = guardianAccess('2011-01-01', '2026-11-28')!;
    const grant = grantAccess({ scopes: 'RESULTS', endsOn: '2030-01-01' });
    expect(combine(parent, grant)).toEqual({ relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, hideSensitive: false, endsOn: '2030-01-01' });
    expect(combine(grantAccess({ scopes: 'NOTES', endsOn: '2027-01-01' }), grant)).toEqual({
      relationship: 'CAREGIVER',
      scopes: ['RESULTS', 'NOTES'],
      hideSensitive: false,
      endsOn: '2030-01-01',
    });
  });

  it('is the same whichever source comes first: the parent’s relationship, the later end', () => {
    const parent = guardianAccess('2011-01-01', '2026-11-28')!;
    const grant = grantAccess({ scopes: 'RESULTS', endsOn: '2027-06-30' });
    expect(combine(grant, parent)).toEqual({ relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, hideSensitive: false, endsOn: '2028-12-31' });
    expect(combine(parent, grant)).toEqual(combine(grant, parent));
  });

  it('keeps sensitive records hidden when every source hides them (two guardians’ links to a 15-year-old)', () => {
    const one = guardianAccess('2011-01-01', '2026-11-28')!;
    expect(combine(one, { ...one })).toEqual({ relationship: 'PARENT_OR_GUARDIAN', scopes: ALL, hideSensitive: true, endsOn: '2028-12-31' });
  });
});
