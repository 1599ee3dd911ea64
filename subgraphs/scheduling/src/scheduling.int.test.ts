import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { localDate } from './services/clinicTime';
import { createSchedulingModule } from './module';
import { seedDemo, seedScalePatient } from './seed';

const OTHER_PRACTITIONER = 'pr-2999999999';
const SCALE_FEW = 'pt-scale-few';
const SCALE_MANY = 'pt-scale-many';

const APPOINTMENT_FIELDS = `id start end status appointmentType reason cancellable
  clinic { id name timeZone } practitioner { id } patient { id } cancellation { reason cancelledAt cancelledBy }`;
const UPCOMING = `query($r: [_Any!]!, $first: Int) { _entities(representations: $r) { ... on Patient { id upcomingAppointments(first: $first) { ${APPOINTMENT_FIELDS} } } } }`;
const APPOINTMENTS = `query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) { ... on Patient { id
  appointments(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${APPOINTMENT_FIELDS} } } } } } }`;
const APPOINTMENT = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Appointment { ${APPOINTMENT_FIELDS} } } }`;
const BOTH_LISTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id
  upcomingAppointments(first: 100) { id start cancellable clinic { name } }
  appointments(first: 100) { totalCount edges { node { id status cancellable clinic { id name phone } cancellation { reason } } } } } } }`;

const patient = (id: string) => [{ __typename: 'Patient', id }];

/**
 * A refused entity without its null fields. The fields a subgraph adds to
 * another's entity are nullable (an outage of one subgraph costs only its
 * section), so a refusal nulls them, not the entity: what is left is at most
 * the key the caller sent.
 */
const refused = (entity: Record<string, unknown> | null) => entity && Object.fromEntries(Object.entries(entity).filter(([, v]) => v !== null));
const appointment = (id: string) => [{ __typename: 'Appointment', id }];

let t: TestSubgraph;
let jane: string;
let john: string;

beforeAll(async () => {
  t = await startTestSubgraph(createSchedulingModule(), {
    careAccess: { [DEMO.alex]: [DEMO.jane, DEMO.john, SCALE_FEW, SCALE_MANY] },
  });
  const db = t.server.database.dataSource;
  await seedDemo(db);
  await seedScalePatient(db, { patientId: SCALE_FEW, count: 3 });
  await seedScalePatient(db, { patientId: SCALE_MANY, count: 200 });
  jane = await t.token({ personId: DEMO.jane, accountId: 'ac-jane-doe' });
  john = await t.token({ personId: DEMO.john, accountId: 'ac-john-roe' });
});
afterAll(async () => {
  await t?.stop();
});

