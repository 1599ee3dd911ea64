import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '@portal/kit/testing';
import { SchedulingStore } from './db/store';
import { fromNow, schedulingFactory, uniqueId, type SchedulingFactory } from './factories';
import { createSchedulingModule } from './module';
import { seedDemo } from './seed';

const SCHEDULE = `query($r: [_Any!]!, $from: DateTime!, $to: DateTime!) { _entities(representations: $r) { ... on Practitioner {
  id schedule(from: $from, to: $to) { id status start appointmentType cancellable patient { id } clinic { name } } } } }`;
const STATUS = `mutation($id: ID!, $status: AppointmentStatus!) { updateAppointmentStatus(input: { appointmentId: $id, status: $status }) { id status cancellable } }`;
const APPOINTMENT = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Appointment { id status patient { id } } } }`;

let t: TestSubgraph;
let make: SchedulingFactory;
let store: SchedulingStore;

beforeAll(async () => {
  t = await startTestSubgraph(createSchedulingModule(), { careAccess: { [DEMO.alex]: [DEMO.jane, DEMO.john] } });
  await seedDemo(t.server.database.dataSource);
  make = schedulingFactory(t.server.database.dataSource);
  store = new SchedulingStore(t.server.database.dataSource);
});
afterAll(async () => {
  await t?.stop();
});

const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
const practitioner = (id: string) => [{ __typename: 'Practitioner', id }];

/** A practitioner of their own (no care team), with a token. */
async function newPractitioner() {
  const id = uniqueId('pr');
  return { id, token: await t.token({ personId: id, role: 'PRACTITIONER' }) };
}

describe('Practitioner.schedule', () => {
  it('lists the practitioner’s own appointments in the range soonest first, leaving out cancelled ones', async () => {
    const pr = await newPractitioner();
    const [p1, p2] = [uniqueId('pt'), uniqueId('pt')];
    const later = await make.appointment({ patientId: p1, practitionerId: pr.id, start: fromNow(2) });
    const sooner = await make.appointment({ patientId: p2, practitionerId: pr.id, start: fromNow(1), status: 'CHECKED_IN' });
    const past = await make.appointment({ patientId: p2, practitionerId: pr.id, start: fromNow(-1), status: 'FULFILLED' });
    await make.appointment({ patientId: p1, practitionerId: pr.id, start: fromNow(1, 60), status: 'CANCELLED' });
    await make.appointment({ patientId: p1, practitionerId: pr.id, start: fromNow(10) });
    await make.appointment({ patientId: p1, start: fromNow(1, 30) }); // Alex's
    const res = await gql(t.url, SCHEDULE, { r: practitioner(pr.id), from: fromNow(-2).toISOString(), to: fromNow(5).toISOString() }, pr.token);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0].schedule.map((a: any) => [a.id, a.status, a.patient.id])).toEqual([
      [past.id, 'FULFILLED', p2],
      [sooner.id, 'CHECKED_IN', p2],
      [later.id, 'BOOKED', p1],
    ]);
    expect(res.data._entities[0].schedule[2]).toMatchObject({ cancellable: true, clinic: { name: 'Family Health Clinic' }, appointmentType: 'PRIMARY_CARE' });
  });

  it('is for the practitioner themself only', async () => {
    const pr = await newPractitioner();
    await make.appointment({ patientId: DEMO.jane, practitionerId: pr.id, start: fromNow(1) });
    const vars = { r: practitioner(pr.id), from: fromNow(0).toISOString(), to: fromNow(3).toISOString() };
    const others = [
      await t.token({ personId: DEMO.alex, role: 'PRACTITIONER' }),
      await t.token({ personId: DEMO.jane, role: 'PATIENT' }),
      await t.token({ personId: pr.id, role: 'PATIENT' }),
      await t.token({ personId: DEMO.sam, role: 'PHARMACIST' }),
    ];
    for (const token of others) {
      const res = await gql(t.url, SCHEDULE, vars, token);
      expect(codes(res)).toEqual(['FORBIDDEN']);
      expect(JSON.stringify(res.data)).not.toContain(DEMO.jane);
    }
    expect(codes(await gql(t.url, SCHEDULE, vars))).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses ranges the wrong way round or longer than 31 days', async () => {
    const pr = await newPractitioner();
    const wrong = await gql(t.url, SCHEDULE, { r: practitioner(pr.id), from: fromNow(2).toISOString(), to: fromNow(1).toISOString() }, pr.token);
    expect([codes(wrong), wrong.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'to']);
    const long = await gql(t.url, SCHEDULE, { r: practitioner(pr.id), from: fromNow(0).toISOString(), to: fromNow(32).toISOString() }, pr.token);
    expect(long.errors?.[0].message).toMatch(/31 days/);
  });

  it('audits a read of each patient on the schedule', async () => {
    const pr = await newPractitioner();
    const [p1, p2] = [uniqueId('pt'), uniqueId('pt')];
    for (const [p, d] of [[p1, 1], [p2, 2], [p1, 3]] as const) await make.appointment({ patientId: p, practitionerId: pr.id, start: fromNow(d) });
    await gql(t.url, SCHEDULE, { r: practitioner(pr.id), from: fromNow(0).toISOString(), to: fromNow(4).toISOString() }, pr.token, { 'x-request-id': `req-sched-${pr.id}` });
    const rows = await t.server.database.dataSource.query(
      `SELECT patient_id, action, outcome FROM audit_event WHERE request_id = 'req-sched-${pr.id}' ORDER BY patient_id`,
    );
    expect(rows).toEqual([p1, p2].sort().map((patient_id) => ({ patient_id, action: 'read', outcome: 'ALLOWED' })));
  });

  it('runs the same number of statements for 3 appointments as for 150', async () => {
    const run = async (count: number) => {
      const pr = await newPractitioner();
      for (let i = 0; i < count; i++) await make.appointment({ patientId: uniqueId('pt'), practitionerId: pr.id, start: fromNow(1, i * 30) });
      t.resetStatements();
      const res = await gql(t.url, SCHEDULE, { r: practitioner(pr.id), from: fromNow(0).toISOString(), to: fromNow(10).toISOString() }, pr.token);
      expect(res.data._entities[0].schedule).toHaveLength(count);
      return t.statements();
    };
    const few = await run(3);
    const many = await run(150);
    expect(many).toBe(few);
    // schedule, clinics (one id), audit insert
    expect(few).toBe(3);
  });
});

describe('updateAppointmentStatus', () => {
  it('checks in from an hour before the start, then marks fulfilled once started', async () => {
    const pr = await newPractitioner();
    const soon = await make.appointment({ patientId: uniqueId('pt'), practitionerId: pr.id, start: fromNow(0, 45) });
    const checkedIn = await gql(t.url, STATUS, { id: soon.id, status: 'CHECKED_IN' }, pr.token);
    expect(checkedIn.data.updateAppointmentStatus).toEqual({ id: soon.id, status: 'CHECKED_IN', cancellable: false });
    const early = await gql(t.url, STATUS, { id: soon.id, status: 'FULFILLED' }, pr.token);
    expect(codes(early)).toEqual(['CONFLICT']);
    expect(early.errors?.[0].message).toBe('This appointment cannot be marked FULFILLED: it has not started yet.');

    const started = await make.appointment({ patientId: uniqueId('pt'), practitionerId: pr.id, start: fromNow(0, -10), status: 'CHECKED_IN' });
    expect((await gql(t.url, STATUS, { id: started.id, status: 'FULFILLED' }, pr.token)).data.updateAppointmentStatus.status).toBe('FULFILLED');
    expect((await store.appointmentById(started.id))!.status).toBe('FULFILLED');
  });

  it('refuses a check-in too early, a no-show before the start, and any change of a final status', async () => {
    const pr = await newPractitioner();
    const tomorrow = await make.appointment({ patientId: uniqueId('pt'), practitionerId: pr.id, start: fromNow(1) });
    const tooEarly = await gql(t.url, STATUS, { id: tomorrow.id, status: 'CHECKED_IN' }, pr.token);
    expect(tooEarly.errors?.[0].message).toMatch(/check-in opens 60 minutes before the start/);
    expect(codes(await gql(t.url, STATUS, { id: tomorrow.id, status: 'NO_SHOW' }, pr.token))).toEqual(['CONFLICT']);
    for (const status of ['FULFILLED', 'NO_SHOW', 'CANCELLED'] as const) {
      const row = await make.appointment({ patientId: uniqueId('pt'), practitionerId: pr.id, start: fromNow(0, -90), status });
      const res = await gql(t.url, STATUS, { id: row.id, status: status === 'FULFILLED' ? 'NO_SHOW' : 'FULFILLED' }, pr.token);
      expect(codes(res)).toEqual(['CONFLICT']);
      expect((await store.appointmentById(row.id))!.status).toBe(status);
    }
    expect((await store.appointmentById(tomorrow.id))!.status).toBe('BOOKED');
  });

  it('marks a booked appointment that started without the patient a no-show, and answers a repeat unchanged', async () => {
    const pr = await newPractitioner();
    const row = await make.appointment({ patientId: uniqueId('pt'), practitionerId: pr.id, start: fromNow(0, -20) });
    expect((await gql(t.url, STATUS, { id: row.id, status: 'NO_SHOW' }, pr.token)).data.updateAppointmentStatus.status).toBe('NO_SHOW');
    expect((await gql(t.url, STATUS, { id: row.id, status: 'NO_SHOW' }, pr.token)).data.updateAppointmentStatus.status).toBe('NO_SHOW');
  });

  it('takes only CHECKED_IN, FULFILLED and NO_SHOW', async () => {
    const pr = await newPractitioner();
    const row = await make.appointment({ patientId: uniqueId('pt'), practitionerId: pr.id, start: fromNow(0, 10) });
    for (const status of ['BOOKED', 'CANCELLED']) {
      const res = await gql(t.url, STATUS, { id: row.id, status }, pr.token);
      expect([codes(res), res.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'status']);
    }
    expect(codes(await gql(t.url, STATUS, { id: row.id, status: 'DONE' }, pr.token))).toEqual(['BAD_USER_INPUT']);
  });

  it('is for the appointment’s own practitioner: another practitioner gets NOT_FOUND, patients and pharmacists FORBIDDEN', async () => {
    const [pr, other] = [await newPractitioner(), await newPractitioner()];
    const patient = uniqueId('pt');
    const row = await make.appointment({ patientId: patient, practitionerId: pr.id, start: fromNow(0, 10) });
    const theirs = await gql(t.url, STATUS, { id: row.id, status: 'CHECKED_IN' }, other.token);
    const missing = await gql(t.url, STATUS, { id: 'ap-missing', status: 'CHECKED_IN' }, other.token);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs.errors?.[0].message).toBe(missing.errors?.[0].message);
    for (const token of [await t.token({ personId: patient, role: 'PATIENT' }), await t.token({ personId: DEMO.sam, role: 'PHARMACIST' })]) {
      expect(codes(await gql(t.url, STATUS, { id: row.id, status: 'CHECKED_IN' }, token))).toEqual(['FORBIDDEN']);
    }
    expect(codes(await gql(t.url, STATUS, { id: row.id, status: 'CHECKED_IN' }))).toEqual(['UNAUTHENTICATED']);
    expect((await store.appointmentById(row.id))!.status).toBe('BOOKED');
  });

  it('audits the change as an update, and another practitioner’s attempt as denied', async () => {
    const [pr, other] = [await newPractitioner(), await newPractitioner()];
    const patient = uniqueId('pt');
    const row = await make.appointment({ patientId: patient, practitionerId: pr.id, start: fromNow(0, 10) });
    await gql(t.url, STATUS, { id: row.id, status: 'CHECKED_IN' }, other.token, { 'x-request-id': `req-st-denied-${patient}` });
    await gql(t.url, STATUS, { id: row.id, status: 'CHECKED_IN' }, pr.token, { 'x-request-id': `req-st-allowed-${patient}` });
    const rows = await t.server.database.dataSource.query(
      `SELECT request_id, patient_id, action, outcome, actor_person_id FROM audit_event WHERE request_id LIKE 'req-st-%-${patient}' ORDER BY request_id`,
    );
    expect(rows).toEqual([
      { request_id: `req-st-allowed-${patient}`, patient_id: patient, action: 'update', outcome: 'ALLOWED', actor_person_id: pr.id },
      { request_id: `req-st-denied-${patient}`, patient_id: patient, action: 'update', outcome: 'DENIED', actor_person_id: other.id },
    ]);
  });
});

describe('an appointment looked up by its own practitioner', () => {
  it('is visible to them even outside their care teams, and to no other practitioner', async () => {
    const [pr, other] = [await newPractitioner(), await newPractitioner()];
    const row = await make.appointment({ patientId: uniqueId('pt'), practitionerId: pr.id, start: fromNow(3) });
    const mine = await gql(t.url, APPOINTMENT, { r: [{ __typename: 'Appointment', id: row.id }] }, pr.token);
    expect(mine.data._entities).toEqual([{ id: row.id, status: 'BOOKED', patient: { id: row.patientId } }]);
    const theirs = await gql(t.url, APPOINTMENT, { r: [{ __typename: 'Appointment', id: row.id }] }, other.token);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs.data._entities).toEqual([null]);
  });
});
