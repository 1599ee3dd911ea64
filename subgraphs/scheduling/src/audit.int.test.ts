/**
 * Scheduling's changes and their audit rows commit together: with audit_event
 * refusing inserts, a booking, a cancellation and a status change store nothing.
 */
import { DEMO } from '@portal/demo';
import { gql, refuseAuditInserts, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { fromNow, schedulingFactory, uniqueId, type SchedulingFactory } from './factories';
import { createSchedulingModule } from './module';
import { seedDemo } from './seed';

let t: TestSubgraph;
let make: SchedulingFactory;
const db = () => t.server.database.dataSource;
const statusOf = async (id: string) => (await db().query(`SELECT status FROM appointment WHERE id = '${id}'`))[0]?.status;
const codes = (res: { errors?: { extensions?: { code?: string } }[] }) => res.errors?.map((e) => e.extensions?.code);

beforeAll(async () => {
  t = await startTestSubgraph(createSchedulingModule(), { careAccess: { [DEMO.alex]: [] } });
  await seedDemo(db());
  make = schedulingFactory(db());
});
afterAll(async () => {
  await t?.stop();
});

it('rolls back a booking, a cancellation and a status change whose audit rows cannot be written', async () => {
  const patient = uniqueId('pt');
  const token = await t.token({ personId: patient });
  const alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER' });
  const free = await make.slot({ start: fromNow(3) });
  const booked = await make.appointment({ patientId: patient, start: fromNow(5) });
  const started = await make.appointment({ patientId: patient, start: fromNow(0, -10), minutes: 60 });
  const allow = await refuseAuditInserts(db());
  try {
    const book = await gql(t.url, `mutation($s: ID!) { bookAppointment(input: { slotId: $s }) { id } }`, { s: free.id }, token);
    expect(codes(book)).toEqual(['INTERNAL_SERVER_ERROR']);
    const cancel = await gql(t.url, `mutation($id: ID!) { cancelAppointment(input: { appointmentId: $id }) { id } }`, { id: booked.id }, token);
    expect(codes(cancel)).toEqual(['INTERNAL_SERVER_ERROR']);
    const status = await gql(t.url, `mutation($id: ID!) { updateAppointmentStatus(input: { appointmentId: $id, status: FULFILLED }) { id } }`, { id: started.id }, alex);
    expect(codes(status)).toEqual(['INTERNAL_SERVER_ERROR']);
  } finally {
    await allow();
  }
  expect(Number((await db().query(`SELECT COUNT(*) AS "n" FROM appointment WHERE slot_id = '${free.id}'`))[0].n)).toBe(0);
  expect(await statusOf(booked.id)).toBe('BOOKED');
  expect(await statusOf(started.id)).toBe('BOOKED');

  const ok = await gql(t.url, `mutation($s: ID!) { bookAppointment(input: { slotId: $s }) { id } }`, { s: free.id }, token, { 'x-request-id': `req-book-${patient}` });
  expect(ok.errors).toBeUndefined();
  expect(await db().query(`SELECT record_kind, action, outcome FROM audit_event WHERE request_id = 'req-book-${patient}'`)).toEqual([
    { record_kind: 'appointment', action: 'create', outcome: 'ALLOWED' },
  ]);
});
