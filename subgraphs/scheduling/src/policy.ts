import { anyOf, careTeam, definePolicy, gate, patientSelf, proxyFor, roles, rule, serviceScope } from '@portal/kit';

/**
 * Who may see and change what in scheduling: the one place that decides it.
 *
 * Every entry below hands out or changes a patient's appointments; services
 * ask this policy (`policy.assert('Patient.appointments', access, patientId)`)
 * and never look at roles. Each decision is audited as record kind
 * 'appointment' with the entry's action. Clinics and free slots are no one's
 * health data (open fields, sign-in only). `src/policy.test.ts` fails for a
 * field that reaches health data past no entry, and for an entry naming no field.
 */

/** A service credential reading appointments. */
const SERVICE_READ = serviceScope('scheduling:read');

/** The practitioner the appointment is with: it is on their own schedule, whatever the care teams. */
const ITS_PRACTITIONER = rule('the appointment’s practitioner', (viewer, subject) => viewer.role === 'PRACTITIONER' && viewer.personId === subject.practitionerId);

/** Someone acting for the patient whose grant covers appointments (a parent of a minor, a caregiver named by the patient). */
const PROXY = proxyFor('APPOINTMENTS');

/** The patient, someone acting for them, the practitioners treating them, a reading service. */
const RECORD_READERS = anyOf(patientSelf, PROXY, careTeam, SERVICE_READ);

/** Who books, cancels and moves a patient's appointments: the patient, or a proxy in their name. */
const BOOKERS = anyOf(patientSelf, PROXY);

/** Patients book, cancel and move appointments (their own, or in the name of someone they are a proxy for). */
const PATIENTS_ONLY = roles(['PATIENT'], 'Only a patient can do this.');

const APPOINTMENT = 'Appointment';

export const policy = definePolicy({
  healthTypes: ['Appointment', 'Cancellation', 'AppointmentConnection', 'AppointmentEdge'],
  otherTypes: {
    Clinic: 'a clinic’s name, time zone and phone: public directory data',
    Slot: 'a free slot of a clinic: held by no one',
    PageInfo: 'where a page ends; its lists are guarded by their parent field',
    Patient: 'identity owns the patient; here only its id and the guarded lists below',
    Practitioner: 'a member of staff by id, and their guarded schedule',
  },
  openFields: {
    'Query.clinics': 'the clinic directory (sign-in only): no one’s data',
    'Query.availableSlots': 'free slots (sign-in only): no one’s data',
  },
  entries: {
    // By id (the router's reference): another patient's appointment reads exactly like a missing one.
    'Appointment.__resolveReference': { allow: anyOf(ITS_PRACTITIONER, RECORD_READERS), audit: { kind: 'appointment', action: 'read' }, hideAs: APPOINTMENT },
    'Patient.upcomingAppointments': { allow: RECORD_READERS, audit: { kind: 'appointment', action: 'read' } },
    'Patient.appointments': { allow: RECORD_READERS, audit: { kind: 'appointment', action: 'read' } },
    // Each appointment on the schedule is audited as read.
    'Practitioner.schedule': {
      gate: gate('the practitioner themself', 'A practitioner can see only their own schedule.', (viewer, facts) => viewer.role === 'PRACTITIONER' && viewer.personId === facts.practitionerId),
      allow: ITS_PRACTITIONER,
      audit: { kind: 'appointment', action: 'read' },
    },
    'Mutation.bookAppointment': { gate: PATIENTS_ONLY, allow: BOOKERS, audit: { kind: 'appointment', action: 'create' } },
    'Mutation.cancelAppointment': { gate: PATIENTS_ONLY, allow: BOOKERS, audit: { kind: 'appointment', action: 'update' }, hideAs: APPOINTMENT },
    // A move cancels the old appointment (`update`) and books the new slot (`create`).
    'Mutation.rescheduleAppointment': { gate: PATIENTS_ONLY, allow: BOOKERS, audit: { kind: 'appointment', action: 'update' }, hideAs: APPOINTMENT },
    'Mutation.rescheduleAppointment#newSlot': { gate: PATIENTS_ONLY, allow: BOOKERS, audit: { kind: 'appointment', action: 'create' } },
    // Another practitioner's appointment reads exactly like a missing one.
    'Mutation.updateAppointmentStatus': {
      gate: roles(['PRACTITIONER'], 'Only the appointment’s practitioner can change its status.'),
      allow: ITS_PRACTITIONER,
      audit: { kind: 'appointment', action: 'update' },
      hideAs: APPOINTMENT,
    },
  },
});
