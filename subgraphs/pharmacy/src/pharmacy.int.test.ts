import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { addDays } from './dates';
import { pharmacyFactory, uniqueId } from './factories';
import { createPharmacyModule } from './module';
import { seedDemo, seedScalePatient } from './seed';

const OTHER_DOCTOR = 'pr-2999999999';
const FEW = 'pt-scale-few';
const MANY = 'pt-scale-many';

const PRESCRIPTIONS = `query($r: [_Any!]!, $status: PrescriptionStatus) { _entities(representations: $r) { ... on Patient {
  id
  prescriptions(status: $status) {
    id status
    medication { rxnormCode name strength form }
    directions quantity daysSupply refillsAuthorized refillsRemaining writtenOn expiresOn
    refillable renewable
    prescriber { id }
    pendingRequest { id kind status requestedAt note }
    renewedFrom { id }
    fills { id filledOn quantity }
  }
} } }`;

const PRESCRIPTION = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Prescription {
  id status directions medication { name } refillable renewable fills { id }
} } }`;

const REQUEST = `query($r: [_Any!]!) { _entities(representations: $r) { ... on PharmacyRequest {
  id kind status requestedAt note patient { id } prescription { id status refillable renewable medication { name } }
} } }`;

const patients = (...ids: string[]) => ids.map((id) => ({ __typename: 'Patient', id }));

/**
 * A refused entity without its null fields. The fields a subgraph adds to
 * another's entity are nullable (an outage of one subgraph costs only its
 * section), so a refusal nulls them, not the entity: what is left is at most
 * the key the caller sent.
 */
const refused = (entity: Record<string, unknown> | null) => entity && Object.fromEntries(Object.entries(entity).filter(([, v]) => v !== null));
const ref = (__typename: string, id: string) => [{ __typename, id }];
const ids = (list: { id: string }[]) => list.map((p) => p.id);

let t: TestSubgraph;
const now = new Date();
const day = (offset: number) => addDays(now, offset);
let jane: string, john: string, sam: string, alex: string, otherDoctor: string;

beforeAll(async () => {
  t = await startTestSubgraph(createPharmacyModule(), {
    careAccess: { [DEMO.alex]: [DEMO.jane, DEMO.john], [OTHER_DOCTOR]: [DEMO.john] },
  });
  const db = t.server.database.dataSource;
  await seedDemo(db, now);
  await seedDemo(db, now); // idempotent
  await seedScalePatient(db, { patientId: FEW, count: 3 });
  await seedScalePatient(db, { patientId: MANY, count: 200 });
  jane = await t.token({ personId: DEMO.jane });
  john = await t.token({ personId: DEMO.john });
  sam = await t.token({ personId: DEMO.sam, role: 'PHARMACIST' });
  alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER', careTeamIds: [DEMO.careTeamBlue] });
  otherDoctor = await t.token({ personId: OTHER_DOCTOR, role: 'PRACTITIONER' });
});
afterAll(async () => {
  await t?.stop();
});

describe('Patient.prescriptions', () => {
  it('shows Jane her active prescriptions, newest written first, with what she can do now', async () => {
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane), status: 'ACTIVE' }, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0].prescriptions).toEqual([
      {
        id: 'rx-jane-lisinopril',
        status: 'ACTIVE',
        medication: { rxnormCode: '314076', name: 'Lisinopril', strength: '10 mg', form: 'tablet' },
        directions: 'Take 1 tablet by mouth once daily.',
        quantity: 30,
        daysSupply: 30,
        refillsAuthorized: 5,
        refillsRemaining: 3,
        writtenOn: day(-60),
        expiresOn: day(305),
        refillable: true,
        renewable: false,
        prescriber: { id: DEMO.alex },
        pendingRequest: null,
        renewedFrom: null,
        fills: [
          { id: 'fl-jane-lisinopril-2', filledOn: day(-30), quantity: 30 },
          { id: 'fl-jane-lisinopril-1', filledOn: day(-60), quantity: 30 },
        ],
      },
      {
        id: 'rx-jane-metformin',
        status: 'ACTIVE',
        medication: { rxnormCode: '861007', name: 'Metformin', strength: '500 mg', form: 'tablet' },
        directions: 'Take 1 tablet by mouth twice daily with meals.',
        quantity: 60,
        daysSupply: 30,
        refillsAuthorized: 3,
        refillsRemaining: 0,
        writtenOn: day(-150),
        expiresOn: day(215),
        refillable: false,
        renewable: true,
        prescriber: { id: DEMO.alex },
        pendingRequest: null,
        renewedFrom: null,
        fills: [{ id: 'fl-jane-metformin-1', filledOn: day(-25), quantity: 60 }],
      },
    ]);
  });

  it('filters by status: EXPIRED is computed from the date although stored ACTIVE', async () => {
    const expired = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane), status: 'EXPIRED' }, jane);
    expect(expired.errors).toBeUndefined();
    const rows = expired.data._entities[0].prescriptions;
    expect(rows.map((p: any) => [p.id, p.status, p.expiresOn, p.refillable, p.renewable])).toEqual([
      // expired 30 days ago: renewable, not refillable though a refill is left
      ['rx-jane-atorvastatin', 'EXPIRED', day(-30), false, true],
      // expired two years ago: past the 120-day renewal window
      ['rx-jane-amoxicillin', 'EXPIRED', day(-730), false, false],
    ]);
    const stored = await t.server.database.dataSource.query(`SELECT status FROM prescription WHERE id = 'rx-jane-atorvastatin'`);
    expect(stored[0].status).toBe('ACTIVE');

    const discontinued = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane), status: 'DISCONTINUED' }, jane);
    expect(discontinued.data._entities[0].prescriptions).toEqual([]);

    const all = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane) }, jane);
    expect(ids(all.data._entities[0].prescriptions)).toEqual(['rx-jane-lisinopril', 'rx-jane-metformin', 'rx-jane-atorvastatin', 'rx-jane-amoxicillin']);
  });

  it('shows John a renewed inhaler, a discontinued prescription and a pending renewal', async () => {
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.john) }, john);
    expect(res.errors).toBeUndefined();
    const rows = res.data._entities[0].prescriptions;
    expect(rows.map((p: any) => [p.id, p.status, p.refillable, p.renewable, p.renewedFrom?.id ?? null, p.pendingRequest?.kind ?? null])).toEqual([
      ['rx-john-albuterol-2', 'ACTIVE', true, false, 'rx-john-albuterol-1', null],
      ['rx-john-lisinopril', 'DISCONTINUED', false, false, null, null],
      ['rx-john-atorvastatin', 'ACTIVE', false, false, null, 'RENEWAL'],
      // expired 40 days ago but already renewed into albuterol-2
      ['rx-john-albuterol-1', 'EXPIRED', false, false, null, null],
    ]);
    expect(rows[2].pendingRequest).toEqual({
      id: 'rq-john-atorvastatin-renewal', kind: 'RENEWAL', status: 'PENDING',
      requestedAt: expect.stringMatching(/Z$/), note: 'Down to my last week of tablets.',
    });
  });

  it('refuses a status that is not in the enum', async () => {
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane), status: 'LOST' }, jane);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.data).toBeUndefined();
  });
});

describe('who may read prescriptions', () => {
  it('shows Sam Lee, a pharmacist, no prescriptions of a patient without a pending request, and audits the refusal', async () => {
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane), status: 'ACTIVE' }, sam, { 'x-request-id': 'req-sam-jane' });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(res.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
    expect(JSON.stringify(res)).not.toMatch(/rx-jane|Lisinopril|Metformin/);
    const audit = await t.server.database.dataSource.query(`SELECT * FROM audit_event WHERE request_id = 'req-sam-jane'`);
    expect(audit.map((a: any) => [a.patient_id, a.record_kind, a.action, a.outcome, a.actor_role, a.actor_person_id])).toEqual([
      [DEMO.jane, 'prescription', 'read', 'DENIED', 'PHARMACIST', DEMO.sam],
    ]);
  });

  it('shows a pharmacist a patient’s prescriptions while a request of theirs is pending, and not after', async () => {
    const make = pharmacyFactory(t.server.database.dataSource, now);
    const patient = uniqueId('pt-pending');
    const rx = await make.prescription(patient);
    expect((await gql(t.url, PRESCRIPTIONS, { r: patients(patient) }, sam)).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const request = await make.request(rx, 'REFILL');
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(patient) }, sam, { 'x-request-id': `req-sam-${patient}` });
    expect(res.errors).toBeUndefined();
    expect(ids(res.data._entities[0].prescriptions)).toEqual([rx.id]);
    const audit = await t.server.database.dataSource.query(`SELECT record_kind, outcome, actor_role FROM audit_event WHERE request_id = 'req-sam-${patient}' ORDER BY record_kind`);
    expect(audit).toEqual([
      { record_kind: 'pharmacy_request', outcome: 'ALLOWED', actor_role: 'PHARMACIST' },
      { record_kind: 'prescription', outcome: 'ALLOWED', actor_role: 'PHARMACIST' },
    ]);
    await t.server.database.dataSource.query(`UPDATE pharmacy_request SET status = 'COMPLETED' WHERE id = '${request.id}'`);
    expect((await gql(t.url, PRESCRIPTIONS, { r: patients(patient) }, sam)).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('lets a pharmacist look a patient up with a reason, stored and audited under the request id, for that answer only', async () => {
    const LOOKUP = `query($p: ID!, $reason: String!) { pharmacistLookup(patientId: $p, reason: $reason) { id prescriptions(status: ACTIVE) { id } } }`;
    const res = await gql(t.url, LOOKUP, { p: DEMO.jane, reason: 'Patient at the counter asking about her refills.' }, sam, { 'x-request-id': 'req-sam-lookup' });
    expect(res.errors).toBeUndefined();
    expect(ids(res.data.pharmacistLookup.prescriptions)).toEqual(['rx-jane-lisinopril', 'rx-jane-metformin']);
    const db = t.server.database.dataSource;
    expect(await db.query(`SELECT pharmacist_id, patient_id, reason FROM pharmacist_lookup WHERE request_id = 'req-sam-lookup'`)).toEqual([
      { pharmacist_id: DEMO.sam, patient_id: DEMO.jane, reason: 'Patient at the counter asking about her refills.' },
    ]);
    const audit = await db.query(`SELECT patient_id, record_kind, action, outcome FROM audit_event WHERE request_id = 'req-sam-lookup'`);
    expect(audit).toEqual([{ patient_id: DEMO.jane, record_kind: 'prescription', action: 'read', outcome: 'ALLOWED' }]);
    // The next request sees nothing again.
    expect((await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane) }, sam)).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    // A reason is required; other roles cannot look anyone up.
    const noReason = await gql(t.url, LOOKUP, { p: DEMO.jane, reason: '  ' }, sam);
    expect(noReason.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'reason']]);
    for (const token of [alex, jane]) expect((await gql(t.url, LOOKUP, { p: DEMO.jane, reason: 'Just curious about it.' }, token)).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(Number((await db.query(`SELECT COUNT(*) AS "n" FROM pharmacist_lookup WHERE patient_id = '${DEMO.jane}'`))[0].n)).toBe(1);
  });

  it('lets Jane’s physician read them', async () => {
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane) }, alex);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0].prescriptions).toHaveLength(4);
  });

  it('refuses a practitioner who does not treat Jane with FORBIDDEN and nothing of hers', async () => {
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane) }, otherDoctor, { 'x-request-id': 'req-other-jane' });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(res.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
    expect(JSON.stringify(res)).not.toMatch(/rx-jane|Lisinopril|Metformin/);
    const audit = await t.server.database.dataSource.query(`SELECT outcome FROM audit_event WHERE request_id = 'req-other-jane'`);
    expect(audit).toEqual([{ outcome: 'DENIED' }]);
    // ...while John, whom they treat, is visible in the same request shape.
    const johns = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.john) }, otherDoctor);
    expect(johns.errors).toBeUndefined();
    expect(johns.data._entities[0].prescriptions).toHaveLength(4);
  });

  it('refuses John on Jane’s prescriptions', async () => {
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane) }, john);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(res)).not.toMatch(/rx-jane|Lisinopril/);
  });

  it('answers a call without a token with UNAUTHENTICATED and no data', async () => {
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane) });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(res.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
    for (const [typename, id] of [['Prescription', 'rx-jane-lisinopril'], ['PharmacyRequest', 'rq-john-atorvastatin-renewal']]) {
      const direct = await gql(t.url, typename === 'Prescription' ? PRESCRIPTION : REQUEST, { r: ref(typename, id) });
      expect(direct.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(direct.data._entities).toEqual([null]);
    }
    const med = await gql(t.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Medication { name } } }`, { r: [{ __typename: 'Medication', rxnormCode: '314076' }] });
    expect(med.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('entities by key', () => {
  it('resolves Jane’s prescription for Jane', async () => {
    const res = await gql(t.url, PRESCRIPTION, { r: ref('Prescription', 'rx-jane-atorvastatin') }, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([
      { id: 'rx-jane-atorvastatin', status: 'EXPIRED', directions: 'Take 1 tablet by mouth once daily at bedtime.', medication: { name: 'Atorvastatin' }, refillable: false, renewable: true, fills: [{ id: 'fl-jane-atorvastatin-1' }] },
    ]);
  });

  it('answers John asking for Jane’s prescription exactly like a missing one: NOT_FOUND, nothing of it', async () => {
    const theirs = await gql(t.url, PRESCRIPTION, { r: ref('Prescription', 'rx-jane-lisinopril') }, john);
    const missing = await gql(t.url, PRESCRIPTION, { r: ref('Prescription', 'rx-does-not-exist') }, john);
    expect(theirs.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(theirs.data).toEqual({ _entities: [null] });
    expect(JSON.stringify(theirs)).not.toMatch(/Lisinopril|Take 1|rx-jane/);
    expect(theirs.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect(theirs.data).toEqual(missing.data);
  });

  it('lets a pharmacist read a pending request with its prescription and patient', async () => {
    const res = await gql(t.url, REQUEST, { r: ref('PharmacyRequest', 'rq-john-atorvastatin-renewal') }, sam);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0]).toEqual({
      id: 'rq-john-atorvastatin-renewal', kind: 'RENEWAL', status: 'PENDING', requestedAt: expect.stringMatching(/^\d{4}-.*Z$/),
      note: 'Down to my last week of tablets.', patient: { id: DEMO.john },
      prescription: { id: 'rx-john-atorvastatin', status: 'ACTIVE', refillable: false, renewable: false, medication: { name: 'Atorvastatin' } },
    });
    expect(Date.parse(res.data._entities[0].requestedAt)).toBeCloseTo(now.getTime() - 2 * 86_400_000, -4);
  });

  it('answers Jane asking for John’s request with NOT_FOUND', async () => {
    const res = await gql(t.url, REQUEST, { r: ref('PharmacyRequest', 'rq-john-atorvastatin-renewal') }, jane);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(res.data._entities).toEqual([null]);
    expect(JSON.stringify(res)).not.toMatch(/Down to my last|Atorvastatin|rx-john/);
  });

  it('resolves medications by RxNorm code for any signed-in caller, null for an unknown code', async () => {
    const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Medication { rxnormCode name strength form } } }`;
    const res = await gql(t.url, q, { r: [{ __typename: 'Medication', rxnormCode: '745679' }, { __typename: 'Medication', rxnormCode: '000000' }] }, john);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([{ rxnormCode: '745679', name: 'Albuterol', strength: '90 mcg/actuation', form: 'inhaler' }, null]);
  });
});

describe('storage rules ready for requests', () => {
  it('allows at most one PENDING request of a kind per prescription', async () => {
    const db = t.server.database.dataSource;
    const insert = (id: string, kind: string, status: string) =>
      db.query(
        `INSERT INTO pharmacy_request (id, prescription_id, patient_id, kind, status, requested_at, requested_by) VALUES ('${id}', 'rx-jane-metformin', '${DEMO.jane}', '${kind}', '${status}', '${now.toISOString()}', '${DEMO.jane}')`,
      );
    await insert('rq-test-1', 'RENEWAL', 'DENIED');
    await insert('rq-test-2', 'RENEWAL', 'PENDING');
    await expect(insert('rq-test-3', 'RENEWAL', 'PENDING')).rejects.toThrow();
    await insert('rq-test-4', 'RENEWAL', 'DENIED');
    // A pending renewal turns renewable off and shows as the pending request.
    const res = await gql(t.url, PRESCRIPTIONS, { r: patients(DEMO.jane), status: 'ACTIVE' }, jane);
    const metformin = res.data._entities[0].prescriptions.find((p: any) => p.id === 'rx-jane-metformin');
    expect([metformin.renewable, metformin.pendingRequest?.id]).toEqual([false, 'rq-test-2']);
    await db.query(`DELETE FROM pharmacy_request WHERE id LIKE 'rq-test-%'`);
  });

  it('keeps refills remaining between zero and refills authorized', async () => {
    const db = t.server.database.dataSource;
    await expect(db.query(`UPDATE prescription SET refills_remaining = -1 WHERE id = 'rx-jane-metformin'`)).rejects.toThrow();
    await expect(db.query(`UPDATE prescription SET refills_remaining = 9 WHERE id = 'rx-jane-metformin'`)).rejects.toThrow();
  });
});

describe('batching', () => {
  const run = async (token: string, r: unknown) => {
    t.resetStatements();
    const res = await gql(t.url, PRESCRIPTIONS, { r }, token);
    const statements = t.statements();
    expect(res.errors).toBeUndefined();
    return { res, statements };
  };

  it('runs as many statements for 200 prescriptions as for 3', async () => {
    const few = await run(await t.token({ personId: FEW }), patients(FEW));
    const many = await run(await t.token({ personId: MANY }), patients(MANY));
    expect(few.res.data._entities[0].prescriptions).toHaveLength(3);
    const rows = many.res.data._entities[0].prescriptions;
    expect(rows).toHaveLength(200);
    expect(rows.every((p: any) => p.fills.length === 2)).toBe(true);
    expect(rows.filter((p: any) => p.pendingRequest).length).toBe(67);
    expect(rows.filter((p: any) => p.renewedFrom).length).toBe(100);
    expect(many.statements).toBe(few.statements);
    // prescriptions, medications, pending requests, renewals, fills, audit insert
    expect(few.statements).toBe(6);
  });

  it('runs as many statements for two patients as for one', async () => {
    const one = await run(alex, patients(DEMO.jane));
    const two = await run(alex, patients(DEMO.jane, DEMO.john));
    expect(two.res.data._entities.map((p: any) => p.prescriptions.length)).toEqual([4, 4]);
    expect(two.statements).toBe(one.statements);
  });
});
