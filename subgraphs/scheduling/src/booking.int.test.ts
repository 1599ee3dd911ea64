import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '@portal/kit/testing';
import { SchedulingStore, slotUnavailable } from './db/store';
import { fromNow, schedulingFactory, uniqueId, type SchedulingFactory } from './factories';
import { createSchedulingModule } from './module';
import { seedDemo } from './seed';

const FIELDS = `id status start end appointmentType reason cancellable clinic { id name } practitioner { id } patient { id }
  cancellation { reason cancelledAt cancelledBy }`;
const SLOTS = `query($clinicId: ID!, $type: AppointmentType!, $from: DateTime!, $to: DateTime!) {
  availableSlots(clinicId: $clinicId, appointmentType: $type, from: $from, to: $to) { id start end appointmentType clinic { id } practitioner { id } } }`;
const BOOK = `mutation($slotId: ID!, $reason: String, $key: String) { bookAppointment(input: { slotId: $slotId, reason: $reason, idempotencyKey: $key }) { ${FIELDS} } }`;
const CANCEL = `mutation($id: ID!, $reason: String) { cancelAppointment(input: { appointmentId: $id, reason: $reason }) { ${FIELDS} } }`;
const RESCHEDULE = `mutation($id: ID!, $slotId: ID!) { rescheduleAppointment(input: { appointmentId: $id, slotId: $slotId }) { ${FIELDS} } }`;
const APPOINTMENT = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Appointment { ${FIELDS} } } }`;
const UPCOMING = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient {
  upcomingAppointments(first: 100) { id } appointments(first: 100) { totalCount edges { node { id status } } } } } }`;

let t: TestSubgraph;
let make: SchedulingFactory;
let db: SchedulingStore;

beforeAll(async () => {
  t = await startTestSubgraph(createSchedulingModule(), { careAccess: { [DEMO.alex]: [DEMO.jane, DEMO.john] } });
  await seedDemo(t.server.database.dataSource);
  make = schedulingFactory(t.server.database.dataSource);
  db = new SchedulingStore(t.server.database.dataSource);
});
afterAll(async () => {
  await t?.stop();
});

/** A patient of their own, with a token naming their account. */
async function newPatient() {
  const id = uniqueId('pt');
  const accountId = uniqueId('ac');
  return { id, accountId, token: await t.token({ personId: id, role: 'PATIENT', accountId }) };
}

const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
const book = (token: string, slotId: string, extra: { reason?: string | null; key?: string } = {}) => gql(t.url, BOOK, { slotId, ...extra }, token);
const appointmentRow = async (id: string) => (await db.appointmentById(id))!;
const countOf = async (patientId: string) =>
  Number((await t.server.database.dataSource.query(`SELECT COUNT(*) AS n FROM appointment WHERE patient_id = '${patientId}'`))[0].n);