describe('clinics', () => {
  it('lists the clinics by name for a signed-in viewer', async () => {
    const res = await gql(t.url, '{ clinics { id name timeZone phone appointmentTypes } }', {}, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.clinics).toEqual([
      { id: 'cl-behavioral-health', name: 'Behavioral Health Clinic', timeZone: 'America/New_York', phone: '(757) 555-0163', appointmentTypes: ['BEHAVIORAL_HEALTH'] },
      { id: 'cl-eye', name: 'Eye Clinic', timeZone: 'America/Chicago', phone: '(210) 555-0187', appointmentTypes: ['OPTOMETRY'] },
      { id: DEMO.familyHealthClinic, name: 'Family Health Clinic', timeZone: 'America/New_York', phone: '(757) 555-0142', appointmentTypes: ['PRIMARY_CARE', 'FOLLOW_UP', 'IMMUNIZATION'] },
    ]);
  });

  it('refuses a caller without a token', async () => {
    const res = await gql(t.url, '{ clinics { id } }');
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data).toBeNull();
  });

  it('resolves a clinic reference', async () => {
    const res = await gql(t.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Clinic { id name } } }`, { r: [{ __typename: 'Clinic', id: DEMO.familyHealthClinic }] }, jane);
    expect(res.data._entities).toEqual([{ id: DEMO.familyHealthClinic, name: 'Family Health Clinic' }]);
  });
});

describe('a patient’s own appointments', () => {
  it('lists Jane’s upcoming appointments soonest first, cancellable, with clinic and practitioner', async () => {
    const res = await gql(t.url, UPCOMING, { r: patient(DEMO.jane) }, jane);
    expect(res.errors).toBeUndefined();
    const list = res.data._entities[0].upcomingAppointments;
    expect(list.map((a: any) => a.id)).toEqual(['ap-jane-upcoming-1', 'ap-jane-upcoming-2']);
    expect(Date.parse(list[0].start)).toBeLessThan(Date.parse(list[1].start));
    expect(Date.parse(list[0].start)).toBeGreaterThan(Date.now() + 4 * 86_400_000);
    expect(list[0]).toMatchObject({
      status: 'BOOKED',
      appointmentType: 'PRIMARY_CARE',
      reason: 'Annual physical',
      cancellable: true,
      clinic: { id: DEMO.familyHealthClinic, name: 'Family Health Clinic', timeZone: 'America/New_York' },
      practitioner: { id: DEMO.alex },
      patient: { id: DEMO.jane },
      cancellation: null,
    });
    expect(Date.parse(list[0].end) - Date.parse(list[0].start)).toBe(30 * 60_000);
  });

  it('honours first on upcoming appointments and refuses a size out of range', async () => {
    const one = await gql(t.url, UPCOMING, { r: patient(DEMO.jane), first: 1 }, jane);
    expect(one.data._entities[0].upcomingAppointments.map((a: any) => a.id)).toEqual(['ap-jane-upcoming-1']);
    const bad = await gql(t.url, UPCOMING, { r: patient(DEMO.jane), first: 101 }, jane);
    expect(bad.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('pages through every appointment newest first with a stable total and no duplicates', async () => {
    const seen: string[] = [];
    const totals: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: any = await gql(t.url, APPOINTMENTS, { r: patient(DEMO.jane), first: 2, after }, jane);
      expect(res.errors).toBeUndefined();
      const conn = res.data._entities[0].appointments;
      totals.push(conn.totalCount);
      seen.push(...conn.edges.map((e: any) => e.node.id));
      expect(conn.pageInfo.endCursor).toBe(conn.edges[conn.edges.length - 1].cursor);
      pages++;
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(totals).toEqual([5, 5, 5]);
    expect(seen).toEqual(['ap-jane-upcoming-2', 'ap-jane-upcoming-1', 'ap-jane-past-1', 'ap-jane-cancelled-1', 'ap-jane-past-2']);
  });

  it('shows past and cancelled appointments as not cancellable, with who cancelled and why', async () => {
    const res = await gql(t.url, APPOINTMENTS, { r: patient(DEMO.jane), first: 10 }, jane);
    const byId = new Map<string, any>(res.data._entities[0].appointments.edges.map((e: any) => [e.node.id, e.node]));
    expect(byId.get('ap-jane-past-1')).toMatchObject({ status: 'FULFILLED', cancellable: false, appointmentType: 'PRIMARY_CARE', cancellation: null });
    expect(byId.get('ap-jane-past-2')).toMatchObject({ status: 'FULFILLED', cancellable: false, appointmentType: 'FOLLOW_UP' });
    const cancelled = byId.get('ap-jane-cancelled-1');
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancellable: false, cancellation: { reason: 'Schedule conflict', cancelledBy: 'ac-jane-doe' } });
    expect(Date.parse(cancelled.cancellation.cancelledAt)).toBeLessThan(Date.parse(cancelled.start));
  });

  it('keeps an appointment that has started in upcoming until it ends, but no longer cancellable', async () => {
    const db = t.server.database.dataSource;
    const start = new Date(Date.now() - 10 * 60_000).toISOString();
    const end = new Date(Date.now() + 20 * 60_000).toISOString();
    const ended = new Date(Date.now() - 60_000).toISOString();
    await db.getRepository('Appointment').insert([
      { id: 'ap-now-1', slotId: null, patientId: 'pt-now', practitionerId: DEMO.alex, clinicId: DEMO.familyHealthClinic, appointmentType: 'PRIMARY_CARE', startAt: start, endAt: end, status: 'BOOKED', reason: null, createdAt: start, cancelledAt: null, cancelledBy: null, cancelReason: null, idempotencyKey: null },
      { id: 'ap-now-0', slotId: null, patientId: 'pt-now', practitionerId: DEMO.alex, clinicId: DEMO.familyHealthClinic, appointmentType: 'PRIMARY_CARE', startAt: start, endAt: ended, status: 'BOOKED', reason: null, createdAt: start, cancelledAt: null, cancelledBy: null, cancelReason: null, idempotencyKey: null },
    ]);
    const token = await t.token({ personId: 'pt-now' });
    const res = await gql(t.url, UPCOMING, { r: patient('pt-now') }, token);
    expect(res.data._entities[0].upcomingAppointments.map((a: any) => [a.id, a.cancellable])).toEqual([['ap-now-1', false]]);
  });

  it('resolves Jane’s own appointment by id', async () => {
    const res = await gql(t.url, APPOINTMENT, { r: appointment('ap-jane-past-1') }, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0]).toMatchObject({ id: 'ap-jane-past-1', status: 'FULFILLED', patient: { id: DEMO.jane }, clinic: { name: 'Family Health Clinic' } });
  });

  it('lists John’s records from before MHS GENESIS with his upcoming one', async () => {
    const res = await gql(t.url, APPOINTMENTS, { r: patient(DEMO.john), first: 10 }, john);
    const nodes = res.data._entities[0].appointments.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => [n.id, n.start, n.status])).toEqual([
      ['ap-john-upcoming-1', expect.any(String), 'BOOKED'],
      ['ap-john-2021', '2021-09-20T15:00:00.000Z', 'FULFILLED'],
      ['ap-john-2010', '2010-03-15T14:00:00.000Z', 'FULFILLED'],
    ]);
  });
});

describe('who may see appointments', () => {
  it('refuses Jane’s appointments to John with FORBIDDEN and none of her data', async () => {
    for (const query of [UPCOMING, APPOINTMENTS]) {
      const res = await gql(t.url, query, { r: patient(DEMO.jane) }, john);
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(res.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
      expect(JSON.stringify(res)).not.toContain('ap-jane');
    }
  });

  it('answers John’s lookup of Jane’s appointment exactly like a missing one', async () => {
    const other = await gql(t.url, APPOINTMENT, { r: appointment('ap-jane-past-1') }, john);
    const missing = await gql(t.url, APPOINTMENT, { r: appointment('ap-does-not-exist') }, john);
    expect(other.data._entities).toEqual([null]);
    expect(other.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(other.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect(missing.data._entities).toEqual([null]);
    expect(JSON.stringify(other)).not.toMatch(/Cough|FULFILLED|Family Health/);
  });

  it('gives a caller without a token UNAUTHENTICATED and no data, also through _entities', async () => {
    for (const [query, r] of [
      [UPCOMING, patient(DEMO.jane)],
      [APPOINTMENTS, patient(DEMO.jane)],
      [APPOINTMENT, appointment('ap-jane-past-1')],
      [BOTH_LISTS, patient(DEMO.jane)],
    ] as const) {
      const res = await gql(t.url, query, { r });
      expect(res.errors?.length).toBeGreaterThan(0);
      expect(res.errors?.every((e) => e.extensions?.code === 'UNAUTHENTICATED')).toBe(true);
      // A Patient echoes the id sent; an Appointment (scheduling's own, its fields non-null) is null whole.
      expect((res.data?._entities ?? [null]).map(refused)).toEqual([r[0].__typename === 'Patient' ? { id: DEMO.jane } : null]);
      expect(JSON.stringify(res)).not.toContain('ap-jane');
    }
  });

  it('lets a practitioner of the care team see a patient’s appointments, but not one outside it or a pharmacist', async () => {
    const alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER' });
    const ok = await gql(t.url, UPCOMING, { r: patient(DEMO.jane) }, alex);
    expect(ok.data._entities[0].upcomingAppointments.map((a: any) => a.id)).toEqual(['ap-jane-upcoming-1', 'ap-jane-upcoming-2']);
    const stranger = await t.token({ personId: OTHER_PRACTITIONER, role: 'PRACTITIONER' });
    expect((await gql(t.url, UPCOMING, { r: patient(DEMO.jane) }, stranger)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const pharmacist = await t.token({ personId: DEMO.sam, role: 'PHARMACIST' });
    expect((await gql(t.url, APPOINTMENT, { r: appointment('ap-jane-past-1') }, pharmacist)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('audits reads and refusals once per patient per request, with no health data', async () => {
    await gql(t.url, BOTH_LISTS, { r: patient(DEMO.jane) }, jane, { 'x-request-id': 'req-sched-allowed' });
    await gql(t.url, UPCOMING, { r: patient(DEMO.jane) }, john, { 'x-request-id': 'req-sched-denied' });
    const rows = await t.server.database.dataSource.query(
      `SELECT request_id, patient_id, record_kind, action, outcome, actor_person_id FROM audit_event WHERE request_id IN ('req-sched-allowed', 'req-sched-denied') ORDER BY request_id`,
    );
    expect(rows).toEqual([
      { request_id: 'req-sched-allowed', patient_id: DEMO.jane, record_kind: 'appointment', action: 'read', outcome: 'ALLOWED', actor_person_id: DEMO.jane },
      { request_id: 'req-sched-denied', patient_id: DEMO.jane, record_kind: 'appointment', action: 'read', outcome: 'DENIED', actor_person_id: DEMO.john },
    ]);
  });

  it('refuses a cursor it did not give out', async () => {
    const res = await gql(t.url, APPOINTMENTS, { r: patient(DEMO.jane), after: 'not-a-cursor' }, jane);
    expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('batching', () => {
  it('runs the same number of statements for 3 appointments as for 200', async () => {
    const run = async (patientId: string) => {
      const token = await t.token({ personId: patientId });
      t.resetStatements();
      const res = await gql(t.url, BOTH_LISTS, { r: patient(patientId) }, token);
      expect(res.errors).toBeUndefined();
      return { statements: t.statements(), data: res.data._entities[0] };
    };
    const few = await run(SCALE_FEW);
    const many = await run(SCALE_MANY);
    expect(few.data.upcomingAppointments).toHaveLength(3);
    expect(few.data.appointments.totalCount).toBe(3);
    expect(many.data.upcomingAppointments).toHaveLength(100);
    expect(many.data.appointments.totalCount).toBe(200);
    expect(many.data.appointments.edges).toHaveLength(100);
    expect(many.statements).toBe(few.statements);
    // upcoming page, appointments page, count, clinics (one id, cached), audit insert
    expect(few.statements).toBe(5);
  });

  it('answers several patients in one request with one statement per list', async () => {
    const alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER' });
    t.resetStatements();
    const res = await gql(t.url, BOTH_LISTS, { r: [...patient(DEMO.jane), ...patient(DEMO.john), ...patient(SCALE_FEW)] }, alex);
    const statements = t.statements();
    expect(res.errors).toBeUndefined();
    const [j, jo, s] = res.data._entities;
    expect(j.upcomingAppointments.map((a: any) => a.id)).toEqual(['ap-jane-upcoming-1', 'ap-jane-upcoming-2']);
    expect(jo.upcomingAppointments.map((a: any) => a.id)).toEqual(['ap-john-upcoming-1']);
    expect([j.appointments.totalCount, jo.appointments.totalCount, s.appointments.totalCount]).toEqual([5, 3, 3]);
    expect(s.appointments.edges.length).toBeGreaterThan(0);
    expect(s.appointments.edges.every((e: any) => e.node.status === 'BOOKED')).toBe(true);
    t.resetStatements();
    await gql(t.url, BOTH_LISTS, { r: patient(DEMO.jane) }, alex);
    expect(statements).toBe(t.statements());
  });
});

describe('demo seed', () => {
  it('gives Alex Kim free PRIMARY_CARE slots on weekdays 09:00-11:30 New York time for at least 60 days', async () => {
    const rows: { start_at: string; end_at: string }[] = await t.server.database.dataSource.query(
      `SELECT s.start_at, s.end_at FROM slot s
        WHERE s.practitioner_id = '${DEMO.alex}' AND s.appointment_type = 'PRIMARY_CARE' AND s.start_at > '${new Date().toISOString()}'
          AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.slot_id = s.id AND a.status <> 'CANCELLED')
        ORDER BY s.start_at`,
    );
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    const times = new Set<string>();
    for (const r of rows) {
      const parts = Object.fromEntries(fmt.formatToParts(new Date(r.start_at)).map((p) => [p.type, p.value]));
      expect(['Mon', 'Tue', 'Wed', 'Thu', 'Fri']).toContain(parts.weekday);
      times.add(`${parts.hour}:${parts.minute}`);
      expect(Date.parse(r.end_at) - Date.parse(r.start_at)).toBe(30 * 60_000);
    }
    expect([...times].sort()).toEqual(['09:00', '09:30', '10:00', '10:30', '11:00', '11:30']);
    const lastDay = localDate(new Date(rows[rows.length - 1].start_at), 'America/New_York');
    expect(Date.parse(lastDay) - Date.parse(localDate(new Date(), 'America/New_York'))).toBeGreaterThanOrEqual(60 * 86_400_000);
  });

  it('does nothing when run again', async () => {
    const db = t.server.database.dataSource;
    const count = async () => Number((await db.query('SELECT COUNT(*) AS n FROM appointment'))[0].n) + Number((await db.query('SELECT COUNT(*) AS n FROM slot'))[0].n);
    const before = await count();
    await seedDemo(db);
    expect(await count()).toBe(before);
  });

  it('lets the database refuse a second active appointment on one slot, but not after a cancellation', async () => {
    const db = t.server.database.dataSource;
    const [held] = await db.query(`SELECT slot_id, start_at, end_at FROM appointment WHERE id = 'ap-jane-upcoming-1'`);
    const row = (id: string, status: string) => ({
      id, slotId: held.slot_id, patientId: DEMO.john, practitionerId: DEMO.alex, clinicId: DEMO.familyHealthClinic, appointmentType: 'PRIMARY_CARE',
      startAt: held.start_at, endAt: held.end_at, status, reason: null, createdAt: new Date().toISOString(), cancelledAt: null, cancelledBy: null, cancelReason: null, idempotencyKey: null,
    });
    const log = jest.spyOn(console, 'error').mockImplementation(() => {});
    await expect(db.getRepository('Appointment').insert(row('ap-double', 'BOOKED'))).rejects.toThrow(/unique/i);
    log.mockRestore();
    await db.getRepository('Appointment').insert(row('ap-cancelled-ok', 'CANCELLED'));
    expect(await db.query(`SELECT id, status FROM appointment WHERE slot_id = '${held.slot_id}' ORDER BY id`)).toEqual([
      { id: 'ap-cancelled-ok', status: 'CANCELLED' },
      { id: 'ap-jane-upcoming-1', status: 'BOOKED' },
    ]);
  });
});
