import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '@portal/kit/testing';
import { addDays } from './dates';
import { pharmacyFactory, uniqueId, type PharmacyFactory } from './factories';
import { createPharmacyModule } from './module';
import { seedDemo } from './seed';

const OTHER_DOCTOR = 'pr-2999999999';

const REQUEST_REFILL = `mutation($prescriptionId: ID!, $idempotencyKey: String) {
  requestRefill(input: { prescriptionId: $prescriptionId, idempotencyKey: $idempotencyKey }) {
    id kind status requestedAt note decidedAt prescription { id refillable renewable pendingRequest { id } }
  }
}`;
const REQUEST_RENEWAL = `mutation($prescriptionId: ID!, $note: String, $idempotencyKey: String) {
  requestRenewal(input: { prescriptionId: $prescriptionId, note: $note, idempotencyKey: $idempotencyKey }) {
    id kind status requestedAt note prescription { id renewable pendingRequest { id kind } }
  }
}`;
const PENDING = `query($kind: PharmacyRequestKind) {
  pendingPharmacyRequests(kind: $kind) { id kind status requestedAt note patient { id } prescription { id medication { name } } }
}`;
const DECIDE = `mutation($requestId: ID!, $approve: Boolean!, $note: String, $refills: Int, $daysSupply: Int) {
  decideRenewal(input: { requestId: $requestId, approve: $approve, note: $note, refills: $refills, daysSupply: $daysSupply }) {
    id status decidedAt decisionNote
    newPrescription { id status quantity daysSupply refillsAuthorized refillsRemaining writtenOn expiresOn prescriber { id } renewedFrom { id } medication { name } }
    prescription { id renewable }
  }
}`;
const COMPLETE = `mutation($requestId: ID!) {
  completeRefill(input: { requestId: $requestId }) {
    id status decidedAt prescription { id refillsRemaining refillable pendingRequest { id } fills { filledOn quantity } }
  }
}`;

const DENY = `mutation($requestId: ID!, $reason: String!) {
  denyRefill(input: { requestId: $requestId, reason: $reason }) {
    id kind status decidedAt decisionNote prescription { id refillsRemaining refillable pendingRequest { id } fills { id } }
  }
}`;

let t: TestSubgraph;
let make: PharmacyFactory;
const now = new Date();
const today = addDays(now, 0);
let jane: string, john: string, sam: string, alex: string, otherDoctor: string;

const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
const db = () => t.server.database.dataSource;
const count = async (table: string, where = '1 = 1') => Number((await db().query(`SELECT COUNT(*) AS "n" FROM ${table} WHERE ${where}`))[0].n);
/** A patient of their own, so a test's requests meet no other test's. */
const newPatient = async () => {
  const id = uniqueId('pt-test');
  return { id, token: await t.token({ personId: id, careTeamIds: [DEMO.careTeamBlue] }) };
};

beforeAll(async () => {
  t = await startTestSubgraph(createPharmacyModule(), {
    careAccess: { [DEMO.alex]: [DEMO.jane, DEMO.john], [OTHER_DOCTOR]: [DEMO.john] },
  });
  await seedDemo(db(), now);
  make = pharmacyFactory(db(), now);
  jane = await t.token({ personId: DEMO.jane, careTeamIds: [DEMO.careTeamBlue, DEMO.careTeamGreen] });
  john = await t.token({ personId: DEMO.john, careTeamIds: [DEMO.careTeamBlue] });
  sam = await t.token({ personId: DEMO.sam, role: 'PHARMACIST' });
  alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER', careTeamIds: [DEMO.careTeamBlue] });
  otherDoctor = await t.token({ personId: OTHER_DOCTOR, role: 'PRACTITIONER' });
});
afterAll(async () => {
  await t?.stop();
});