describe('availableSlots', () => {
  it('lists free future slots of the clinic and type in the range, soonest first', async () => {
    const clinic = await make.clinic();
    const at = (days: number, minutes = 0, type = 'PRIMARY_CARE') => make.slot({ clinicId: clinic.id, start: fromNow(days, minutes), appointmentType: type });
    const later = await at(3);
    const sooner = await at(2);
    const taken = await at(2, 60);
    const freedAgain = await at(2, 120);
    await at(2, 30, 'FOLLOW_UP');
    await at(9); // outside the range
    await make.slot({ clinicId: clinic.id, start: fromNow(0, -60) }); // started an hour ago
    const p = await newPatient();
    expect((await book(p.token, taken.id)).errors).toBeUndefined();
    const cancelled = await make.appointment({ patientId: uniqueId('pt'), slotId: freedAgain.id, start: new Date(freedAgain.startAt), status: 'CANCELLED' });
    expect(cancelled.status).toBe('CANCELLED');

    const res = await gql(t.url, SLOTS, { clinicId: clinic.id, type: 'PRIMARY_CARE', from: fromNow(-1).toISOString(), to: fromNow(5).toISOString() }, p.token);
    expect(res.errors).toBeUndefined();
    expect(res.data.availableSlots.map((s: any) => s.id)).toEqual([sooner.id, freedAgain.id, later.id]);
    expect(res.data.availableSlots[0]).toEqual({
      id: sooner.id,
      start: sooner.startAt,
      end: sooner.endAt,
      appointmentType: 'PRIMARY_CARE',
      clinic: { id: clinic.id },
      practitioner: { id: DEMO.alex },
    });
  });

  it('counts the range as [from, to) and leaves out slots beyond the 180-day booking window', async () => {
    const clinic = await make.clinic();
    const inside = await make.slot({ clinicId: clinic.id, start: fromNow(179, 0) });
    await make.slot({ clinicId: clinic.id, start: fromNow(180, 60) });
    const p = await newPatient();
    const range = { clinicId: clinic.id, type: 'PRIMARY_CARE', from: fromNow(170).toISOString(), to: fromNow(190).toISOString() };
    expect((await gql(t.url, SLOTS, range, p.token)).data.availableSlots.map((s: any) => s.id)).toEqual([inside.id]);
    const edge = { ...range, from: inside.startAt, to: inside.endAt };
    expect((await gql(t.url, SLOTS, edge, p.token)).data.availableSlots.map((s: any) => s.id)).toEqual([inside.id]);
    const before = { ...range, from: fromNow(170).toISOString(), to: inside.startAt };
    expect((await gql(t.url, SLOTS, before, p.token)).data.availableSlots).toEqual([]);
  });

  it('stocks Family Health Clinic with weekday PRIMARY_CARE slots over the next weeks', async () => {
    const p = await newPatient();
    const res = await gql(t.url, SLOTS, { clinicId: DEMO.familyHealthClinic, type: 'PRIMARY_CARE', from: fromNow(0).toISOString(), to: fromNow(30).toISOString() }, p.token);
    const starts = res.data.availableSlots.map((s: any) => Date.parse(s.start));
    expect(starts.length).toBeGreaterThan(100);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    const days = new Set(res.data.availableSlots.map((s: any) => new Date(s.start).toLocaleDateString('en-US', { timeZone: 'America/New_York', weekday: 'short' })));
    expect([...days].sort()).toEqual(['Fri', 'Mon', 'Thu', 'Tue', 'Wed']);
  });

  it('refuses bad ranges, ids and types with a clear code and message', async () => {
    const p = await newPatient();
    const ok = { clinicId: DEMO.familyHealthClinic, type: 'PRIMARY_CARE', from: fromNow(1).toISOString(), to: fromNow(2).toISOString() };
    const cases: [Record<string, unknown>, string, string | undefined, RegExp][] = [
      [{ from: ok.to, to: ok.from }, 'BAD_USER_INPUT', 'to', /after from/],
      [{ to: ok.from }, 'BAD_USER_INPUT', 'to', /after from/],
      [{ to: fromNow(33).toISOString() }, 'BAD_USER_INPUT', 'to', /31 days/],
      [{ from: fromNow(-3).toISOString(), to: fromNow(-2).toISOString() }, 'BAD_USER_INPUT', 'to', /already passed/],
      [{ clinicId: 'cl-nowhere' }, 'NOT_FOUND', undefined, /Clinic was not found/],
      [{ clinicId: 'not a clinic!' }, 'BAD_USER_INPUT', 'clinicId', /clinicId is not a valid id/],
      [{ type: 'DENTAL' }, 'BAD_USER_INPUT', 'appointmentType', /Family Health Clinic does not offer DENTAL/],
    ];
    for (const [change, code, field, message] of cases) {
      const res = await gql(t.url, SLOTS, { ...ok, ...change }, p.token);
      expect([res.errors?.[0].extensions?.code, res.errors?.[0].extensions?.field]).toEqual([code, field]);
      expect(res.errors?.[0].message).toMatch(message);
      expect(res.data).toBeNull();
    }
    const badTime = await gql(t.url, SLOTS, { ...ok, from: 'tomorrow' }, p.token);
    expect(codes(badTime)).toEqual(['BAD_USER_INPUT']);
    expect(badTime.errors?.[0].message).toMatch(/ISO-8601/);
    const badType = await gql(t.url, SLOTS, { ...ok, type: 'SURGERY' }, p.token);
    expect(codes(badType)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers signed-in viewers only', async () => {
    const res = await gql(t.url, SLOTS, { clinicId: DEMO.familyHealthClinic, type: 'PRIMARY_CARE', from: fromNow(1).toISOString(), to: fromNow(2).toISOString() });
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.data).toBeNull();
  });
});

