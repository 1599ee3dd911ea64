import { anyOf, careTeam, definePolicy, patientSelf, proxyFor, serviceScope, type Rule } from '@portal/kit';

/**
 * Who may see what in clinical records: the one place that decides it.
 *
 * Every field below hands out a patient's clinical record; services ask this
 * policy (`policy.assert('Patient.labResults', access, patientId)`) and never
 * look at roles. Each decision is audited as the entry's kind and action.
 * Pharmacists read none of it (they see prescriptions, in pharmacy).
 * `src/policy.test.ts` fails for a field of the schema that reaches health data
 * past no entry here, and for an entry naming no field.
 */

/** A service credential reading clinical records. */
const SERVICE_READ = serviceScope('clinical-records:read');

/**
 * The patient, someone acting for them whose grant covers `scope` (identity's
 * ProxyScope: RESULTS, NOTES or HEALTH_SUMMARY), the practitioners treating
 * them, a reading service. A sensitive result or note (subject `sensitive`) is
 * refused to a proxy whose grant hides sensitive records; lists leave those out in SQL.
 */
const readersWith = (scope: string): Rule => anyOf(patientSelf, proxyFor(scope), careTeam, SERVICE_READ);
const RESULT_READERS = readersWith('RESULTS');
const NOTE_READERS = readersWith('NOTES');
const RECORD_READERS = readersWith('HEALTH_SUMMARY');

export const policy = definePolicy({
  healthTypes: [
    'LabResult',
    'LabResultPoint',
    'ReferenceRange',
    'LabResultConnection',
    'LabResultEdge',
    'VisitNote',
    'VisitNoteConnection',
    'VisitNoteEdge',
    'Condition',
    'Allergy',
    'Immunization',
    'Vital',
    'VitalConnection',
    'VitalEdge',
  ],
  otherTypes: {
    HealthTopic: 'a public health-library article, the same for everyone',
    PageInfo: 'where a page ends; its lists are guarded by their parent field',
    Patient: 'identity owns the patient; here only its id and the guarded lists below',
    Medication: 'a drug product by RxNorm code, not anyone’s prescription',
    Appointment: 'scheduling owns the appointment; here only its id and the guarded visitNote',
    Practitioner: 'a reference by id only',
  },
  openFields: {
    'Query.healthTopics': 'the public health library: no sign-in, no one’s data',
  },
  entries: {
    'Patient.labResults': { allow: RESULT_READERS, audit: { kind: 'lab_result', action: 'read' } },
    'Patient.visitNotes': { allow: NOTE_READERS, audit: { kind: 'visit_note', action: 'read' } },
    'Patient.conditions': { allow: RECORD_READERS, audit: { kind: 'condition', action: 'read' } },
    'Patient.allergies': { allow: RECORD_READERS, audit: { kind: 'allergy', action: 'read' } },
    'Patient.immunizations': { allow: RECORD_READERS, audit: { kind: 'immunization', action: 'read' } },
    'Patient.vitals': { allow: RECORD_READERS, audit: { kind: 'vital', action: 'read' } },
    'Patient.vitalSigns': { allow: RECORD_READERS, audit: { kind: 'vital', action: 'read' } },
    // By id (the router's reference): another patient's note reads exactly like a missing one.
    'VisitNote.__resolveReference': { allow: NOTE_READERS, audit: { kind: 'visit_note', action: 'read' }, hideAs: 'Visit note' },
    // An appointment may be visible to someone who may not read its note: then the note is null (the refusal audited).
    'Appointment.visitNote': { allow: NOTE_READERS, audit: { kind: 'visit_note', action: 'read' } },
  },
});