describe('requestRefill', () => {
  it('lets Jane ask for a refill of her own prescription, once, and audits it', async () => {
    const res = await gql(t.url, REQUEST_REFILL, { prescriptionId: 'rx-jane-lisinopril' }, jane, { 'x-request-id': 'req-refill-jane' });
    expect(res.errors).toBeUndefined();
    const request = res.data.requestRefill;
    expect(request).toEqual({
      id: expect.any(String),
      kind: 'REFILL',
      status: 'PENDING',
      requestedAt: expect.stringMatching(/Z$/),
      note: null,
      decidedAt: null,
      prescription: { id: 'rx-jane-lisinopril', refillable: false, renewable: false, pendingRequest: { id: request.id } },
    });
    const audit = await db().query(`SELECT patient_id, record_kind, action, outcome FROM audit_event WHERE request_id = 'req-refill-jane'`);
    expect(audit).toContainEqual({ patient_id: DEMO.jane, record_kind: 'pharmacy_request', action: 'create', outcome: 'ALLOWED' });

    const again = await gql(t.url, REQUEST_REFILL, { prescriptionId: 'rx-jane-lisinopril' }, jane);
    expect(codes(again)).toEqual(['REFILL_NOT_ALLOWED']);
    expect(again.errors?.[0].message).toBe('A refill of this prescription is already waiting for the pharmacy.');
    expect(await count('pharmacy_request', `prescription_id = 'rx-jane-lisinopril'`)).toBe(1);
  });

  it('returns the first request for a repeated idempotency key, and refuses the key for another prescription', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id);
    const other = await make.prescription(p.id);
    const key = `refill-${rx.id}`;
    const first = await gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id, idempotencyKey: key }, p.token);
    const second = await gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id, idempotencyKey: key }, p.token);
    expect(first.errors).toBeUndefined();
    expect(second.data.requestRefill.id).toBe(first.data.requestRefill.id);
    const elsewhere = await gql(t.url, REQUEST_REFILL, { prescriptionId: other.id, idempotencyKey: key }, p.token);
    expect(codes(elsewhere)).toEqual(['CONFLICT']);
    expect(elsewhere.errors?.[0].extensions?.field).toBe('idempotencyKey');
    for (const bad of ['k'.repeat(101), 'k\u0000']) {
      const refused = await gql(t.url, REQUEST_REFILL, { prescriptionId: other.id, idempotencyKey: bad }, p.token);
      expect(refused.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    }
    const badId = await gql(t.url, REQUEST_REFILL, { prescriptionId: `${other.id}\u0000` }, p.token);
    expect(badId.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'prescriptionId' });
    expect(await count('pharmacy_request', `patient_id = '${p.id}'`)).toBe(1);
  });

  it('says which rule refuses a refill, and stores nothing', async () => {
    const before = await count('pharmacy_request');
    const cases: [string, string, RegExp][] = [
      ['rx-jane-metformin', jane, /has no refills left\. Request a renewal instead/],
      ['rx-jane-atorvastatin', jane, new RegExp(`expired on ${addDays(now, -30)}, so it cannot be refilled\\. Request a renewal instead`)],
      ['rx-john-lisinopril', john, /was discontinued, so it cannot be refilled/],
    ];
    for (const [prescriptionId, token, message] of cases) {
      const res = await gql(t.url, REQUEST_REFILL, { prescriptionId }, token);
      expect(codes(res)).toEqual(['REFILL_NOT_ALLOWED']);
      expect(res.errors?.[0].message).toMatch(message);
      expect(res.data).toBeNull();
    }
    expect(await count('pharmacy_request')).toBe(before);
  });

  it('answers another patient’s prescription exactly like a missing one', async () => {
    const theirs = await gql(t.url, REQUEST_REFILL, { prescriptionId: 'rx-jane-lisinopril' }, john);
    const missing = await gql(t.url, REQUEST_REFILL, { prescriptionId: 'rx-none' }, john);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect(theirs.data).toEqual(missing.data);
    expect(JSON.stringify(theirs)).not.toMatch(/Lisinopril|rx-jane-lisinopril.*refill/);
  });

  it('is for patients only: staff FORBIDDEN, no token UNAUTHENTICATED', async () => {
    for (const token of [sam, alex]) expect(codes(await gql(t.url, REQUEST_REFILL, { prescriptionId: 'rx-john-albuterol-2' }, token))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, REQUEST_REFILL, { prescriptionId: 'rx-john-albuterol-2' }))).toEqual(['UNAUTHENTICATED']);
    expect(await count('pharmacy_request', `prescription_id = 'rx-john-albuterol-2'`)).toBe(0);
  });

  it('stores one request of ten sent at the same moment; the others are refused as already pending', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id);
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id }, p.token)));
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    expect(results.flatMap((r) => codes(r) ?? []).sort()).toEqual(Array(9).fill('REFILL_NOT_ALLOWED'));
    for (const r of results.filter((x) => x.errors)) expect(r.errors?.[0].message).toMatch(/already (waiting|pending)/);
    expect(await count('pharmacy_request', `prescription_id = '${rx.id}'`)).toBe(1);
  });

  it('answers ten retries with one key sent at the same moment with the one request stored', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id);
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id, idempotencyKey: 'same-key' }, p.token)));
    expect(results.map((r) => r.errors)).toEqual(Array(10).fill(undefined));
    expect(new Set(results.map((r) => r.data.requestRefill.id)).size).toBe(1);
    expect(await count('pharmacy_request', `prescription_id = '${rx.id}'`)).toBe(1);
  });
});

