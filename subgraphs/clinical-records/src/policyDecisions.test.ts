import { Access, policyProblems, type AuditTrail } from '@portal/kit';
import { accessOf, decisionsOf, DEFAULT_REFUSAL, expectedDecisions, type Expected } from '@portal/kit/testing';
import { policy } from './policy';
import { typeDefs } from './schema';

type ClinicalEntry = keyof typeof policy.entries;

/**
 * Every entry's decision for each viewer of the kit's cast (see kit's
 * policyTesting.ts), for patient pt-1: no pharmacist reads any of it. A proxy
 * of pt-1's reads with a grant covering the entry's scope (RESULTS, NOTES or
 * HEALTH_SUMMARY), not without it; a record marked sensitive is refused to a
 * proxy whose grant hides sensitive records, and to no one else.
 */
const READERS = ['patient', 'proxy', 'proxy hiding sensitive', 'practitioner', 'reading service'] as const;
const read = (kind: string, refusal = DEFAULT_REFUSAL): Expected => ({ allows: READERS, audit: `${kind}/read`, refusal });
const SENSITIVE_READERS = READERS.filter((m) => m !== 'proxy hiding sensitive');
const readSensitive = (kind: string, refusal = DEFAULT_REFUSAL): Expected => ({ ...read(kind, refusal), allows: SENSITIVE_READERS });

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

/** The entries whose subject can be a sensitive result or note (`sensitive: true`). */
const sensitiveEntries: [ClinicalEntry, Expected][] = [
  ['Patient.labResults', readSensitive('lab_result')],
  ['Patient.visitNotes', readSensitive('visit_note')],
  ['VisitNote.__resolveReference', readSensitive('visit_note', 'NOT_FOUND: Visit note was not found.')],
  ['Appointment.visitNote', readSensitive('visit_note')],
];

/** A grant of one scope covers that scope's entries only. */
const oneScope: [string, ClinicalEntry[]][] = [
  ['RESULTS', ['Patient.labResults']],
  ['NOTES', ['Patient.visitNotes', 'VisitNote.__resolveReference', 'Appointment.visitNote']],
  ['HEALTH_SUMMARY', ['Patient.conditions', 'Patient.allergies', 'Patient.immunizations', 'Patient.vitals', 'Patient.vitalSigns']],
];

describe('the clinical-records access policy, entry by entry', () => {
  it.each(entries)('%s', async (key, expected) => {
    expect(await decisionsOf(policy, key, { patientId: 'pt-1' }, 'clinical-records')).toEqual(expectedDecisions(expected));
  });

  it.each(sensitiveEntries)('%s of a sensitive record', async (key, expected) => {
    expect(await decisionsOf(policy, key, { patientId: 'pt-1', sensitive: true }, 'clinical-records')).toEqual(expectedDecisions(expected));
  });

  it.each(oneScope)('lets a proxy whose grant covers only %s read just its entries', async (scope, covered) => {
    const grant = { scopes: [scope], hideSensitive: false };
    for (const key of Object.keys(policy.entries) as ClinicalEntry[]) {
      const access = new Access(accessOf('proxy', 'clinical-records').viewer, { record: () => undefined } as unknown as AuditTrail, async () => new Set(), undefined, undefined, async () => new Map([['pt-1', grant]]));
      expect([key, await policy.may(key, access, 'pt-1')]).toEqual([key, covered.includes(key)]);
    }
  });

  it('names every route of the schema to health data, with a reason for each type and field it leaves open (as policy.test.ts)', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('has a case above for every entry', () => {
    expect(entries.map(([key]) => key).sort()).toEqual(Object.keys(policy.entries).sort());
  });
});
