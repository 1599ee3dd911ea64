import { DEMO } from '@portal/demo';
import type { GraphQLResponse } from '@portal/kit/testing';
import { fromNow, schedulingFactory, uniqueId, type SchedulingFactory } from '@portal/scheduling/testing';
import { seedScalePatient as seedIdentityPatient } from '@portal/identity';
import { alexToken, operation, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let make: SchedulingFactory;
let jane: string;
let john: string;

beforeAll(async () => {
  stack = await startTestStack();
  make = schedulingFactory(stack.subgraphs.scheduling.database.dataSource);
  jane = await stack.tokenFor({ personId: DEMO.jane, accountId: 'ac-jane-doe', role: 'PATIENT' });
  john = await stack.tokenFor({ personId: DEMO.john, accountId: 'ac-john-roe', role: 'PATIENT' });
});
afterAll(() => stack?.stop());

const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
const UPCOMING = '{ me { patient { upcomingAppointments(first: 20) { id status } } } }';

async function myAppointments(token: string) {
  const res = await stack.query(operation('MyAppointments'), { first: 50 }, token);
  expect(res.errors).toBeUndefined();
  return res.data.me.patient.appointments;
}

async function freeSlots(clinicId: string, type: string, from: Date, to: Date, token = jane) {
  const res = await stack.query(operation('AvailableSlots'), { clinicId, appointmentType: type, from: from.toISOString(), to: to.toISOString() }, token);
  expect(res.errors).toBeUndefined();
  return res.data.availableSlots as { id: string; start: string; end: string; appointmentType: string; practitioner: { id: string; name: { family: string } } }[];
}

describe('finding a slot through the gateway', () => {
  it('lists the clinics with their time zones, phones and appointment types', async () => {
    const res = await stack.query(operation('Clinics'), {}, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.clinics.map((c: any) => c.name)).toEqual(['Behavioral Health Clinic', 'Eye Clinic', 'Family Health Clinic']);
    expect(res.data.clinics[2]).toEqual({
      id: DEMO.familyHealthClinic,
      name: 'Family Health Clinic',
      timeZone: 'America/New_York',
      phone: '(757) 555-0142',
      appointmentTypes: ['PRIMARY_CARE', 'FOLLOW_UP', 'IMMUNIZATION'],
    });
  });

  it('finds free weekday PRIMARY_CARE slots at Family Health Clinic for the next 60 days, with the practitioner’s name', async () => {
    const now = new Date();
    const day = (n: number) => new Date(now.getTime() + n * 86_400_000);
    const first = await freeSlots(DEMO.familyHealthClinic, 'PRIMARY_CARE', now, day(31));
    const second = await freeSlots(DEMO.familyHealthClinic, 'PRIMARY_CARE', day(31), day(62));
    const all = [...first, ...second];
    const starts = all.map((s) => Date.parse(s.start));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(starts[0]).toBeGreaterThan(Date.now());
    expect(Math.max(...starts)).toBeGreaterThan(fromNow(60).getTime() - 86_400_000);
    const weekdays = new Set(all.map((s) => new Date(s.start).toLocaleDateString('en-US', { timeZone: 'America/New_York', weekday: 'short' })));
    expect([...weekdays].sort()).toEqual(['Fri', 'Mon', 'Thu', 'Tue', 'Wed']);
    expect(all[0]).toMatchObject({ appointmentType: 'PRIMARY_CARE', practitioner: { id: DEMO.alex, name: { family: 'Kim' } } });
    expect(Date.parse(all[0].end) - Date.parse(all[0].start)).toBe(30 * 60_000);
  });

  it('passes the subgraph’s codes for bad input through the gateway', async () => {
    const vars = { clinicId: DEMO.familyHealthClinic, appointmentType: 'PRIMARY_CARE', from: fromNow(2).toISOString(), to: fromNow(1).toISOString() };
    const wrongWay = await stack.query(operation('AvailableSlots'), vars, jane);
    expect(wrongWay.errors?.[0]).toMatchObject({ message: 'to must be after from.', extensions: { code: 'BAD_USER_INPUT', field: 'to' } });
    const tooLong = await stack.query(operation('AvailableSlots'), { ...vars, to: fromNow(40).toISOString() }, jane);
    expect(codes(tooLong)).toEqual(['BAD_USER_INPUT']);
    const unknown = await stack.query(operation('AvailableSlots'), { ...vars, clinicId: 'cl-atlantis', to: fromNow(3).toISOString() }, jane);
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
    const anonymous = await stack.query(operation('AvailableSlots'), { ...vars, to: fromNow(3).toISOString() });
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('booking, cancelling and rescheduling through the gateway', () => {
  it('books a slot, shows it in MyAppointments and upcoming at once, and no longer offers it', async () => {
    const [slot] = await freeSlots(DEMO.familyHealthClinic, 'PRIMARY_CARE', fromNow(20), fromNow(23));
    const res = await stack.query(operation('BookAppointment'), { slotId: slot.id, reason: 'Sports physical', idempotencyKey: `jane-${slot.id}` }, jane);
    expect(res.errors).toBeUndefined();
    const booked = res.data.bookAppointment;
    expect(booked).toMatchObject({
      status: 'BOOKED',
      start: slot.start,
      end: slot.end,
      appointmentType: 'PRIMARY_CARE',
      reason: 'Sports physical',
      clinic: { id: DEMO.familyHealthClinic, name: 'Family Health Clinic' },
      practitioner: { id: DEMO.alex },
    });
    const list = await myAppointments(jane);
    expect(list.edges[0].node).toMatchObject({ id: booked.id, status: 'BOOKED', cancellable: true, visitNote: null });
    expect((await stack.query(UPCOMING, {}, jane)).data.me.patient.upcomingAppointments.map((a: any) => a.id)).toContain(booked.id);
    expect((await freeSlots(DEMO.familyHealthClinic, 'PRIMARY_CARE', fromNow(20), fromNow(23))).map((s) => s.id)).not.toContain(slot.id);

    // A retry with the same key gets the same appointment; John cannot have the slot.
    const again = await stack.query(operation('BookAppointment'), { slotId: slot.id, reason: 'Sports physical', idempotencyKey: `jane-${slot.id}` }, jane);
    expect(again.data.bookAppointment.id).toBe(booked.id);
    expect((await myAppointments(jane)).totalCount).toBe(list.totalCount);
    const taken = await stack.query(operation('BookAppointment'), { slotId: slot.id }, john);
    expect(codes(taken)).toEqual(['SLOT_UNAVAILABLE']);
    expect(taken.data).toBeNull();
  });

  it('cancels with a reason, records who cancelled, and offers the slot again at once', async () => {
    const [slot] = await freeSlots(DEMO.familyHealthClinic, 'PRIMARY_CARE', fromNow(24), fromNow(27));
    const booked = (await stack.query(operation('BookAppointment'), { slotId: slot.id }, jane)).data.bookAppointment;
    const refused = await stack.query(operation('CancelAppointment'), { appointmentId: booked.id, reason: 'not mine' }, john);
    expect(codes(refused)).toEqual(['NOT_FOUND']);
    expect(refused.errors?.[0].message).toBe('Appointment was not found.');

    const res = await stack.query(operation('CancelAppointment'), { appointmentId: booked.id, reason: 'Deployed' }, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.cancelAppointment).toMatchObject({ id: booked.id, status: 'CANCELLED', cancellation: { reason: 'Deployed', cancelledBy: 'ac-jane-doe' } });
    expect((await freeSlots(DEMO.familyHealthClinic, 'PRIMARY_CARE', fromNow(24), fromNow(27))).map((s) => s.id)).toContain(slot.id);
    const node = (await myAppointments(jane)).edges.find((e: any) => e.node.id === booked.id).node;
    expect(node).toMatchObject({ status: 'CANCELLED', cancellable: false });
    expect((await stack.query(UPCOMING, {}, jane)).data.me.patient.upcomingAppointments.map((a: any) => a.id)).not.toContain(booked.id);

    const twice = await stack.query(operation('CancelAppointment'), { appointmentId: booked.id }, jane);
    expect(codes(twice)).toEqual(['APPOINTMENT_NOT_CANCELLABLE']);
    expect(twice.errors?.[0].message).toBe('This appointment cannot be cancelled: it was already cancelled.');
    const past = await stack.query(operation('CancelAppointment'), { appointmentId: 'ap-jane-past-1' }, jane);
    expect(past.errors?.[0]).toMatchObject({ message: 'This appointment cannot be cancelled: it has already taken place.', extensions: { code: 'APPOINTMENT_NOT_CANCELLABLE' } });
  });

  it('reschedules atomically to another free slot and shows both changes in MyAppointments', async () => {
    const [from, to] = await freeSlots(DEMO.familyHealthClinic, 'PRIMARY_CARE', fromNow(28), fromNow(31));
    const booked = (await stack.query(operation('BookAppointment'), { slotId: from.id }, john)).data.bookAppointment;
    const res = await stack.query(operation('RescheduleAppointment'), { appointmentId: booked.id, slotId: to.id }, john);
    expect(res.errors).toBeUndefined();
    const moved = res.data.rescheduleAppointment;
    expect(moved).toMatchObject({ status: 'BOOKED', start: to.start, end: to.end });
    const nodes = new Map((await myAppointments(john)).edges.map((e: any) => [e.node.id, e.node]));
    expect(nodes.get(moved.id)).toMatchObject({ status: 'BOOKED', cancellable: true });
    expect(nodes.get(booked.id)).toMatchObject({ status: 'CANCELLED', cancellable: false });
    const offered = (await freeSlots(DEMO.familyHealthClinic, 'PRIMARY_CARE', fromNow(28), fromNow(31))).map((s) => s.id);
    expect(offered).toContain(from.id);
    expect(offered).not.toContain(to.id);

    // Onto a held slot: refused, and the appointment stays where it is.
    const jane1 = (await stack.query(operation('BookAppointment'), { slotId: from.id }, jane)).data.bookAppointment;
    const clash = await stack.query(operation('RescheduleAppointment'), { appointmentId: moved.id, slotId: from.id }, john);
    expect(codes(clash)).toEqual(['SLOT_UNAVAILABLE']);
    expect((await myAppointments(john)).edges.find((e: any) => e.node.id === moved.id).node.status).toBe('BOOKED');
    const theirs = await stack.query(operation('RescheduleAppointment'), { appointmentId: jane1.id, slotId: to.id }, john);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
  });

  it('refuses the past, the far future, unknown slots and staff with clear codes', async () => {
    const past = await make.slot({ start: fromNow(0, -60) });
    const far = await make.slot({ start: fromNow(200) });
    const cases: [string, string, string][] = [
      [past.id, jane, 'BAD_USER_INPUT'],
      [far.id, jane, 'BAD_USER_INPUT'],
      ['sl-unknown', jane, 'NOT_FOUND'],
      ['not an id', jane, 'BAD_USER_INPUT'],
      [far.id, await alexToken(stack), 'FORBIDDEN'],
    ];
    for (const [slotId, token, code] of cases) expect(codes(await stack.query(operation('BookAppointment'), { slotId }, token))).toEqual([code]);
    expect(codes(await stack.query(operation('BookAppointment'), { slotId: far.id }))).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses a second appointment at the same time with CONFLICT', async () => {
    const id = uniqueId('pt');
    await seedIdentityPatient(stack.subgraphs.identity.database.dataSource, { patientId: id, count: 0, username: id, password: 'Synthetic-Password-1' });
    const token = await stack.tokenFor({ personId: id, role: 'PATIENT', accountId: `ac-${id}` });
    const a = await make.slot({ start: fromNow(90) });
    const b = await make.slot({ start: fromNow(90, 10), practitionerId: uniqueId('pr') });
    expect((await stack.query(operation('BookAppointment'), { slotId: a.id }, token)).errors).toBeUndefined();
    const res = await stack.query(operation('BookAppointment'), { slotId: b.id }, token);
    expect(codes(res)).toEqual(['CONFLICT']);
    expect(res.errors?.[0].message).toMatch(/already have an appointment at that time/);
  });
});

describe('a practitioner’s day through the gateway', () => {
  it('shows Alex his schedule with the patients’ names, and lets him check a patient in', async () => {
    const alex = await alexToken(stack);
    const patient = await stack.tokenFor({ personId: DEMO.john, accountId: 'ac-john-roe', role: 'PATIENT' });
    const soon = await make.slot({ start: fromNow(0, 40) });
    const booked = (await stack.query(operation('BookAppointment'), { slotId: soon.id }, patient)).data.bookAppointment;
    const SCHEDULE = `query($from: DateTime!, $to: DateTime!) { me { practitioner { id schedule(from: $from, to: $to) { id status start patient { id name { family } } } } } }`;
    const res = await stack.query(SCHEDULE, { from: new Date().toISOString(), to: fromNow(14).toISOString() }, alex);
    expect(res.errors).toBeUndefined();
    const schedule = res.data.me.practitioner.schedule;
    expect(schedule[0]).toEqual({ id: booked.id, status: 'BOOKED', start: soon.startAt, patient: { id: DEMO.john, name: { family: 'Roe' } } });
    expect(schedule.map((a: any) => a.id)).toContain('ap-jane-upcoming-1');

    const STATUS = `mutation($id: ID!, $status: AppointmentStatus!) { updateAppointmentStatus(input: { appointmentId: $id, status: $status }) { id status cancellable } }`;
    expect((await stack.query(STATUS, { id: booked.id, status: 'CHECKED_IN' }, alex)).data.updateAppointmentStatus).toEqual({ id: booked.id, status: 'CHECKED_IN', cancellable: false });
    const early = await stack.query(STATUS, { id: 'ap-jane-upcoming-1', status: 'CHECKED_IN' }, alex);
    expect(codes(early)).toEqual(['CONFLICT']);
    const cancel = await stack.query(operation('CancelAppointment'), { appointmentId: booked.id }, patient);
    expect(cancel.errors?.[0].message).toMatch(/checked in/);
    const notHis = await stack.query(SCHEDULE, { from: new Date().toISOString(), to: fromNow(1).toISOString() }, jane);
    expect(notHis.data.me.practitioner).toBeNull();
  });
});
