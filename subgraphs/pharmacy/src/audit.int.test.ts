/**
 * Pharmacy's changes and their audit rows commit together: with audit_event
 * refusing inserts, a request, a fill and a decision store nothing.
 */
import { DEMO } from '@portal/demo';
import { gql, refuseAuditInserts, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { pharmacyFactory, uniqueId, type PharmacyFactory } from './factories';
import { createPharmacyModule } from './module';
import { seedDemo } from './seed';

let t: TestSubgraph;
let make: PharmacyFactory;
const db = () => t.server.database.dataSource;
const count = async (table: string, where: string) => Number((await db().query(`SELECT COUNT(*) AS "n" FROM ${table} WHERE ${where}`))[0].n);

beforeAll(async () => {
  t = await startTestSubgraph(createPharmacyModule(), { careAccess: { [DEMO.alex]: [DEMO.jane] } });
  await seedDemo(db(), new Date());
  make = pharmacyFactory(db());
});
afterAll(async () => {
  await t?.stop();
});

it('rolls back a change whose audit rows cannot be written, and stores it once they can', async () => {
  const patient = uniqueId('pt-audit');
  const token = await t.token({ personId: patient });
  const rx = await make.prescription(patient, { refillsRemaining: 2 });
  const REFILL = `mutation($id: ID!) { requestRefill(input: { prescriptionId: $id }) { id } }`;
  const allow = await refuseAuditInserts(db());
  try {
    const res = await gql(t.url, REFILL, { id: rx.id }, token);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(JSON.stringify(res)).not.toMatch(/audit_event|refuses/);
    expect(await count('pharmacy_request', `prescription_id = '${rx.id}'`)).toBe(0);
  } finally {
    await allow();
  }
  const ok = await gql(t.url, REFILL, { id: rx.id }, token, { 'x-request-id': `req-refill-${patient}` });
  expect(ok.errors).toBeUndefined();
  expect(await count('pharmacy_request', `prescription_id = '${rx.id}'`)).toBe(1);
  expect(await db().query(`SELECT record_kind, action, outcome FROM audit_event WHERE request_id = 'req-refill-${patient}'`)).toEqual([
    { record_kind: 'pharmacy_request', action: 'create', outcome: 'ALLOWED' },
  ]);
});

it('rolls back a fill and a renewal decision whose audit rows cannot be written', async () => {
  const sam = await t.token({ personId: DEMO.sam, role: 'PHARMACIST' });
  const alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER', careTeamIds: [DEMO.careTeamBlue] });
  const rx = await make.prescription(DEMO.jane, { refillsRemaining: 2 });
  const refill = await make.request(rx, 'REFILL');
  const old = await make.prescription(DEMO.jane, { refillsRemaining: 0 });
  const renewal = await make.request(old, 'RENEWAL');
  const allow = await refuseAuditInserts(db());
  try {
    const fill = await gql(t.url, `mutation($id: ID!) { completeRefill(input: { requestId: $id }) { id } }`, { id: refill.id }, sam);
    expect(fill.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
    const decide = await gql(t.url, `mutation($id: ID!) { decideRenewal(input: { requestId: $id, approve: true }) { id } }`, { id: renewal.id }, alex);
    expect(decide.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
  } finally {
    await allow();
  }
  expect(await count('fill', `prescription_id = '${rx.id}'`)).toBe(0);
  expect((await db().query(`SELECT refills_remaining FROM prescription WHERE id = '${rx.id}'`))[0].refills_remaining).toBe(2);
  expect((await db().query(`SELECT status FROM pharmacy_request WHERE id IN ('${refill.id}', '${renewal.id}') ORDER BY kind`)).map((r: any) => r.status)).toEqual(['PENDING', 'PENDING']);
  expect(await count('prescription', `renewed_from_id = '${old.id}'`)).toBe(0);
  expect(await count('pharmacy_outbox', `request_id = '${renewal.id}'`)).toBe(0);
});

it('rolls back a refill denial, and its message to the patient, whose audit rows cannot be written', async () => {
  const sam = await t.token({ personId: DEMO.sam, role: 'PHARMACIST' });
  const rx = await make.prescription(DEMO.jane, { refillsRemaining: 2 });
  const refill = await make.request(rx, 'REFILL');
  const DENY = `mutation($id: ID!) { denyRefill(input: { requestId: $id, reason: "Out of stock." }) { id status } }`;
  const allow = await refuseAuditInserts(db());
  try {
    const res = await gql(t.url, DENY, { id: refill.id }, sam);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
  } finally {
    await allow();
  }
  expect((await db().query(`SELECT status, decision_note FROM pharmacy_request WHERE id = '${refill.id}'`))[0]).toEqual({ status: 'PENDING', decision_note: null });
  expect(await count('pharmacy_outbox', `request_id = '${refill.id}'`)).toBe(0);
  // Once the audit rows can be written, the denial and its message are stored together.
  expect((await gql(t.url, DENY, { id: refill.id }, sam)).data).toEqual({ denyRefill: { id: refill.id, status: 'DENIED' } });
  expect(await count('pharmacy_outbox', `request_id = '${refill.id}'`)).toBe(1);
});
