import { addDays } from '../dates';
import { effectiveStatus, refillVerdict, renewalVerdict, RENEWAL_WINDOW_DAYS, type PrescriptionFacts } from './eligibility';

const TODAY = '2026-03-01';
const rx = (over: Partial<PrescriptionFacts> = {}): PrescriptionFacts => ({
  discontinued: false,
  refillsRemaining: 2,
  expiresOn: addDays(TODAY, 100),
  pendingKinds: [],
  renewed: false,
  ...over,
});
const reasonOf = (v: { allowed: boolean; reason?: string }) => (v.allowed ? 'ALLOWED' : v.reason);

describe('effectiveStatus', () => {
  it('is ACTIVE up to and including the expiry date', () => {
    expect(effectiveStatus(rx({ expiresOn: TODAY }), TODAY)).toBe('ACTIVE');
  });
  it('is EXPIRED from the day after the expiry date, even when stored ACTIVE', () => {
    expect(effectiveStatus(rx({ expiresOn: addDays(TODAY, -1) }), TODAY)).toBe('EXPIRED');
  });
  it('is DISCONTINUED whatever the dates say', () => {
    expect(effectiveStatus(rx({ discontinued: true, expiresOn: addDays(TODAY, -400) }), TODAY)).toBe('DISCONTINUED');
    expect(effectiveStatus(rx({ discontinued: true }), TODAY)).toBe('DISCONTINUED');
  });
});

describe('refillVerdict', () => {
  it('allows an active prescription with refills left and nothing pending', () => {
    expect(refillVerdict(rx(), TODAY)).toEqual({ allowed: true });
  });
  it('allows a refill on the last day before expiry', () => {
    expect(reasonOf(refillVerdict(rx({ expiresOn: TODAY }), TODAY))).toBe('ALLOWED');
  });
  it('refuses a discontinued prescription', () => {
    const v = refillVerdict(rx({ discontinued: true }), TODAY);
    expect(reasonOf(v)).toBe('DISCONTINUED');
    expect(v.allowed || v.message).toMatch(/discontinued/);
  });
  it('refuses an expired prescription and points to a renewal', () => {
    const v = refillVerdict(rx({ expiresOn: addDays(TODAY, -1) }), TODAY);
    expect(reasonOf(v)).toBe('EXPIRED');
    expect(v.allowed || v.message).toMatch(/renewal/);
  });
  it('refuses a prescription with no refills left', () => {
    expect(reasonOf(refillVerdict(rx({ refillsRemaining: 0 }), TODAY))).toBe('NO_REFILLS_LEFT');
  });
  it('refuses while a refill is pending, but not because a renewal is', () => {
    expect(reasonOf(refillVerdict(rx({ pendingKinds: ['REFILL'] }), TODAY))).toBe('REFILL_PENDING');
    expect(reasonOf(refillVerdict(rx({ pendingKinds: ['RENEWAL'] }), TODAY))).toBe('ALLOWED');
  });
  it('gives the first rule broken: discontinued before expired before no refills', () => {
    const all = rx({ discontinued: true, expiresOn: addDays(TODAY, -5), refillsRemaining: 0, pendingKinds: ['REFILL'] });
    expect(reasonOf(refillVerdict(all, TODAY))).toBe('DISCONTINUED');
    expect(reasonOf(refillVerdict({ ...all, discontinued: false }, TODAY))).toBe('EXPIRED');
    expect(reasonOf(refillVerdict({ ...all, discontinued: false, expiresOn: TODAY }, TODAY))).toBe('NO_REFILLS_LEFT');
  });
});

describe('renewalVerdict', () => {
  it('allows a prescription with no refills left that has not expired', () => {
    expect(renewalVerdict(rx({ refillsRemaining: 0 }), TODAY)).toEqual({ allowed: true });
  });
  it('allows an expired prescription even with refills left', () => {
    expect(reasonOf(renewalVerdict(rx({ refillsRemaining: 3, expiresOn: addDays(TODAY, -30) }), TODAY))).toBe('ALLOWED');
  });
  it('refuses a prescription that still has refills and has not expired, saying to refill', () => {
    const v = renewalVerdict(rx({ refillsRemaining: 1 }), TODAY);
    expect(reasonOf(v)).toBe('REFILLS_REMAINING');
    expect(v.allowed || v.message).toBe('This prescription still has 1 refill left. Request a refill instead of a renewal.');
    expect(reasonOf(renewalVerdict(rx({ refillsRemaining: 1, expiresOn: TODAY }), TODAY))).toBe('REFILLS_REMAINING');
  });
  it('refuses a discontinued prescription, even one with no refills left or recently expired', () => {
    expect(reasonOf(renewalVerdict(rx({ discontinued: true, refillsRemaining: 0 }), TODAY))).toBe('DISCONTINUED');
    expect(reasonOf(renewalVerdict(rx({ discontinued: true, expiresOn: addDays(TODAY, -10) }), TODAY))).toBe('DISCONTINUED');
  });
  it(`allows a renewal exactly ${RENEWAL_WINDOW_DAYS} days after expiry and refuses one a day later`, () => {
    expect(RENEWAL_WINDOW_DAYS).toBe(120);
    expect(reasonOf(renewalVerdict(rx({ expiresOn: addDays(TODAY, -120) }), TODAY))).toBe('ALLOWED');
    const late = renewalVerdict(rx({ expiresOn: addDays(TODAY, -121) }), TODAY);
    expect(reasonOf(late)).toBe('EXPIRED_TOO_LONG_AGO');
    expect(late.allowed || late.message).toMatch(/more than 120 days ago/);
  });
  it('counts the window in calendar days across a leap day', () => {
    // 2024-02-29 exists: 120 days before 2024-06-01 is 2024-02-02.
    expect(reasonOf(renewalVerdict(rx({ expiresOn: '2024-02-02' }), '2024-06-01'))).toBe('ALLOWED');
    expect(reasonOf(renewalVerdict(rx({ expiresOn: '2024-02-01' }), '2024-06-01'))).toBe('EXPIRED_TOO_LONG_AGO');
  });
  it('refuses a prescription that was already renewed', () => {
    expect(reasonOf(renewalVerdict(rx({ refillsRemaining: 0, renewed: true }), TODAY))).toBe('ALREADY_RENEWED');
  });
  it('refuses while a renewal is pending, but not because a refill is', () => {
    expect(reasonOf(renewalVerdict(rx({ refillsRemaining: 0, pendingKinds: ['RENEWAL'] }), TODAY))).toBe('RENEWAL_PENDING');
    expect(reasonOf(renewalVerdict(rx({ refillsRemaining: 0, pendingKinds: ['REFILL'] }), TODAY))).toBe('ALLOWED');
  });
  it('never offers a refill and a renewal at once', () => {
    for (const refillsRemaining of [0, 1]) {
      for (const offset of [-200, -121, -120, -1, 0, 30]) {
        const facts = rx({ refillsRemaining, expiresOn: addDays(TODAY, offset) });
        expect(refillVerdict(facts, TODAY).allowed && renewalVerdict(facts, TODAY).allowed).toBe(false);
      }
    }
  });
});
