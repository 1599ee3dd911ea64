/**
 * Proxy access in pharmacy: a parent or caregiver whose grant covers
 * MEDICATIONS reads the patient's prescriptions and asks for refills and
 * renewals in the patient's name (the prescription names the patient; the
 * request records who asked); without the scope they are refused. Decisions
 * are audited with the actor role PROXY.
 */
import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '@portal/kit/testing';
import { createPharmacyModule } from './module';
import { seedDemo } from './seed';

const ALL = ['APPOINTMENTS', 'MESSAGES', 'MEDICATIONS', 'RESULTS', 'NOTES', 'HEALTH_SUMMARY'];
/** Someone the family named for messages only. */
const CAREGIVER = 'pt-proxy-caregiver';

const PRESCRIPTIONS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id prescriptions { id refillable renewable } } } }`;
const REFILL = `mutation($id: ID!) { requestRefill(input: { prescriptionId: $id, idempotencyKey: "proxy-refill" }) { id kind status patient { id } prescription { id pendingRequest { id } } } }`;
const RENEWAL = `mutation($id: ID!) { requestRenewal(input: { prescriptionId: $id, note: "Liam finished the course; the doctor asked us to renew it." }) { id kind status patient { id } } }`;

const patient = (id: string) => ({ r: [{ __typename: 'Patient', id }] });
const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);

let t: TestSubgraph;
let jane: string;
let caregiver: string;
let john: string;
const db = () => t.server.database.dataSource;

beforeAll(async () => {
  t = await startTestSubgraph(createPharmacyModule(), {
    proxyGrants: {
      [DEMO.jane]: { [DEMO.emma]: { scopes: ALL, hideSensitive: false }, [DEMO.liam]: { scopes: ALL, hideSensitive: true } },
      [CAREGIVER]: { [DEMO.emma]: { scopes: ['MESSAGES'], hideSensitive: false } },
    },
  });
  await seedDemo(db());
  await seedDemo(db()); // idempotent, the children's prescriptions too
  jane = await t.token({ personId: DEMO.jane });
  caregiver = await t.token({ personId: CAREGIVER });
  john = await t.token({ personId: DEMO.john });
});
afterAll(async () => {
  await t?.stop();
});

it('gives a parent with the MEDICATIONS scope the child’s prescriptions, and refuses anyone without it (FORBIDDEN)', async () => {
  const res = await gql(t.url, PRESCRIPTIONS, patient(DEMO.emma), jane, { 'x-request-id': 'req-proxy-rx' });
  expect(res.errors).toBeUndefined();
  expect(res.data._entities[0].prescriptions).toEqual([{ id: 'rx-emma-albuterol', refillable: true, renewable: false }]);
  for (const token of [caregiver, john]) {
    const refused = await gql(t.url, PRESCRIPTIONS, patient(DEMO.emma), token);
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    expect(refused.data._entities[0]).toEqual({ id: DEMO.emma, prescriptions: null });
  }
  const audit = await db().query(`SELECT actor_person_id, actor_role, patient_id, outcome FROM audit_event WHERE request_id = 'req-proxy-rx'`);
  expect(audit).toEqual([{ actor_person_id: DEMO.jane, actor_role: 'PROXY', patient_id: DEMO.emma, outcome: 'ALLOWED' }]);
});

it('asks for a refill and a renewal in the child’s name: the request is the child’s, asked by the parent, audited as PROXY', async () => {
  const refill = await gql(t.url, REFILL, { id: 'rx-emma-albuterol' }, jane, { 'x-request-id': 'req-proxy-refill' });
  expect(refill.errors).toBeUndefined();
  expect(refill.data.requestRefill).toMatchObject({ kind: 'REFILL', status: 'PENDING', patient: { id: DEMO.emma } });
  // The same key sent again answers with the first request.
  const again = await gql(t.url, REFILL, { id: 'rx-emma-albuterol' }, jane);
  expect(again.data.requestRefill.id).toBe(refill.data.requestRefill.id);
  const renewal = await gql(t.url, RENEWAL, { id: 'rx-liam-amoxicillin' }, jane);
  expect(renewal.errors).toBeUndefined();
  expect(renewal.data.requestRenewal).toMatchObject({ kind: 'RENEWAL', status: 'PENDING', patient: { id: DEMO.liam } });
  const stored = await db().query(`SELECT patient_id, requested_by FROM pharmacy_request WHERE id IN ('${refill.data.requestRefill.id}', '${renewal.data.requestRenewal.id}') ORDER BY patient_id`);
  expect(stored).toEqual([
    { patient_id: DEMO.emma, requested_by: DEMO.jane },
    { patient_id: DEMO.liam, requested_by: DEMO.jane },
  ]);
  const audit = await db().query(`SELECT actor_role, patient_id, record_kind, action, outcome FROM audit_event WHERE request_id = 'req-proxy-refill' AND action = 'create'`);
  expect(audit).toEqual([{ actor_role: 'PROXY', patient_id: DEMO.emma, record_kind: 'pharmacy_request', action: 'create', outcome: 'ALLOWED' }]);
});

it('refuses a refill in the name of a patient the viewer has no MEDICATIONS scope for, exactly like a missing prescription', async () => {
  for (const token of [caregiver, john]) expect(codes(await gql(t.url, REFILL, { id: 'rx-emma-albuterol' }, token))).toEqual(['NOT_FOUND']);
  const requests = await db().query(`SELECT COUNT(*) AS "n" FROM pharmacy_request WHERE requested_by IN ('${CAREGIVER}', '${DEMO.john}') AND patient_id = '${DEMO.emma}'`);
  expect(Number(requests[0].n)).toBe(0);
});
