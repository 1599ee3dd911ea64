import { policyProblems } from '@portal/kit';
import { decisionsOf, DEFAULT_REFUSAL, expectedDecisions, type Expected } from '@portal/kit/testing';
import { policy } from './policy';
import { typeDefs } from './schema';

type ClinicalEntry = keyof typeof policy.entries;

/** Every entry's decision for each viewer of the kit's cast (see kit's policyTesting.ts), for patient pt-1: no pharmacist reads any of it. */
const READERS = ['patient', 'practitioner', 'reading service'] as const;
const read = (kind: string, refusal = DEFAULT_REFUSAL): Expected => ({ allows: READERS, audit: `${kind}/read`, refusal });

const entries: [ClinicalEntry, Expected][] = [
  ['Patient.labResults', read('lab_result')],
  ['Patient.visitNotes', read('visit_note')],
  ['Patient.conditions', read('condition')],
  ['Patient.allergies', read('allergy')],
  ['Patient.immunizations', read('immunization')],
  ['Patient.vitals', read('vital')],
  ['Patient.vitalSigns', read('vital')],
  ['VisitNote.__resolveReference', read('visit_note', 'NOT_FOUND: Visit note was not found.')],
  ['Appointment.visitNote', read('visit_note')],
];

describe('the clinical-records access policy, entry by entry', () => {
  it.each(entries)('%s', async (key, expected) => {
    expect(await decisionsOf(policy, key, { patientId: 'pt-1' }, 'clinical-records')).toEqual(expectedDecisions(expected));
  });

  it('names every route of the schema to health data, with a reason for each type and field it leaves open (as policy.test.ts)', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('has a case above for every entry', () => {
    expect(entries.map(([key]) => key).sort()).toEqual(Object.keys(policy.entries).sort());
  });
});
