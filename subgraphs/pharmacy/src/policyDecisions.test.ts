import { policyProblems } from '@portal/kit';
import { allBut, decisionsOf, DEFAULT_REFUSAL, expectedDecisions, PROXIES, type Expected } from '@portal/kit/testing';
import { policy } from './policy';
import { typeDefs } from './schema';

type PharmacyEntry = keyof typeof policy.entries;

/**
 * Every entry's decision for each viewer of the kit's cast (see kit's
 * policyTesting.ts), for patient pt-1: a proxy of pt-1's reads and requests
 * with a grant covering MEDICATIONS (prescriptions carry no sensitivity), not without it.
 */
const WITH_SCOPE = ['proxy', 'proxy hiding sensitive'] as const;
const READERS = ['patient', ...WITH_SCOPE, 'practitioner', 'pharmacist', 'reading service'] as const;
const REQUESTERS = ['patient', ...WITH_SCOPE] as const;
const PATIENTS = { admits: ['patient', 'another patient', ...PROXIES], message: 'Only a patient can do this.' } as const;
const PHARMACISTS = ['pharmacist', 'another pharmacist'] as const;
const RX = 'NOT_FOUND: Prescription was not found.';
const REQUEST = 'NOT_FOUND: Pharmacy request was not found.';

const entries: [PharmacyEntry, Expected][] = [
  ['Patient.prescriptions', { allows: READERS, audit: 'prescription/read', refusal: DEFAULT_REFUSAL }],
  ['Prescription.__resolveReference', { allows: READERS, audit: 'prescription/read', refusal: RX }],
  ['Prescription.renewedFrom', { allows: READERS, audit: 'prescription/read', refusal: RX }],
  ['Prescription.pendingRequest', { allows: READERS, audit: 'pharmacy_request/read', refusal: DEFAULT_REFUSAL }],
  ['PharmacyRequest.__resolveReference', { allows: READERS, audit: 'pharmacy_request/read', refusal: REQUEST }],
  ['PharmacyRequest.prescription', { allows: READERS, audit: 'prescription/read', refusal: DEFAULT_REFUSAL }],
  ['PharmacyRequest.newPrescription', { allows: READERS, audit: 'prescription/read', refusal: DEFAULT_REFUSAL }],
  [
    'Query.pendingPharmacyRequests',
    {
      gate: { admits: ['practitioner', 'another practitioner', ...PHARMACISTS], message: 'Only care staff can do this.' },
      allows: ['practitioner', 'pharmacist'],
      audit: 'pharmacy_request/read',
      refusal: DEFAULT_REFUSAL,
    },
  ],
  [
    'Query.pharmacistLookup',
    { gate: { admits: PHARMACISTS, message: 'Only a pharmacist can look a patient up for dispensing.' }, allows: ['pharmacist'], audit: 'prescription/read', refusal: DEFAULT_REFUSAL },
  ],
  ['Mutation.requestRefill', { gate: PATIENTS, allows: REQUESTERS, audit: 'pharmacy_request/create', refusal: RX }],
  ['Mutation.requestRenewal', { gate: PATIENTS, allows: REQUESTERS, audit: 'pharmacy_request/create', refusal: RX }],
  [
    'Mutation.decideRenewal',
    {
      gate: { admits: ['practitioner', 'another practitioner'], message: 'Only a practitioner can approve or deny a renewal.' },
      allows: ['practitioner'],
      audit: 'pharmacy_request/update',
      refusal: REQUEST,
    },
  ],
  [
    'Mutation.decideRenewal#approve',
    {
      gate: { admits: ['practitioner', 'another practitioner'], message: 'Only a practitioner can approve or deny a renewal.' },
      allows: ['practitioner'],
      audit: 'prescription/create',
      refusal: DEFAULT_REFUSAL,
    },
  ],
  ['Mutation.completeRefill', { gate: { admits: PHARMACISTS, message: 'Only a pharmacist can record a fill.' }, allows: ['pharmacist'], audit: 'pharmacy_request/update', refusal: REQUEST }],
  ['Mutation.completeRefill#fill', { gate: { admits: PHARMACISTS, message: 'Only a pharmacist can record a fill.' }, allows: ['pharmacist'], audit: 'prescription/update', refusal: DEFAULT_REFUSAL }],
  ['Mutation.denyRefill', { gate: { admits: PHARMACISTS, message: 'Only a pharmacist can deny a refill.' }, allows: ['pharmacist'], audit: 'pharmacy_request/update', refusal: REQUEST }],
];

describe('the pharmacy access policy, entry by entry', () => {
  it.each(entries)('%s', async (key, expected) => {
    expect(await decisionsOf(policy, key, { patientId: 'pt-1' }, 'pharmacy')).toEqual(expectedDecisions(expected));
  });

  it('names every route of the schema to health data, with a reason for each type and field it leaves open (as policy.test.ts)', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('has a case above for every entry', () => {
    expect(entries.map(([key]) => key).sort()).toEqual(Object.keys(policy.entries).sort());
  });

  it('lets no one but the patient and the reading service read another patient’s prescriptions', async () => {
    // pt-2: no one treats them and no pharmacist has a case.
    const decisions = await decisionsOf(policy, 'Patient.prescriptions', { patientId: 'pt-2' }, 'pharmacy');
    expect(Object.entries(decisions).filter(([, d]) => d.startsWith('allowed')).map(([m]) => m)).toEqual(['another patient', 'reading service']);
    expect(allBut('another patient', 'reading service').every((m) => decisions[m].startsWith('FORBIDDEN'))).toBe(true);
  });
});