describe('requestRenewal', () => {
  it('lets Jane ask to renew a prescription with no refills left, with a note', async () => {
    const res = await gql(t.url, REQUEST_RENEWAL, { prescriptionId: 'rx-jane-metformin', note: '  Almost out, thanks.  ' }, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.requestRenewal).toEqual({
      id: expect.any(String),
      kind: 'RENEWAL',
      status: 'PENDING',
      requestedAt: expect.any(String),
      note: 'Almost out, thanks.',
      prescription: { id: 'rx-jane-metformin', renewable: false, pendingRequest: { id: res.data.requestRenewal.id, kind: 'RENEWAL' } },
    });
    const again = await gql(t.url, REQUEST_RENEWAL, { prescriptionId: 'rx-jane-metformin' }, jane);
    expect(codes(again)).toEqual(['RENEWAL_NOT_ALLOWED']);
    expect(again.errors?.[0].message).toMatch(/already waiting/);
  });

  it('says why a renewal is refused: refills left point to a refill; too long expired; discontinued', async () => {
    const p = await newPatient();
    const withRefills = await make.prescription(p.id, { refillsRemaining: 2 });
    const longExpired = await make.prescription(p.id, { expiresOn: addDays(now, -121) });
    const cases: [string, string, RegExp][] = [
      [withRefills.id, p.token, /^This prescription still has 2 refills left\. Request a refill instead of a renewal\.$/],
      [longExpired.id, p.token, /more than 120 days ago/],
      ['rx-jane-amoxicillin', jane, /more than 120 days ago/],
      ['rx-john-lisinopril', john, /was discontinued, so it cannot be renewed/],
      ['rx-john-albuterol-1', john, /already been renewed/],
    ];
    for (const [prescriptionId, token, message] of cases) {
      const res = await gql(t.url, REQUEST_RENEWAL, { prescriptionId }, token);
      expect(codes(res)).toEqual(['RENEWAL_NOT_ALLOWED']);
      expect(res.errors?.[0].message).toMatch(message);
    }
    expect(await count('pharmacy_request', `patient_id = '${p.id}'`)).toBe(0);
  });

  it('refuses a note over 500 characters with BAD_USER_INPUT and stores nothing', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id, { refillsRemaining: 0 });
    const res = await gql(t.url, REQUEST_RENEWAL, { prescriptionId: rx.id, note: 'x'.repeat(501) }, p.token);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors?.[0].extensions?.field).toBe('note');
    expect(await count('pharmacy_request', `patient_id = '${p.id}'`)).toBe(0);
    const ok = await gql(t.url, REQUEST_RENEWAL, { prescriptionId: rx.id, note: '✓'.repeat(500) }, p.token);
    expect(ok.errors).toBeUndefined();
  });
});

