/**
 * Proxy access in scheduling: a parent or caregiver whose grant covers
 * APPOINTMENTS reads the patient's appointments and books, cancels and moves
 * them in the patient's name; without the scope they are refused, and every
 * decision is audited with the actor role PROXY.
 */
import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { fromNow, schedulingFactory, type SchedulingFactory } from './factories';
import { createSchedulingModule } from './module';
import { seedDemo } from './seed';

const ALL = ['APPOINTMENTS', 'MESSAGES', 'MEDICATIONS', 'RESULTS', 'NOTES', 'HEALTH_SUMMARY'];
/** A caregiver Emma's family named for her messages only. */
const CAREGIVER = 'pt-proxy-caregiver';

const APPOINTMENTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id
  appointments(first: 10) { totalCount edges { node { id patient { id } } } } upcomingAppointments { id } } } }`;
const APPOINTMENT = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Appointment { id patient { id } } } }`;
const BOOK = `mutation($s: ID!, $p: ID) { bookAppointment(input: { slotId: $s, patientId: $p, reason: "Checkup" }) { id status patient { id } } }`;
const CANCEL = `mutation($id: ID!) { cancelAppointment(input: { appointmentId: $id }) { id status patient { id } } }`;
const RESCHEDULE = `mutation($id: ID!, $s: ID!) { rescheduleAppointment(input: { appointmentId: $id, slotId: $s }) { id status patient { id } } }`;

const patient = (id: string) => [{ __typename: 'Patient', id }];
const codes = (res: { errors?: { extensions?: { code?: string } }[] }) => res.errors?.map((e) => e.extensions?.code);

let t: TestSubgraph;
let make: SchedulingFactory;
let jane: string;
let caregiver: string;
let john: string;
const db = () => t.server.database.dataSource;

beforeAll(async () => {
  t = await startTestSubgraph(createSchedulingModule(), {
    proxyGrants: {
      [DEMO.jane]: { [DEMO.emma]: { scopes: ALL, hideSensitive: false }, [DEMO.liam]: { scopes: ALL, hideSensitive: true } },
      [CAREGIVER]: { [DEMO.emma]: { scopes: ['MESSAGES'], hideSensitive: false } },
    },
  });
  await seedDemo(db());
  await seedDemo(db()); // idempotent, the children's appointments too
  make = schedulingFactory(db());
  jane = await t.token({ personId: DEMO.jane, accountId: 'ac-jane-doe' });
  caregiver = await t.token({ personId: CAREGIVER });
  john = await t.token({ personId: DEMO.john });
});
afterAll(async () => {
  await t?.stop();
});

describe('reading as a proxy', () => {
  it('gives a parent with the APPOINTMENTS scope the child’s appointments, by list and by id', async () => {
    const res = await gql(t.url, APPOINTMENTS, { r: [...patient(DEMO.emma), ...patient(DEMO.liam)] }, jane);
    expect(res.errors).toBeUndefined();
    const [emma, liam] = res.data._entities;
    expect(emma.appointments.totalCount).toBe(2);
    expect(emma.appointments.edges.map((e: any) => e.node.id).sort()).toEqual(['ap-emma-past-1', 'ap-emma-upcoming-1']);
    expect(emma.upcomingAppointments.map((a: any) => a.id)).toEqual(['ap-emma-upcoming-1']);
    expect(liam.upcomingAppointments.map((a: any) => a.id)).toEqual(['ap-liam-upcoming-1']);
    const one = await gql(t.url, APPOINTMENT, { r: [{ __typename: 'Appointment', id: 'ap-emma-upcoming-1' }] }, jane);
    expect(one.data._entities).toEqual([{ id: 'ap-emma-upcoming-1', patient: { id: DEMO.emma } }]);
  });

  it('refuses a proxy without the scope, and anyone without a grant: the list FORBIDDEN, an appointment by id NOT_FOUND', async () => {
    for (const token of [caregiver, john]) {
      const list = await gql(t.url, APPOINTMENTS, { r: patient(DEMO.emma) }, token);
      expect(codes(list)).toContain('FORBIDDEN');
      expect(list.data._entities[0]).toEqual({ id: DEMO.emma, appointments: null, upcomingAppointments: null });
      const one = await gql(t.url, APPOINTMENT, { r: [{ __typename: 'Appointment', id: 'ap-emma-upcoming-1' }] }, token);
      expect(codes(one)).toEqual(['NOT_FOUND']);
    }
  });

  it('audits a proxy’s reads with the actor role PROXY, and a refusal of someone without a grant as PATIENT', async () => {
    await gql(t.url, APPOINTMENTS, { r: patient(DEMO.emma) }, jane, { 'x-request-id': 'req-proxy-read' });
    await gql(t.url, APPOINTMENTS, { r: patient(DEMO.emma) }, john, { 'x-request-id': 'req-proxy-none' });
    const rows = await db().query(`SELECT request_id, actor_person_id, actor_role, patient_id, outcome FROM audit_event WHERE request_id IN ('req-proxy-read', 'req-proxy-none') ORDER BY request_id, outcome`);
    expect(rows).toEqual([
      { request_id: 'req-proxy-none', actor_person_id: DEMO.john, actor_role: 'PATIENT', patient_id: DEMO.emma, outcome: 'DENIED' },
      { request_id: 'req-proxy-read', actor_person_id: DEMO.jane, actor_role: 'PROXY', patient_id: DEMO.emma, outcome: 'ALLOWED' },
    ]);
  });
});

