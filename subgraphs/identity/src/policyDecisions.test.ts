import { policyProblems } from '@portal/kit';
import { decisionsOf, DEFAULT_REFUSAL, expectedDecisions, type Expected } from '@portal/kit/testing';
import { policy } from './policy';
import { typeDefs } from './schema';

type IdentityEntry = keyof typeof policy.entries;

/**
 * Every entry's decision for each viewer of the kit's cast (see kit's
 * policyTesting.ts): a patient's records of pt-1, a staff record of pr-1 or ph-1.
 */
const STAFF = { admits: ['practitioner', 'another practitioner', 'pharmacist', 'another pharmacist'], message: 'Only care staff have a staff record.' } as const;
const THEMSELF = 'Only the practitioner themself can list their care teams.';

const entries: [IdentityEntry, string, Expected][] = [
  // A pharmacist with a case sees the patient's demographics, not their care teams.
  ['Patient.__resolveReference', 'pt-1', { allows: ['patient', 'practitioner', 'pharmacist', 'reading service'], audit: 'demographics/read', refusal: DEFAULT_REFUSAL }],
  ['Me.patient', 'pt-1', { gate: { admits: ['patient', 'another patient'], message: 'Only a patient has a patient record.' }, allows: ['patient'], audit: 'demographics/read', refusal: DEFAULT_REFUSAL }],
  ['Patient.careTeams', 'pt-1', { allows: ['patient', 'practitioner', 'reading service'], audit: 'care_team/read', refusal: DEFAULT_REFUSAL }],
  // Staff records: a staff member's own, not audited (no patient's record).
  ['Me.practitioner', 'pr-1', { gate: STAFF, allows: ['practitioner'], refusal: DEFAULT_REFUSAL }],
  ['Me.practitioner', 'ph-1', { gate: STAFF, allows: ['pharmacist'], refusal: DEFAULT_REFUSAL }],
  ['Practitioner.careTeams', 'pr-1', { gate: { admits: ['practitioner'], message: THEMSELF }, allows: ['practitioner'], refusal: DEFAULT_REFUSAL }],
  ['Practitioner.careTeams', 'pr-2', { gate: { admits: ['another practitioner'], message: THEMSELF }, allows: ['another practitioner'], refusal: DEFAULT_REFUSAL }],
];

describe('the identity access policy, entry by entry', () => {
  it.each(entries)('%s of %s', async (key, patientId, expected) => {
    expect(await decisionsOf(policy, key, { patientId }, 'identity')).toEqual(expectedDecisions(expected));
  });

  it('reads its own rules by name', () => {
    expect(policy.describe()).toContain('Me.practitioner: [PRACTITIONER or PHARMACIST] the staff member themself; not audited');
    expect(policy.describe()).toContain('Practitioner.careTeams: [the practitioner themself] the staff member themself; not audited');
  });

  it('names every route of the schema to health data, with a reason for each type and field it leaves open (as policy.test.ts)', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('has a case above for every entry', () => {
    expect([...new Set(entries.map(([key]) => key))].sort()).toEqual(Object.keys(policy.entries).sort());
  });
});