describe('pendingPharmacyRequests', () => {
  let johnRequest: string;
  beforeAll(async () => {
    const rx = await make.prescription(DEMO.john, { refillsRemaining: 0, expiresOn: addDays(now, 10) });
    johnRequest = (await make.request(rx, 'RENEWAL', { requestedAt: new Date(now.getTime() - 60_000).toISOString() })).id;
  });

  it('shows a pharmacist every patient’s requests, oldest first', async () => {
    const res = await gql(t.url, PENDING, {}, sam);
    expect(res.errors).toBeUndefined();
    const list = res.data.pendingPharmacyRequests;
    const times = list.map((r: any) => r.requestedAt);
    expect(times).toEqual([...times].sort());
    expect(list[0]).toEqual({
      id: 'rq-john-atorvastatin-renewal', kind: 'RENEWAL', status: 'PENDING', requestedAt: expect.any(String),
      note: 'Down to my last week of tablets.', patient: { id: DEMO.john }, prescription: { id: 'rx-john-atorvastatin', medication: { name: 'Atorvastatin' } },
    });
    expect(new Set(list.map((r: any) => r.patient.id)).size).toBeGreaterThan(2);
    expect(list.every((r: any) => r.status === 'PENDING')).toBe(true);
    const renewals = (await gql(t.url, PENDING, { kind: 'RENEWAL' }, sam)).data.pendingPharmacyRequests;
    expect(renewals.length).toBeGreaterThan(0);
    expect(renewals.every((r: any) => r.kind === 'RENEWAL')).toBe(true);
    expect(renewals.map((r: any) => r.id)).toEqual(list.filter((r: any) => r.kind === 'RENEWAL').map((r: any) => r.id));
  });

  it('shows a practitioner only the requests of patients they treat', async () => {
    const mine = (await gql(t.url, PENDING, {}, alex)).data.pendingPharmacyRequests;
    expect(new Set(mine.map((r: any) => r.patient.id))).toEqual(new Set([DEMO.jane, DEMO.john]));
    const other = await gql(t.url, PENDING, {}, otherDoctor, { 'x-request-id': 'req-other-queue' });
    expect(other.errors).toBeUndefined();
    expect(new Set(other.data.pendingPharmacyRequests.map((r: any) => r.patient.id))).toEqual(new Set([DEMO.john]));
    expect(other.data.pendingPharmacyRequests.map((r: any) => r.id)).toContain(johnRequest);
    // Only what was shown is audited: no DENIED rows for the patients filtered out.
    const audit = await db().query(`SELECT patient_id, outcome FROM audit_event WHERE request_id = 'req-other-queue' AND record_kind = 'pharmacy_request'`);
    expect(audit).toEqual([{ patient_id: DEMO.john, outcome: 'ALLOWED' }]);
  });

  it('is for staff only', async () => {
    expect(codes(await gql(t.url, PENDING, {}, jane))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, PENDING, {}))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('decideRenewal', () => {
  it('approves: a new prescription linked to the old one, prescribed by the approving practitioner, and a message queued', async () => {
    const old = await make.prescription(DEMO.john, { refillsRemaining: 0, refillsAuthorized: 3, daysSupply: 30, quantity: 60, prescriberId: OTHER_DOCTOR });
    const request = await make.request(old, 'RENEWAL');
    const res = await gql(t.url, DECIDE, { requestId: request.id, approve: true, refills: 2, daysSupply: 90 }, alex);
    expect(res.errors).toBeUndefined();
    const decided = res.data.decideRenewal;
    expect(decided).toEqual({
      id: request.id,
      status: 'APPROVED',
      decidedAt: expect.stringMatching(/Z$/),
      decisionNote: null,
      newPrescription: {
        id: expect.any(String),
        status: 'ACTIVE',
        quantity: 60,
        daysSupply: 90,
        refillsAuthorized: 2,
        refillsRemaining: 2,
        writtenOn: today,
        expiresOn: addDays(now, 365),
        // The approver prescribes the renewal, not the original prescriber.
        prescriber: { id: DEMO.alex },
        renewedFrom: { id: old.id },
        medication: { name: 'Lisinopril' },
      },
      prescription: { id: old.id, renewable: false },
    });
    const [stored] = await db().query(`SELECT r.status, r.decided_by, r.new_prescription_id, p.care_team_id FROM pharmacy_request r JOIN prescription p ON p.id = r.new_prescription_id WHERE r.id = '${request.id}'`);
    expect(stored).toEqual({ status: 'APPROVED', decided_by: DEMO.alex, new_prescription_id: decided.newPrescription.id, care_team_id: DEMO.careTeamBlue });
    const outbox = await db().query(`SELECT * FROM pharmacy_outbox WHERE request_id = '${request.id}'`);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      idempotency_key: `renewal-decision:${request.id}`,
      patient_id: DEMO.john,
      care_team_id: DEMO.careTeamBlue,
      category: 'MEDICATION',
      subject: 'Your prescription renewal was approved',
      sender_name: 'Your care team',
      delivered_at: null,
      last_error: null,
    });
    expect(Number(outbox[0].attempts)).toBe(0);
    expect(outbox[0].body).toContain('approved your request to renew your Lisinopril prescription.');
    expect(outbox[0].body).toContain(`The new prescription has 2 refills and is valid until ${addDays(now, 365)}.`);
  });

  it('makes the deciding practitioner the prescriber, with the old refills and days of supply by default', async () => {
    const old = await make.prescription(DEMO.jane, { refillsRemaining: 0, refillsAuthorized: 4, daysSupply: 28, prescriberId: OTHER_DOCTOR });
    const request = await make.request(old, 'RENEWAL');
    const res = await gql(t.url, DECIDE, { requestId: request.id, approve: true }, alex, { 'x-request-id': 'req-alex-decides' });
    expect(res.errors).toBeUndefined();
    expect(res.data.decideRenewal.newPrescription).toMatchObject({ prescriber: { id: DEMO.alex }, refillsAuthorized: 4, refillsRemaining: 4, daysSupply: 28 });
    const audit = await db().query(`SELECT record_kind, action, outcome FROM audit_event WHERE request_id = 'req-alex-decides' AND action <> 'read' ORDER BY record_kind`);
    expect(audit).toEqual([
      { record_kind: 'pharmacy_request', action: 'update', outcome: 'ALLOWED' },
      { record_kind: 'prescription', action: 'create', outcome: 'ALLOWED' },
    ]);
  });

  it('denies with a reason, which the patient is told; a denial needs one', async () => {
    const old = await make.prescription(DEMO.jane, { refillsRemaining: 0 });
    const request = await make.request(old, 'RENEWAL');
    const noReason = await gql(t.url, DECIDE, { requestId: request.id, approve: false, note: '   ' }, alex);
    expect(codes(noReason)).toEqual(['BAD_USER_INPUT']);
    expect(noReason.errors?.[0].extensions?.field).toBe('note');
    const res = await gql(t.url, DECIDE, { requestId: request.id, approve: false, note: 'Please book a visit first: we need to check your blood pressure.' }, alex);
    expect(res.errors).toBeUndefined();
    expect(res.data.decideRenewal).toMatchObject({ status: 'DENIED', decisionNote: 'Please book a visit first: we need to check your blood pressure.', newPrescription: null });
    const [outbox] = await db().query(`SELECT subject, body FROM pharmacy_outbox WHERE request_id = '${request.id}'`);
    expect(outbox.subject).toBe('Your prescription renewal was not approved');
    expect(outbox.body).toContain('Reason: Please book a visit first: we need to check your blood pressure.');
    expect(await count('prescription', `renewed_from_id = '${old.id}'`)).toBe(0);
  });

  it('refuses out-of-range refills and days of supply, a second decision and a refill request, writing nothing', async () => {
    const old = await make.prescription(DEMO.john, { refillsRemaining: 0 });
    const request = await make.request(old, 'RENEWAL');
    const before = { rx: await count('prescription'), outbox: await count('pharmacy_outbox') };
    for (const [vars, field] of [
      [{ refills: 12 }, 'refills'],
      [{ refills: -1 }, 'refills'],
      [{ daysSupply: 0 }, 'daysSupply'],
      [{ daysSupply: 366 }, 'daysSupply'],
    ] as const) {
      const res = await gql(t.url, DECIDE, { requestId: request.id, approve: true, ...vars }, alex);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors?.[0].extensions?.field).toBe(field);
    }
    expect({ rx: await count('prescription'), outbox: await count('pharmacy_outbox') }).toEqual(before);
    expect((await db().query(`SELECT status FROM pharmacy_request WHERE id = '${request.id}'`))[0].status).toBe('PENDING');

    expect((await gql(t.url, DECIDE, { requestId: request.id, approve: true, refills: 11, daysSupply: 365 }, alex)).errors).toBeUndefined();
    const second = await gql(t.url, DECIDE, { requestId: request.id, approve: false, note: 'No.' }, otherDoctor);
    expect(codes(second)).toEqual(['CONFLICT']);
    expect(second.errors?.[0].message).toBe('This renewal request has already been decided.');
    expect({ rx: await count('prescription'), outbox: await count('pharmacy_outbox') }).toEqual({ rx: before.rx + 1, outbox: before.outbox + 1 });

    const refill = await make.request(await make.prescription(DEMO.john), 'REFILL');
    const wrongKind = await gql(t.url, DECIDE, { requestId: refill.id, approve: true }, alex);
    expect(codes(wrongKind)).toEqual(['BAD_USER_INPUT']);
    expect(wrongKind.errors?.[0].message).toMatch(/completeRefill/);
  });

  it('is for staff who may see the patient: patients FORBIDDEN, a practitioner who does not treat them NOT_FOUND', async () => {
    const old = await make.prescription(DEMO.jane, { refillsRemaining: 0 });
    const request = await make.request(old, 'RENEWAL');
    expect(codes(await gql(t.url, DECIDE, { requestId: request.id, approve: true }, jane))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, DECIDE, { requestId: request.id, approve: true }))).toEqual(['UNAUTHENTICATED']);
    const stranger = await gql(t.url, DECIDE, { requestId: request.id, approve: true }, otherDoctor);
    const missing = await gql(t.url, DECIDE, { requestId: 'rq-none', approve: true }, otherDoctor);
    expect(codes(stranger)).toEqual(['NOT_FOUND']);
    expect(stranger.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect((await db().query(`SELECT status FROM pharmacy_request WHERE id = '${request.id}'`))[0].status).toBe('PENDING');
  });

  it('is for practitioners only: a pharmacist gets FORBIDDEN and nothing changes', async () => {
    const old = await make.prescription(DEMO.jane, { refillsRemaining: 0 });
    const request = await make.request(old, 'RENEWAL');
    for (const approve of [true, false]) {
      expect(codes(await gql(t.url, DECIDE, { requestId: request.id, approve, note: 'No.' }, sam))).toEqual(['FORBIDDEN']);
    }
    expect((await db().query(`SELECT status FROM pharmacy_request WHERE id = '${request.id}'`))[0].status).toBe('PENDING');
    expect(await count('prescription', `renewed_from_id = '${old.id}'`)).toBe(0);
  });

  it('decides once when six practitioners decide the same request at the same moment', async () => {
    const old = await make.prescription(DEMO.john, { refillsRemaining: 0 });
    const request = await make.request(old, 'RENEWAL');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        gql(t.url, DECIDE, i % 2 ? { requestId: request.id, approve: true, refills: i } : { requestId: request.id, approve: false, note: `No ${i}` }, i % 3 ? otherDoctor : alex),
      ),
    );
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    expect(results.flatMap((r) => codes(r) ?? [])).toEqual(Array(5).fill('CONFLICT'));
    const [stored] = await db().query(`SELECT status, new_prescription_id FROM pharmacy_request WHERE id = '${request.id}'`);
    expect(stored.status).toBe(winners[0].data.decideRenewal.status);
    expect(await count('prescription', `renewed_from_id = '${old.id}'`)).toBe(stored.status === 'APPROVED' ? 1 : 0);
    expect(await count('pharmacy_outbox', `request_id = '${request.id}'`)).toBe(1);
  });
});

