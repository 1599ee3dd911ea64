/**
 * Audit that can be trusted and staff rights checked live, through the
 * gateway: the request id a client gets back is the one in every subgraph's
 * audit rows; a subgraph called directly keeps no request id it cannot verify;
 * a pharmacist sees demographics only of patients with a pending request;
 * leaving a care team takes effect on the next request of the same token.
 */
import { randomUUID } from 'node:crypto';
import { DEMO } from '@portal/demo';
import { gql } from '@portal/kit/testing';
import { alexToken, samToken, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let jane: string;
let alex: string;
let sam: string;

beforeAll(async () => {
  stack = await startTestStack();
  [jane, alex, sam] = await Promise.all([stack.signIn('jane.doe', 'Demo-Password-1'), alexToken(stack), samToken(stack)]);
});
afterAll(async () => {
  await stack?.stop();
});

const db = (name: 'identity' | 'pharmacy' | 'messaging') => stack.subgraphs[name].database.dataSource;
const auditOf = async (name: 'identity' | 'pharmacy' | 'messaging', requestId: string) =>
  (await db(name).query(`SELECT record_kind, action, outcome FROM audit_event WHERE request_id = '${requestId}' ORDER BY record_kind, action`)) as {
    record_kind: string;
    action: string;
    outcome: string;
  }[];

/** POSTs to `url` and returns the body with the x-request-id header the server answered. */
async function post(url: string, query: string, variables: Record<string, unknown>, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { requestId: res.headers.get('x-request-id') ?? '', body: (await res.json()) as any };
}

const PATIENT_NAME = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id name { family } } } }`;
const REQUEST_REFILL = `mutation($id: ID!) { requestRefill(input: { prescriptionId: $id }) { id status } }`;

describe('pharmacists and demographics', () => {
  it('answers a pharmacist the same for an unknown patient and one with nothing pending: null, no error', async () => {
    const identity = stack.subgraphs.identity.url + '/graphql';
    const hidden = await gql(identity, PATIENT_NAME, { r: [{ __typename: 'Patient', id: DEMO.jane }] }, sam);
    const unknown = await gql(identity, PATIENT_NAME, { r: [{ __typename: 'Patient', id: 'pt-9999999999' }] }, sam);
    expect(hidden).toEqual({ status: 200, data: { _entities: [null] } });
    expect(unknown).toEqual(hidden);
    // John has a renewal waiting (demo seed): his name is shown.
    const pending = await stack.query(`{ pendingPharmacyRequests { patient { id name { family } } } }`, {}, sam);
    expect(pending.errors).toBeUndefined();
    expect(pending.data.pendingPharmacyRequests).toContainEqual({ patient: { id: DEMO.john, name: { family: 'Roe' } } });
  });
});

describe('request ids', () => {
  it('gives the client the request id that every subgraph audited, never one the client chose', async () => {
    const chosen = `client-${randomUUID()}`;
    const read = await post(stack.graphqlUrl, `{ me { patient { name { family } prescriptions { id } } } }`, {}, jane, { 'x-request-id': chosen });
    expect(read.body.errors).toBeUndefined();
    expect(read.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(read.requestId).not.toBe(chosen);
    expect(await auditOf('identity', read.requestId)).toEqual([{ record_kind: 'demographics', action: 'read', outcome: 'ALLOWED' }]);
    expect(await auditOf('pharmacy', read.requestId)).toContainEqual({ record_kind: 'prescription', action: 'read', outcome: 'ALLOWED' });
    expect(await auditOf('identity', chosen)).toEqual([]);
    expect(await auditOf('pharmacy', chosen)).toEqual([]);

    const write = await post(stack.graphqlUrl, REQUEST_REFILL, { id: 'rx-jane-lisinopril' }, jane);
    expect(write.body.errors).toBeUndefined();
    expect(await auditOf('pharmacy', write.requestId)).toContainEqual({ record_kind: 'pharmacy_request', action: 'create', outcome: 'ALLOWED' });
    const [stored] = await db('pharmacy').query(`SELECT patient_id FROM pharmacy_request WHERE id = '${write.body.data.requestRefill.id}'`);
    expect(stored.patient_id).toBe(DEMO.jane);
  });

  it('does not store a request id sent straight to a subgraph without the gateway’s proof', async () => {
    const pharmacy = stack.subgraphs.pharmacy.graphqlUrl;
    const forgeries: Record<string, string>[] = [
      { 'x-request-id': `forged-${randomUUID()}` },
      { 'x-request-id': `forged-${randomUUID()}`, 'x-request-id-proof': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    ];
    for (const headers of forgeries) {
      const res = await post(pharmacy, PATIENT_PRESCRIPTIONS, { r: [{ __typename: 'Patient', id: DEMO.jane }] }, jane, headers);
      expect(res.body.errors).toBeUndefined();
      expect(res.requestId).not.toBe(headers['x-request-id']);
      expect(await auditOf('pharmacy', headers['x-request-id'])).toEqual([]);
      expect(await auditOf('pharmacy', res.requestId)).toContainEqual({ record_kind: 'prescription', action: 'read', outcome: 'ALLOWED' });
    }
  });

  it('shows a pharmacist the demographics of a patient once a request of theirs is pending', async () => {
    // Jane asked for a refill in the test above.
    const identity = stack.subgraphs.identity.url + '/graphql';
    const res = await gql(identity, PATIENT_NAME, { r: [{ __typename: 'Patient', id: DEMO.jane }] }, sam);
    expect(res).toEqual({ status: 200, data: { _entities: [{ id: DEMO.jane, name: { family: 'Doe' } }] } });
  });
});

const PATIENT_PRESCRIPTIONS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { prescriptions { id } } } }`;

describe('care teams are checked live', () => {
  it('refuses a practitioner removed from the care team on the next request with the same token', async () => {
    const THREAD = `query($id: ID!) { messageThread(id: $id) { id } }`;
    expect((await stack.query(THREAD, { id: 'th-jane-unread' }, alex)).data.messageThread).toEqual({ id: 'th-jane-unread' });
    await db('identity').query(`DELETE FROM care_team_member WHERE person_id = '${DEMO.alex}' AND care_team_id = '${DEMO.careTeamBlue}'`);
    const after = await stack.query(THREAD, { id: 'th-jane-unread' }, alex);
    expect(after.data?.messageThread ?? null).toBeNull();
    expect(after.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it('refuses a patient removed from a care team on the next request with the same token', async () => {
    const SEND = `mutation($team: ID!) { sendMessage(input: { careTeamId: $team, category: GENERAL, subject: "Hello", body: "A question." }) { id } }`;
    expect((await stack.query(SEND, { team: DEMO.careTeamGreen }, jane)).errors).toBeUndefined();
    await db('identity').query(`DELETE FROM care_team_member WHERE person_id = '${DEMO.jane}' AND care_team_id = '${DEMO.careTeamGreen}'`);
    const before = Number((await db('messaging').query(`SELECT COUNT(*) AS "n" FROM message_thread WHERE patient_id = '${DEMO.jane}'`))[0].n);
    const after = await stack.query(SEND, { team: DEMO.careTeamGreen }, jane);
    expect(after.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(Number((await db('messaging').query(`SELECT COUNT(*) AS "n" FROM message_thread WHERE patient_id = '${DEMO.jane}'`))[0].n)).toBe(before);
  });
});