describe('bookAppointment', () => {
  it('books a free slot for the signed-in patient, takes it off the free list and lists it at once', async () => {
    const p = await newPatient();
    const slot = await make.slot({ start: fromNow(20, 17) });
    const res = await book(p.token, slot.id, { reason: '  Sore shoulder  ' });
    expect(res.errors).toBeUndefined();
    const a = res.data.bookAppointment;
    expect(a).toMatchObject({
      status: 'BOOKED',
      start: slot.startAt,
      end: slot.endAt,
      appointmentType: 'PRIMARY_CARE',
      reason: 'Sore shoulder',
      cancellable: true,
      clinic: { id: DEMO.familyHealthClinic, name: 'Family Health Clinic' },
      practitioner: { id: DEMO.alex },
      patient: { id: p.id },
      cancellation: null,
    });
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await db.slotHeld(slot.id)).toBe(true);
    const lists = await gql(t.url, UPCOMING, { r: [{ __typename: 'Patient', id: p.id }] }, p.token);
    expect(lists.data._entities[0].upcomingAppointments).toEqual([{ id: a.id }]);
    expect(lists.data._entities[0].appointments).toEqual({ totalCount: 1, edges: [{ node: { id: a.id, status: 'BOOKED' } }] });
  });

  it('audits the booking as a create by the patient', async () => {
    const p = await newPatient();
    const slot = await make.slot({ start: fromNow(21, 11) });
    await gql(t.url, BOOK, { slotId: slot.id }, p.token, { 'x-request-id': `req-book-${p.id}` });
    const rows = await t.server.database.dataSource.query(
      `SELECT patient_id, record_kind, action, outcome, actor_account_id FROM audit_event WHERE request_id = 'req-book-${p.id}'`,
    );
    expect(rows).toEqual([{ patient_id: p.id, record_kind: 'appointment', action: 'create', outcome: 'ALLOWED', actor_account_id: p.accountId }]);
  });

  it('refuses a slot someone holds with SLOT_UNAVAILABLE', async () => {
    const [first, second] = [await newPatient(), await newPatient()];
    const slot = await make.slot({ start: fromNow(22, 7) });
    expect((await book(first.token, slot.id)).errors).toBeUndefined();
    const res = await book(second.token, slot.id);
    expect(codes(res)).toEqual(['SLOT_UNAVAILABLE']);
    expect(res.errors?.[0].message).toMatch(/Choose another slot/);
    expect(res.data).toBeNull();
    expect(await countOf(second.id)).toBe(0);
  });

  it('refuses unknown and malformed slots, the past and beyond 180 days', async () => {
    const p = await newPatient();
    const past = await make.slot({ start: fromNow(0, -5) });
    const far = await make.slot({ start: fromNow(181) });
    const cases: [string, string, string | undefined, RegExp][] = [
      ['sl-does-not-exist', 'NOT_FOUND', undefined, /Slot was not found/],
      ["sl'; DROP TABLE slot; --", 'BAD_USER_INPUT', 'slotId', /not a valid id/],
      [past.id, 'BAD_USER_INPUT', 'slotId', /in the past/],
      [far.id, 'BAD_USER_INPUT', 'slotId', /180 days/],
    ];
    for (const [slotId, code, field, message] of cases) {
      const res = await book(p.token, slotId);
      expect([res.errors?.[0].extensions?.code, res.errors?.[0].extensions?.field]).toEqual([code, field]);
      expect(res.errors?.[0].message).toMatch(message);
    }
    expect(await countOf(p.id)).toBe(0);
  });

  it('refuses a slot overlapping one of the patient’s own appointments with CONFLICT, and allows it once that is cancelled', async () => {
    const p = await newPatient();
    const mine = await make.slot({ start: fromNow(23, 0) });
    const overlapping = await make.slot({ start: fromNow(23, -15), practitionerId: 'pr-other-overlap' });
    const adjacent = await make.slot({ start: fromNow(23, 30), practitionerId: 'pr-other-adjacent' });
    const first = await book(p.token, mine.id);
    const res = await book(p.token, overlapping.id);
    expect(codes(res)).toEqual(['CONFLICT']);
    expect(res.errors?.[0].message).toMatch(/already have an appointment at that time/);
    // Back to back is not an overlap.
    expect((await book(p.token, adjacent.id)).errors).toBeUndefined();
    expect((await gql(t.url, CANCEL, { id: first.data.bookAppointment.id }, p.token)).errors).toBeUndefined();
    expect((await book(p.token, overlapping.id)).errors).toBeUndefined();
  });

  it('takes a reason of up to 500 characters', async () => {
    const p = await newPatient();
    const [a, b, c] = [await make.slot({ start: fromNow(24, 0) }), await make.slot({ start: fromNow(24, 60) }), await make.slot({ start: fromNow(24, 120) })];
    const long = await book(p.token, a.id, { reason: 'x'.repeat(501) });
    expect([codes(long), long.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'reason']);
    expect((await book(p.token, a.id, { reason: 'x'.repeat(500) })).data.bookAppointment.reason).toHaveLength(500);
    expect((await book(p.token, b.id, { reason: '   ' })).data.bookAppointment.reason).toBeNull();
    expect((await book(p.token, c.id, { reason: null })).data.bookAppointment.reason).toBeNull();
  });

  it('returns the first appointment when the same idempotency key comes again, and books nothing new', async () => {
    const p = await newPatient();
    const slot = await make.slot({ start: fromNow(25, 0) });
    const other = await make.slot({ start: fromNow(25, 120) });
    const first = await book(p.token, slot.id, { key: 'retry-1', reason: 'Flu' });
    const again = await book(p.token, slot.id, { key: 'retry-1', reason: 'Flu' });
    expect(again.errors).toBeUndefined();
    expect(again.data.bookAppointment).toEqual(first.data.bookAppointment);
    expect(await countOf(p.id)).toBe(1);

    const elsewhere = await book(p.token, other.id, { key: 'retry-1' });
    expect([codes(elsewhere), elsewhere.errors?.[0].extensions?.field]).toEqual([['CONFLICT'], 'idempotencyKey']);
    expect(await db.slotHeld(other.id)).toBe(false);

    // Keys belong to a patient: another patient's same key is a different booking.
    const q = await newPatient();
    expect(codes(await book(q.token, slot.id, { key: 'retry-1' }))).toEqual(['SLOT_UNAVAILABLE']);
    expect((await book(q.token, other.id, { key: 'retry-1' })).errors).toBeUndefined();

    // The kit's key rule: 1 to 100 printable ASCII characters; NUL (which PostgreSQL cannot store) and other controls are refused.
    for (const key of ['k'.repeat(101), 'k\u0000', 'retry\n1']) {
      const bad = await book(p.token, other.id, { key });
      expect([codes(bad), bad.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'idempotencyKey']);
    }
  });

  it('replays a key whose appointment was cancelled since as it is now, without booking again', async () => {
    const p = await newPatient();
    const slot = await make.slot({ start: fromNow(26, 0) });
    const first = await book(p.token, slot.id, { key: 'once' });
    await gql(t.url, CANCEL, { id: first.data.bookAppointment.id }, p.token);
    const again = await book(p.token, slot.id, { key: 'once' });
    expect(again.data.bookAppointment).toMatchObject({ id: first.data.bookAppointment.id, status: 'CANCELLED' });
    expect(await countOf(p.id)).toBe(1);
  });

  it('is for patients only', async () => {
    const slot = await make.slot({ start: fromNow(27, 0) });
    for (const role of ['PRACTITIONER', 'PHARMACIST', 'ADMIN'] as const) {
      const res = await book(await t.token({ personId: DEMO.alex, role }), slot.id);
      expect(codes(res)).toEqual(['FORBIDDEN']);
    }
    expect(codes(await gql(t.url, BOOK, { slotId: slot.id }))).toEqual(['UNAUTHENTICATED']);
    expect(await db.slotHeld(slot.id)).toBe(false);
  });

  it('lets exactly one of many concurrent bookings of a slot win; the others get SLOT_UNAVAILABLE', async () => {
    const slots = [await make.slot({ start: fromNow(28, 0) }), await make.slot({ start: fromNow(28, 30) }), await make.slot({ start: fromNow(28, 60) })];
    const patients = await Promise.all(Array.from({ length: 6 }, newPatient));
    const attempts = patients.flatMap((p) => slots.map((s) => ({ p, s })));
    const results = await Promise.all(attempts.map(({ p, s }) => book(p.token, s.id)));
    const won = results.filter((r) => !r.errors);
    expect(won).toHaveLength(3);
    expect(new Set(won.map((r) => r.data.bookAppointment.start)).size).toBe(3);
    expect(new Set(results.flatMap((r) => codes(r) ?? []))).toEqual(new Set(['SLOT_UNAVAILABLE']));
    for (const s of slots) {
      const holders = await t.server.database.dataSource.query(`SELECT COUNT(*) AS n FROM appointment WHERE slot_id = '${s.id}' AND status <> 'CANCELLED'`);
      expect(Number(holders[0].n)).toBe(1);
    }
  });

  it('turns the database’s refusal of a second holder into SLOT_UNAVAILABLE, never a driver error', async () => {
    const p = await newPatient();
    const slot = await make.slot({ start: fromNow(28, 200) });
    const held = (await book(p.token, slot.id)).data.bookAppointment;
    const row = { ...(await appointmentRow(held.id)), id: uniqueId('ap'), patientId: uniqueId('pt'), idempotencyKey: null };
    const failure = await db.insertAppointment(row).catch((e) => e);
    expect(failure.extensions).toEqual({ code: 'SLOT_UNAVAILABLE' });
    expect(await db.appointmentById(row.id)).toBeNull();
  });

  it('never lets one patient’s concurrent bookings of overlapping slots both succeed', async () => {
    const p = await newPatient();
    const slots = await Promise.all(['pr-a', 'pr-b', 'pr-c', 'pr-d'].map((pr, i) => make.slot({ start: fromNow(29, i * 5), practitionerId: pr })));
    const results = await Promise.all(slots.map((s) => book(p.token, s.id)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap((r) => codes(r) ?? [])).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT']);
    expect(await countOf(p.id)).toBe(1);
  });
});