describe('acting in the patient’s name', () => {
  it('books, moves and cancels the child’s appointment with the APPOINTMENTS scope, audited as PROXY', async () => {
    const first = await make.slot({ start: fromNow(20) });
    const second = await make.slot({ start: fromNow(21) });
    const booked = await gql(t.url, BOOK, { s: first.id, p: DEMO.emma }, jane, { 'x-request-id': 'req-proxy-book' });
    expect(booked.errors).toBeUndefined();
    expect(booked.data.bookAppointment).toMatchObject({ status: 'BOOKED', patient: { id: DEMO.emma } });
    const moved = await gql(t.url, RESCHEDULE, { id: booked.data.bookAppointment.id, s: second.id }, jane);
    expect(moved.errors).toBeUndefined();
    expect(moved.data.rescheduleAppointment).toMatchObject({ status: 'BOOKED', patient: { id: DEMO.emma } });
    const cancelled = await gql(t.url, CANCEL, { id: moved.data.rescheduleAppointment.id }, jane, { 'x-request-id': 'req-proxy-cancel' });
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data.cancelAppointment).toMatchObject({ status: 'CANCELLED', patient: { id: DEMO.emma } });
    const stored = await db().query(`SELECT patient_id, cancelled_by FROM appointment WHERE id = '${moved.data.rescheduleAppointment.id}'`);
    expect(stored).toEqual([{ patient_id: DEMO.emma, cancelled_by: 'ac-jane-doe' }]);
    const audit = await db().query(
      `SELECT request_id, actor_role, patient_id, action, outcome FROM audit_event WHERE request_id IN ('req-proxy-book', 'req-proxy-cancel') AND record_kind = 'appointment' AND action <> 'read' ORDER BY request_id`,
    );
    expect(audit).toEqual([
      { request_id: 'req-proxy-book', actor_role: 'PROXY', patient_id: DEMO.emma, action: 'create', outcome: 'ALLOWED' },
      { request_id: 'req-proxy-cancel', actor_role: 'PROXY', patient_id: DEMO.emma, action: 'update', outcome: 'ALLOWED' },
    ]);
  });

  it('refuses a booking in the name of a patient the viewer has no APPOINTMENTS scope for (FORBIDDEN), and their appointments read NOT_FOUND', async () => {
    const slot = await make.slot({ start: fromNow(22) });
    for (const token of [caregiver, john]) {
      expect(codes(await gql(t.url, BOOK, { s: slot.id, p: DEMO.emma }, token))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(t.url, CANCEL, { id: 'ap-emma-upcoming-1' }, token))).toEqual(['NOT_FOUND']);
    }
    expect(Number((await db().query(`SELECT COUNT(*) AS "n" FROM appointment WHERE slot_id = '${slot.id}'`))[0].n)).toBe(0);
    const still = await db().query(`SELECT status FROM appointment WHERE id = 'ap-emma-upcoming-1'`);
    expect(still).toEqual([{ status: 'BOOKED' }]);
  });

  it('books for the viewer themself when no patientId is given', async () => {
    const slot = await make.slot({ start: fromNow(23) });
    const res = await gql(t.url, BOOK, { s: slot.id }, jane);
    expect(res.data.bookAppointment.patient).toEqual({ id: DEMO.jane });
  });
});
