import { policyProblems } from '@portal/kit';
import { decisionsOf, DEFAULT_REFUSAL, expectedDecisions, PROXIES, type Expected } from '@portal/kit/testing';
import { policy } from './policy';
import { typeDefs } from './schema';

type IdentityEntry = keyof typeof policy.entries;

/**
 * Every entry's decision for each viewer of the kit's cast (see kit's
 * policyTesting.ts): a patient's records of pt-1, a staff record of pr-1 or ph-1.
 * Identity names no proxy scope of its own: any live grant for pt-1 lets its
 * holder see pt-1's name, birth date and care teams (the proxy without the
 * subgraph's scope included), never what only the patient sees.
 */
const STAFF = { admits: ['practitioner', 'another practitioner', 'pharmacist', 'another pharmacist'], message: 'Only care staff have a staff record.' } as const;
const THEMSELF = 'Only the practitioner themself can list their care teams.';
const PATIENTS = ['patient', 'another patient', ...PROXIES] as const;
const gateOf = (message: string) => ({ admits: PATIENTS, message });

const entries: [IdentityEntry, string, Expected][] = [
  // A pharmacist with a case sees the patient's demographics, not their care teams.
  ['Patient.__resolveReference', 'pt-1', { allows: ['patient', ...PROXIES, 'practitioner', 'pharmacist', 'reading service'], audit: 'demographics/read', refusal: DEFAULT_REFUSAL }],
  ['Patient.__resolveReference', 'pt-2', { allows: ['another patient', 'reading service'], audit: 'demographics/read', refusal: DEFAULT_REFUSAL, noProxyGrant: true }],
  ['Me.patient', 'pt-1', { gate: gateOf('Only a patient has a patient record.'), allows: ['patient'], audit: 'demographics/read', refusal: DEFAULT_REFUSAL, noProxyGrant: true }],
  // Whom the patient writes to: a proxy writing in the patient's name needs it.
  ['Patient.careTeams', 'pt-1', { allows: ['patient', ...PROXIES, 'practitioner', 'reading service'], audit: 'care_team/read', refusal: DEFAULT_REFUSAL }],
  // A proxy's name on a message: whoever may read the patient's record, the care team included; not a pharmacist.
  ['ProxyAuthor.__resolveReference', 'pt-1', { allows: ['patient', ...PROXIES, 'practitioner', 'reading service'], audit: 'proxy_grant/read', refusal: DEFAULT_REFUSAL }],
  // The access log is the patient's alone: not a proxy's, not the care team's.
  ['Patient.accessLog', 'pt-1', { gate: gateOf('Only the patient can read their access log.'), allows: ['patient'], audit: 'access_log/read', refusal: DEFAULT_REFUSAL, noProxyGrant: true }],
  // The patients a proxy acts for: pt-1 for each of the cast's proxies (any scope), never the patient themself.
  ['Me.proxyFor', 'pt-1', { gate: gateOf('Only a patient has proxy access.'), allows: PROXIES, audit: 'demographics/read', refusal: DEFAULT_REFUSAL }],
  ['Me.proxyFor', 'pt-2', { gate: gateOf('Only a patient has proxy access.'), allows: [], audit: 'demographics/read', refusal: DEFAULT_REFUSAL, noProxyGrant: true }],
  // The grants the viewer gave: their own, not health data (unaudited).
  ['Me.proxyGrants', 'pt-1', { gate: gateOf('Only a patient has proxy access.'), allows: ['patient'], refusal: DEFAULT_REFUSAL }],
  // A patient by id: themself or one they act for; anyone else's reads like an unknown id.
  ['Query.patient', 'pt-1', { gate: gateOf('Only a patient can look up a patient by id.'), allows: ['patient', ...PROXIES], audit: 'demographics/read', refusal: 'NOT_FOUND: The patient was not found.' }],
  ['Query.patient', 'pt-2', { gate: gateOf('Only a patient can look up a patient by id.'), allows: ['another patient'], audit: 'demographics/read', refusal: 'NOT_FOUND: The patient was not found.', noProxyGrant: true }],
  // Only the grantor shares or ends a grant of their own record: a proxy never passes it on.
  ['Mutation.grantProxyAccess', 'pt-1', { gate: gateOf('Only a patient can grant proxy access.'), allows: ['patient'], audit: 'proxy_grant/create', refusal: DEFAULT_REFUSAL, noProxyGrant: true }],
  [
    'Mutation.revokeProxyAccess',
    'pt-1',
    { gate: gateOf('Only a patient can revoke proxy access.'), allows: ['patient'], audit: 'proxy_grant/update', refusal: 'NOT_FOUND: The proxy grant was not found.', noProxyGrant: true },
  ],
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