describe('cancelAppointment', () => {
  it('cancels the patient’s own booked appointment, records who, why and when, and frees the slot at once', async () => {
    const p = await newPatient();
    const q = await newPatient();
    const slot = await make.slot({ start: fromNow(30, 0) });
    const booked = (await book(p.token, slot.id)).data.bookAppointment;
    const before = Date.now();
    const res = await gql(t.url, CANCEL, { id: booked.id, reason: ' Feeling better ' }, p.token);
    expect(res.errors).toBeUndefined();
    const c = res.data.cancelAppointment;
    expect(c).toMatchObject({ id: booked.id, status: 'CANCELLED', cancellable: false, cancellation: { reason: 'Feeling better', cancelledBy: p.accountId } });
    expect(Date.parse(c.cancellation.cancelledAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(await appointmentRow(booked.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'Feeling better', cancelledBy: p.accountId });
    const lists = await gql(t.url, UPCOMING, { r: [{ __typename: 'Patient', id: p.id }] }, p.token);
    expect(lists.data._entities[0].upcomingAppointments).toEqual([]);
    expect(lists.data._entities[0].appointments.edges).toEqual([{ node: { id: booked.id, status: 'CANCELLED' } }]);
    // Free again for anyone.
    const free = await gql(t.url, SLOTS, { clinicId: DEMO.familyHealthClinic, type: 'PRIMARY_CARE', from: slot.startAt, to: slot.endAt }, q.token);
    expect(free.data.availableSlots.map((s: any) => s.id)).toEqual([slot.id]);
    expect((await book(q.token, slot.id)).data.bookAppointment.patient).toEqual({ id: q.id });
  });

  it('cancels without a reason', async () => {
    const p = await newPatient();
    const booked = (await book(p.token, (await make.slot({ start: fromNow(31, 0) })).id)).data.bookAppointment;
    const res = await gql(t.url, CANCEL, { id: booked.id }, p.token);
    expect(res.data.cancelAppointment.cancellation).toMatchObject({ reason: null, cancelledBy: p.accountId });
  });

  it('answers another patient’s appointment exactly like a missing one and changes nothing', async () => {
    const [owner, other] = [await newPatient(), await newPatient()];
    const booked = (await book(owner.token, (await make.slot({ start: fromNow(32, 0) })).id)).data.bookAppointment;
    const theirs = await gql(t.url, CANCEL, { id: booked.id }, other.token);
    const missing = await gql(t.url, CANCEL, { id: 'ap-does-not-exist' }, other.token);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect(theirs.data).toEqual(missing.data);
    expect(JSON.stringify(theirs)).not.toContain(booked.start);
    expect((await appointmentRow(booked.id)).status).toBe('BOOKED');
    const malformed = await gql(t.url, CANCEL, { id: '../../etc' }, other.token);
    expect([codes(malformed), malformed.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'appointmentId']);
  });

  it('refuses checked-in, fulfilled, no-show, cancelled and started appointments with APPOINTMENT_NOT_CANCELLABLE, as cancellable says', async () => {
    const p = await newPatient();
    const cases = [
      [await make.appointment({ patientId: p.id, start: fromNow(0, 20), status: 'CHECKED_IN' }), /checked in/],
      [await make.appointment({ patientId: p.id, start: fromNow(-3), status: 'FULFILLED' }), /already taken place/],
      [await make.appointment({ patientId: p.id, start: fromNow(-2), status: 'NO_SHOW' }), /no-show/],
      [await make.appointment({ patientId: p.id, start: fromNow(4), status: 'CANCELLED' }), /already cancelled/],
      [await make.appointment({ patientId: p.id, start: fromNow(0, -5), status: 'BOOKED' }), /already started/],
    ] as const;
    for (const [row, why] of cases) {
      const view = await gql(t.url, APPOINTMENT, { r: [{ __typename: 'Appointment', id: row.id }] }, p.token);
      expect(view.data._entities[0].cancellable).toBe(false);
      const res = await gql(t.url, CANCEL, { id: row.id }, p.token);
      expect(codes(res)).toEqual(['APPOINTMENT_NOT_CANCELLABLE']);
      expect(res.errors?.[0].message).toMatch(/cannot be cancelled/);
      expect(res.errors?.[0].message).toMatch(why);
      expect((await appointmentRow(row.id)).status).toBe(row.status);
    }
  });

  it('takes a reason of up to 500 characters, is for the patient only, and needs a token', async () => {
    const p = await newPatient();
    const booked = (await book(p.token, (await make.slot({ start: fromNow(33, 0) })).id)).data.bookAppointment;
    const long = await gql(t.url, CANCEL, { id: booked.id, reason: 'y'.repeat(501) }, p.token);
    expect([codes(long), long.errors?.[0].extensions?.field]).toEqual([['BAD_USER_INPUT'], 'reason']);
    const alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER' });
    expect(codes(await gql(t.url, CANCEL, { id: booked.id }, alex))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, CANCEL, { id: booked.id }))).toEqual(['UNAUTHENTICATED']);
    expect((await appointmentRow(booked.id)).status).toBe('BOOKED');
  });

  it('audits the cancellation as an update, and a probe of another patient’s as denied', async () => {
    const [p, other] = [await newPatient(), await newPatient()];
    const booked = (await book(p.token, (await make.slot({ start: fromNow(34, 0) })).id)).data.bookAppointment;
    await gql(t.url, CANCEL, { id: booked.id }, other.token, { 'x-request-id': `req-probe-${p.id}` });
    await gql(t.url, CANCEL, { id: booked.id }, p.token, { 'x-request-id': `req-cancel-${p.id}` });
    const rows = await t.server.database.dataSource.query(
      `SELECT request_id, patient_id, action, outcome, actor_person_id FROM audit_event WHERE request_id IN ('req-probe-${p.id}', 'req-cancel-${p.id}') ORDER BY request_id`,
    );
    expect(rows).toEqual([
      { request_id: `req-cancel-${p.id}`, patient_id: p.id, action: 'update', outcome: 'ALLOWED', actor_person_id: p.id },
      { request_id: `req-probe-${p.id}`, patient_id: p.id, action: 'update', outcome: 'DENIED', actor_person_id: other.id },
    ]);
  });
});