describe('completeRefill', () => {
  it('records a fill, uses one refill and completes the request; once', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id, { refillsRemaining: 2, quantity: 90 });
    const request = (await gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id }, p.token)).data.requestRefill;
    const res = await gql(t.url, COMPLETE, { requestId: request.id }, sam);
    expect(res.errors).toBeUndefined();
    expect(res.data.completeRefill).toEqual({
      id: request.id,
      status: 'COMPLETED',
      decidedAt: expect.any(String),
      prescription: { id: rx.id, refillsRemaining: 1, refillable: true, pendingRequest: null, fills: [{ filledOn: today, quantity: 90 }] },
    });
    // Once nothing of the patient's is pending, the pharmacist no longer sees the request at all.
    expect(codes(await gql(t.url, COMPLETE, { requestId: request.id }, sam))).toEqual(['NOT_FOUND']);
    expect(await count('fill', `prescription_id = '${rx.id}'`)).toBe(1);
    // The patient may ask for the next one now.
    expect((await gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id }, p.token)).errors).toBeUndefined();
  });

  it('is for pharmacists only: a practitioner who treats the patient gets FORBIDDEN and nothing is filled', async () => {
    const rx = await make.prescription(DEMO.jane, { refillsRemaining: 2 });
    const refill = await make.request(rx, 'REFILL');
    expect(codes(await gql(t.url, COMPLETE, { requestId: refill.id }, alex))).toEqual(['FORBIDDEN']);
    expect(await count('fill', `prescription_id = '${rx.id}'`)).toBe(0);
    expect((await db().query(`SELECT status FROM pharmacy_request WHERE id = '${refill.id}'`))[0].status).toBe('PENDING');
  });

  it('refuses patients, renewal requests, and a prescription that expired since', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id, { expiresOn: addDays(now, -1) });
    const refill = await make.request(rx, 'REFILL');
    expect(codes(await gql(t.url, COMPLETE, { requestId: refill.id }, p.token))).toEqual(['FORBIDDEN']);
    const expired = await gql(t.url, COMPLETE, { requestId: refill.id }, sam);
    expect(codes(expired)).toEqual(['REFILL_NOT_ALLOWED']);
    const renewal = await make.request(rx, 'RENEWAL');
    expect(codes(await gql(t.url, COMPLETE, { requestId: renewal.id }, sam))).toEqual(['BAD_USER_INPUT']);
    expect(await count('fill', `prescription_id = '${rx.id}'`)).toBe(0);
    expect((await db().query(`SELECT refills_remaining FROM prescription WHERE id = '${rx.id}'`))[0].refills_remaining).toBe(2);
  });
});

