import { policyProblems } from '@portal/kit';
import { decisionsOf, DEFAULT_REFUSAL, expectedDecisions, PROXIES, type Expected } from '@portal/kit/testing';
import { policy } from './policy';
import { typeDefs } from './schema';

type SchedulingEntry = keyof typeof policy.entries;

/**
 * Every entry's decision for each viewer of the kit's cast (see kit's
 * policyTesting.ts), for an appointment of patient pt-1 with practitioner
 * `with` (pr-1 treats pt-1; pr-2 treats no one). A proxy of pt-1's reads and
 * books with a grant covering APPOINTMENTS, sensitive or not (appointments
 * carry no sensitivity); without that scope they are refused.
 */
const appointment = (practitionerId: string) => ({ patientId: 'pt-1', practitionerId });
const WITH_SCOPE = ['proxy', 'proxy hiding sensitive'] as const;
const READERS = ['patient', ...WITH_SCOPE, 'practitioner', 'reading service'] as const;
const BOOKERS = ['patient', ...WITH_SCOPE] as const;
const PATIENTS = { admits: ['patient', 'another patient', ...PROXIES], message: 'Only a patient can do this.' } as const;
const APPOINTMENT = 'NOT_FOUND: Appointment was not found.';
const STATUS_GATE = { admits: ['practitioner', 'another practitioner'], message: 'Only the appointment’s practitioner can change its status.' } as const;

const entries: [SchedulingEntry, string, Expected][] = [
  ['Appointment.__resolveReference', 'pr-1', { allows: READERS, audit: 'appointment/read', refusal: APPOINTMENT }],
  // The appointment's practitioner sees it whatever the care teams.
  ['Appointment.__resolveReference', 'pr-2', { allows: [...READERS, 'another practitioner'], audit: 'appointment/read', refusal: APPOINTMENT }],
  ['Patient.upcomingAppointments', 'pr-2', { allows: READERS, audit: 'appointment/read', refusal: DEFAULT_REFUSAL }],
  ['Patient.appointments', 'pr-2', { allows: READERS, audit: 'appointment/read', refusal: DEFAULT_REFUSAL }],
  [
    'Practitioner.schedule',
    'pr-2',
    { gate: { admits: ['another practitioner'], message: 'A practitioner can see only their own schedule.' }, allows: ['another practitioner'], audit: 'appointment/read', refusal: DEFAULT_REFUSAL },
  ],
  ['Mutation.bookAppointment', 'pr-1', { gate: PATIENTS, allows: BOOKERS, audit: 'appointment/create', refusal: DEFAULT_REFUSAL }],
  ['Mutation.cancelAppointment', 'pr-1', { gate: PATIENTS, allows: BOOKERS, audit: 'appointment/update', refusal: APPOINTMENT }],
  ['Mutation.rescheduleAppointment', 'pr-1', { gate: PATIENTS, allows: BOOKERS, audit: 'appointment/update', refusal: APPOINTMENT }],
  ['Mutation.rescheduleAppointment#newSlot', 'pr-1', { gate: PATIENTS, allows: BOOKERS, audit: 'appointment/create', refusal: DEFAULT_REFUSAL }],
  ['Mutation.updateAppointmentStatus', 'pr-1', { gate: STATUS_GATE, allows: ['practitioner'], audit: 'appointment/update', refusal: APPOINTMENT }],
  ['Mutation.updateAppointmentStatus', 'pr-2', { gate: STATUS_GATE, allows: ['another practitioner'], audit: 'appointment/update', refusal: APPOINTMENT }],
  // An appointment "with" someone who is no practitioner (a patient's, a pharmacist's person id): only a practitioner is its practitioner.
  ['Appointment.__resolveReference', 'pt-2', { allows: READERS, audit: 'appointment/read', refusal: APPOINTMENT }],
  ['Appointment.__resolveReference', 'ph-2', { allows: READERS, audit: 'appointment/read', refusal: APPOINTMENT }],
  [
    'Practitioner.schedule',
    'pt-1',
    { gate: { admits: [], message: 'A practitioner can see only their own schedule.' }, allows: [], audit: 'appointment/read', refusal: DEFAULT_REFUSAL },
  ],
  ['Mutation.updateAppointmentStatus', 'pt-2', { gate: STATUS_GATE, allows: [], audit: 'appointment/update', refusal: APPOINTMENT }],
];

describe('the scheduling access policy, entry by entry', () => {
  it.each(entries)('%s with %s', async (key, practitionerId, expected) => {
    expect(await decisionsOf(policy, key, appointment(practitionerId), 'scheduling')).toEqual(expectedDecisions(expected));
  });

  it('names the appointment’s practitioner in its text', () => {
    expect(policy.describe()).toContain(
      'Practitioner.schedule: [the practitioner themself] the appointment’s practitioner; audits appointment/read',
    );
  });

  it('names every route of the schema to health data, with a reason for each type and field it leaves open (as policy.test.ts)', () => {
    expect(policyProblems(typeDefs, policy, __dirname)).toEqual([]);
  });

  it('has a case above for every entry', () => {
    expect([...new Set(entries.map(([key]) => key))].sort()).toEqual(Object.keys(policy.entries).sort());
  });
});