describe('rescheduleAppointment', () => {
  it('moves the appointment to another free slot: the old one is cancelled as rescheduled and its slot freed', async () => {
    const p = await newPatient();
    const [from, to] = [await make.slot({ start: fromNow(40, 0) }), await make.slot({ start: fromNow(41, 0) })];
    const booked = (await book(p.token, from.id, { reason: 'Check-up' })).data.bookAppointment;
    const res = await gql(t.url, RESCHEDULE, { id: booked.id, slotId: to.id }, p.token);
    expect(res.errors).toBeUndefined();
    const moved = res.data.rescheduleAppointment;
    expect(moved).toMatchObject({ status: 'BOOKED', start: to.startAt, end: to.endAt, reason: 'Check-up', cancellable: true, patient: { id: p.id } });
    expect(moved.id).not.toBe(booked.id);
    expect(await appointmentRow(booked.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'Rescheduled', cancelledBy: p.accountId });
    expect([await db.slotHeld(from.id), await db.slotHeld(to.id)]).toEqual([false, true]);
    const lists = await gql(t.url, UPCOMING, { r: [{ __typename: 'Patient', id: p.id }] }, p.token);
    expect(lists.data._entities[0].upcomingAppointments).toEqual([{ id: moved.id }]);
    expect(lists.data._entities[0].appointments.totalCount).toBe(2);
  });

  it('may move to a slot overlapping the old one, but not onto another of the patient’s appointments', async () => {
    const p = await newPatient();
    const old = await make.slot({ start: fromNow(42, 0) });
    const shifted = await make.slot({ start: fromNow(42, 15), practitionerId: 'pr-shifted' });
    const busy = await make.slot({ start: fromNow(43, 0) });
    const clash = await make.slot({ start: fromNow(43, 10), practitionerId: 'pr-clash' });
    const a = (await book(p.token, old.id)).data.bookAppointment;
    await book(p.token, busy.id);
    const res = await gql(t.url, RESCHEDULE, { id: a.id, slotId: clash.id }, p.token);
    expect(codes(res)).toEqual(['CONFLICT']);
    expect((await appointmentRow(a.id)).status).toBe('BOOKED');
    expect((await gql(t.url, RESCHEDULE, { id: a.id, slotId: shifted.id }, p.token)).data.rescheduleAppointment.start).toBe(shifted.startAt);
  });

  it('leaves the appointment where it was when the new slot is taken, in the past, of another type, or the same', async () => {
    const [p, other] = [await newPatient(), await newPatient()];
    const mine = await make.slot({ start: fromNow(44, 0) });
    const taken = await make.slot({ start: fromNow(45, 0) });
    const past = await make.slot({ start: fromNow(0, -30) });
    const followUp = await make.slot({ start: fromNow(46, 0), appointmentType: 'FOLLOW_UP' });
    const a = (await book(p.token, mine.id)).data.bookAppointment;
    await book(other.token, taken.id);
    const cases: [string, string, RegExp][] = [
      [taken.id, 'SLOT_UNAVAILABLE', /Choose another slot/],
      [past.id, 'BAD_USER_INPUT', /in the past/],
      [followUp.id, 'BAD_USER_INPUT', /Choose a PRIMARY_CARE slot/],
      [mine.id, 'BAD_USER_INPUT', /already in that slot/],
      ['sl-missing', 'NOT_FOUND', /Slot was not found/],
    ];
    for (const [slotId, code, message] of cases) {
      const res = await gql(t.url, RESCHEDULE, { id: a.id, slotId }, p.token);
      expect(codes(res)).toEqual([code]);
      expect(res.errors?.[0].message).toMatch(message);
      expect(await appointmentRow(a.id)).toMatchObject({ status: 'BOOKED', slotId: mine.id });
    }
    expect(await countOf(p.id)).toBe(1);
  });

  it('is atomic: when the new booking fails in the database, the old appointment stays booked', async () => {
    const p = await newPatient();
    const [mine, next] = [await make.slot({ start: fromNow(47, 0) }), await make.slot({ start: fromNow(48, 0) })];
    const a = (await book(p.token, mine.id)).data.bookAppointment;
    const insert = jest.spyOn(SchedulingStore.prototype, 'insertAppointment');
    try {
      // As if another instance took the slot between the check and the insert.
      insert.mockRejectedValueOnce(slotUnavailable());
      expect(codes(await gql(t.url, RESCHEDULE, { id: a.id, slotId: next.id }, p.token))).toEqual(['SLOT_UNAVAILABLE']);
      expect(await appointmentRow(a.id)).toMatchObject({ status: 'BOOKED', cancelledAt: null });
      insert.mockRejectedValueOnce(new Error('disk I/O error'));
      const log = jest.spyOn(console, 'error').mockImplementation(() => {});
      const failed = await gql(t.url, RESCHEDULE, { id: a.id, slotId: next.id }, p.token);
      log.mockRestore();
      expect(codes(failed)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(JSON.stringify(failed)).not.toContain('disk');
      expect(await appointmentRow(a.id)).toMatchObject({ status: 'BOOKED', cancelledAt: null });
    } finally {
      insert.mockRestore();
    }
    expect([await db.slotHeld(mine.id), await db.slotHeld(next.id)]).toEqual([true, false]);
    expect((await gql(t.url, RESCHEDULE, { id: a.id, slotId: next.id }, p.token)).errors).toBeUndefined();
  });

  it('refuses appointments that cannot be cancelled, and another patient’s like a missing one', async () => {
    const [p, other] = [await newPatient(), await newPatient()];
    const next = await make.slot({ start: fromNow(49, 0) });
    const done = await make.appointment({ patientId: p.id, start: fromNow(-1), status: 'FULFILLED' });
    const res = await gql(t.url, RESCHEDULE, { id: done.id, slotId: next.id }, p.token);
    expect(codes(res)).toEqual(['APPOINTMENT_NOT_CANCELLABLE']);
    expect(res.errors?.[0].message).toMatch(/cannot be rescheduled: it has already taken place/);
    const mine = (await book(p.token, (await make.slot({ start: fromNow(50, 0) })).id)).data.bookAppointment;
    const theirs = await gql(t.url, RESCHEDULE, { id: mine.id, slotId: next.id }, other.token);
    const missing = await gql(t.url, RESCHEDULE, { id: 'ap-nope', slotId: next.id }, other.token);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect(codes(await gql(t.url, RESCHEDULE, { id: mine.id, slotId: next.id }, await t.token({ personId: DEMO.alex, role: 'PRACTITIONER' })))).toEqual(['FORBIDDEN']);
    expect(await db.slotHeld(next.id)).toBe(false);
  });

  it('lets only one of several concurrent reschedules onto one slot win; the losers keep their appointments', async () => {
    const patients = await Promise.all(Array.from({ length: 5 }, newPatient));
    const target = await make.slot({ start: fromNow(51, 0) });
    const own = await Promise.all(patients.map(async (p, i) => (await book(p.token, (await make.slot({ start: fromNow(52 + i, 0) })).id)).data.bookAppointment));
    const results = await Promise.all(patients.map((p, i) => gql(t.url, RESCHEDULE, { id: own[i].id, slotId: target.id }, p.token)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap((r) => codes(r) ?? [])).toEqual(Array(4).fill('SLOT_UNAVAILABLE'));
    const statuses = await Promise.all(own.map(async (a) => (await appointmentRow(a.id)).status));
    expect(statuses.filter((s) => s === 'CANCELLED')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'BOOKED')).toHaveLength(4);
  });
});