describe('denyRefill', () => {
  const outboxOf = (requestId: string) => db().query(`SELECT idempotency_key, patient_id, care_team_id, subject, body FROM pharmacy_outbox WHERE request_id = '${requestId}'`);
  const statusOf = async (id: string) => (await db().query(`SELECT status, decision_note, decided_by FROM pharmacy_request WHERE id = '${id}'`))[0];

  it('denies a pending refill with its reason, fills nothing, and queues the patient’s message with the change', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id, { refillsRemaining: 2 });
    const request = (await gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id }, p.token)).data.requestRefill;
    const res = await gql(t.url, DENY, { requestId: request.id, reason: '  Too early: the last fill lasts until next week.  ' }, sam, { 'x-request-id': `req-deny-${p.id}` });
    expect(res.errors).toBeUndefined();
    expect(res.data.denyRefill).toEqual({
      id: request.id,
      kind: 'REFILL',
      status: 'DENIED',
      decidedAt: expect.any(String),
      decisionNote: 'Too early: the last fill lasts until next week.',
      prescription: { id: rx.id, refillsRemaining: 2, refillable: true, pendingRequest: null, fills: [] },
    });
    expect(await statusOf(request.id)).toEqual({ status: 'DENIED', decision_note: 'Too early: the last fill lasts until next week.', decided_by: DEMO.sam });
    expect(await outboxOf(request.id)).toEqual([
      {
        idempotency_key: `refill-decision:${request.id}`,
        patient_id: p.id,
        care_team_id: DEMO.careTeamBlue,
        subject: 'Your prescription refill was not filled',
        body: expect.stringContaining('Reason: Too early: the last fill lasts until next week.'),
      },
    ]);
    // Audited as a change of the patient's pharmacy request by the pharmacist.
    expect(await db().query(`SELECT record_kind, action, outcome FROM audit_event WHERE request_id = 'req-deny-${p.id}'`)).toContainEqual({
      record_kind: 'pharmacy_request',
      action: 'update',
      outcome: 'ALLOWED',
    });
    // A second denial or a fill after it: the pharmacist has no case any more, so it reads as missing.
    expect(codes(await gql(t.url, DENY, { requestId: request.id, reason: 'Again.' }, sam))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(t.url, COMPLETE, { requestId: request.id }, sam))).toEqual(['NOT_FOUND']);
    expect(await count('fill', `prescription_id = '${rx.id}'`)).toBe(0);
    // The patient may ask again.
    expect((await gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id }, p.token)).errors).toBeUndefined();
  });

  it('a filled refill is told too, without directions or strength', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id, { refillsRemaining: 2 });
    const request = (await gql(t.url, REQUEST_REFILL, { prescriptionId: rx.id }, p.token)).data.requestRefill;
    expect((await gql(t.url, COMPLETE, { requestId: request.id }, sam)).errors).toBeUndefined();
    const [row] = await outboxOf(request.id);
    expect(row).toMatchObject({ idempotency_key: `refill-decision:${request.id}`, subject: 'Your prescription refill was filled' });
    expect(row.body).toContain('has 1 refill left');
    expect(row.body).not.toMatch(/mg|tablet|Take /);
  });

  it('checks its input and who asks, and changes nothing when it refuses', async () => {
    const p = await newPatient();
    const rx = await make.prescription(p.id, { refillsRemaining: 2 });
    const refill = await make.request(rx, 'REFILL');
    for (const reason of ['', '   ', 'x'.repeat(501), 'a\u0000b']) {
      const res = await gql(t.url, DENY, { requestId: refill.id, reason }, sam);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors?.[0].extensions?.field).toBe('reason');
    }
    expect(codes(await gql(t.url, DENY, { requestId: 'not an id!', reason: 'No.' }, sam))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(t.url, DENY, { requestId: 'rq-missing', reason: 'No.' }, sam))).toEqual(['NOT_FOUND']);
    // Only pharmacists: the patient and a practitioner who treats them are FORBIDDEN.
    expect(codes(await gql(t.url, DENY, { requestId: refill.id, reason: 'No.' }, p.token))).toEqual(['FORBIDDEN']);
    const janeRx = await make.prescription(DEMO.jane, { refillsRemaining: 2 });
    const janeRefill = await make.request(janeRx, 'REFILL');
    expect(codes(await gql(t.url, DENY, { requestId: janeRefill.id, reason: 'No.' }, alex))).toEqual(['FORBIDDEN']);
    // A renewal is decided with decideRenewal.
    const renewalRx = await make.prescription(p.id, { refillsRemaining: 0 });
    const renewal = await make.request(renewalRx, 'RENEWAL');
    const wrongKind = await gql(t.url, DENY, { requestId: renewal.id, reason: 'No.' }, sam);
    expect(codes(wrongKind)).toEqual(['BAD_USER_INPUT']);
    expect(wrongKind.errors?.[0].message).toMatch(/decideRenewal/);
    expect(await statusOf(refill.id)).toMatchObject({ status: 'PENDING', decision_note: null });
    expect(await statusOf(janeRefill.id)).toMatchObject({ status: 'PENDING' });
    expect(await statusOf(renewal.id)).toMatchObject({ status: 'PENDING' });
    expect(await count('pharmacy_outbox', `request_id IN ('${refill.id}', '${janeRefill.id}', '${renewal.id}')`)).toBe(0);
  });

  // PostgreSQL only: the request's row is held locked until both a fill and a denial have passed
  // every check and wait at the guarded UPDATE, so the guard alone decides (SQLite queues changes).
  (process.env.PORTAL_TEST_DB === 'postgres' ? it : it.skip)('settles a fill and a denial that both passed their checks at the guarded UPDATE', async () => {
    const sam2 = await t.token({ personId: 'pr-2999999998', role: 'PHARMACIST' });
    const p = await newPatient();
    const rx = await make.prescription(p.id, { refillsRemaining: 3 });
    const refill = await make.request(rx, 'REFILL');
    const holder = db().createQueryRunner();
    let results: GraphQLResponse[];
    try {
      await holder.connect();
      await holder.startTransaction();
      await holder.query('SELECT id FROM pharmacy_request WHERE id = $1 FOR UPDATE', [refill.id]);
      const [{ pid }] = await holder.query('SELECT pg_backend_pid() AS pid');
      const sent = Promise.all([
        gql(t.url, COMPLETE, { requestId: refill.id }, sam),
        gql(t.url, DENY, { requestId: refill.id, reason: 'Out of stock.' }, sam2),
      ]);
      // Both wait on the held row, the second behind the first (a deadline for a loaded machine; the assertions below decide).
      const WAITING = `WITH RECURSIVE blocked(pid) AS (
          SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
          UNION SELECT a.pid FROM pg_stat_activity a JOIN blocked b ON b.pid = ANY(pg_blocking_pids(a.pid)))
        SELECT COUNT(*) AS n FROM blocked`;
      const waiting = async () => Number((await db().query(WAITING, [pid]))[0].n);
      for (const deadline = Date.now() + 30_000; (await waiting()) < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
      expect(await waiting()).toBe(2);
      await holder.commitTransaction();
      results = await sent;
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    // The loser passed every check before the winner committed: only the guard refused it.
    expect(results.flatMap((r) => codes(r) ?? [])).toEqual(['CONFLICT']);
    const won = winners[0].data.completeRefill ?? winners[0].data.denyRefill;
    expect((await statusOf(refill.id)).status).toBe(won.status);
    expect(await count('fill', `prescription_id = '${rx.id}'`)).toBe(won.status === 'COMPLETED' ? 1 : 0);
    expect(await count('pharmacy_outbox', `request_id = '${refill.id}'`)).toBe(1);
  });

  it('a fill and a denial sent at the same moment: exactly one wins, and what is stored agrees with it', async () => {
    const sam2 = await t.token({ personId: 'pr-2999999998', role: 'PHARMACIST' });
    for (let round = 0; round < 4; round++) {
      const p = await newPatient();
      const rx = await make.prescription(p.id, { refillsRemaining: 3 });
      const refill = await make.request(rx, 'REFILL');
      const sends = [
        gql(t.url, COMPLETE, { requestId: refill.id }, sam),
        gql(t.url, DENY, { requestId: refill.id, reason: 'Out of stock.' }, sam2),
        gql(t.url, DENY, { requestId: refill.id, reason: 'Too early.' }, sam),
        gql(t.url, COMPLETE, { requestId: refill.id }, sam2),
      ];
      const results = round % 2 ? await Promise.all(sends.reverse()) : await Promise.all(sends);
      const winners = results.filter((r) => !r.errors);
      expect(winners).toHaveLength(1);
      // The losers saw it decided: CONFLICT, or NOT_FOUND once the pharmacist's case ended with it.
      for (const r of results.filter((x) => x.errors)) expect(['CONFLICT', 'NOT_FOUND']).toContain(codes(r)![0]);
      const won = winners[0].data.completeRefill ?? winners[0].data.denyRefill;
      const stored = await statusOf(refill.id);
      expect(stored.status).toBe(won.status);
      const fills = await count('fill', `prescription_id = '${rx.id}'`);
      const [{ refills_remaining }] = await db().query(`SELECT refills_remaining FROM prescription WHERE id = '${rx.id}'`);
      if (won.status === 'COMPLETED') {
        expect({ fills, refills: Number(refills_remaining), note: stored.decision_note }).toEqual({ fills: 1, refills: 2, note: null });
      } else {
        expect(won.status).toBe('DENIED');
        expect({ fills, refills: Number(refills_remaining) }).toEqual({ fills: 0, refills: 3 });
      }
      const outbox = await outboxOf(refill.id);
      expect(outbox).toHaveLength(1);
      expect(outbox[0].subject).toBe(won.status === 'COMPLETED' ? 'Your prescription refill was filled' : 'Your prescription refill was not filled');
    }
  });
});
