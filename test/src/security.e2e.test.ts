import { DEMO } from '@portal/demo';
import { gql } from '@portal/kit/testing';
import { operation, samToken, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let jane: string;
let john: string;

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  john = await stack.signIn('john.roe', 'Demo-Password-2');
});
afterAll(() => stack?.stop());

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Patient { id FIELDS } } }`;

/** A health field of Patient that each subgraph owns. */
const PATIENT_FIELDS: Record<string, string> = {
  identity: 'dodId name { given family } dateOfBirth',
  scheduling: 'appointments(first: 5) { totalCount edges { node { id reason } } }',
  messaging: 'unreadMessageCount messageThreads(folder: INBOX, first: 5) { totalCount edges { node { id subject } } }',
  pharmacy: 'prescriptions { id directions medication { name } }',
  'clinical-records': 'labResults(first: 5) { totalCount edges { node { id value } } } conditions { name }',
};

/**
 * What a subgraph answered beyond the id the caller sent in the representation:
 * the fields other subgraphs add to Patient are nullable (so an outage costs
 * only its section), so a refused field is null inside an entity that echoes
 * the caller's own id back. Those subgraphs resolve the reference without
 * looking it up, so the echo says nothing about whether the patient exists
 * (checked below against an id nobody has).
 */
const beyondEcho = (data: any) => JSON.stringify((data?._entities ?? null)?.map((e: any) => e && { ...e, id: undefined }) ?? null);

async function expectSameAsForUnknownId(url: string, query: string, res: { data?: any; errors?: readonly any[] }, token?: string) {
  const unknown = await gql(url, query, { r: [{ __typename: 'Patient', id: 'pt-0000000000' }] }, token);
  expect(beyondEcho(res.data)).toBe(beyondEcho(unknown.data));
  expect(res.errors?.map((e) => e.extensions?.code)).toEqual(unknown.errors?.map((e) => e.extensions?.code));
}

describe('a subgraph called directly, without the gateway', () => {
  it.each(Object.keys(PATIENT_FIELDS))('%s gives no health data through _entities without a token', async (name) => {
    const s = stack.subgraphs[name as keyof typeof stack.subgraphs];
    const query = ENTITIES.replace('FIELDS', PATIENT_FIELDS[name]);
    const res = await gql(s.graphqlUrl, query, { r: [{ __typename: 'Patient', id: DEMO.jane }] });
    const text = beyondEcho(res.data);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const secret of ['1000000001', '1990-04-12', 'lisinopril', 'Lisinopril', '6.9', 'Primary Care']) expect(text).not.toContain(secret);
    await expectSameAsForUnknownId(s.graphqlUrl, query, res);
  });

  it.each(Object.keys(PATIENT_FIELDS))('%s refuses another patient’s token for Jane through _entities', async (name) => {
    const s = stack.subgraphs[name as keyof typeof stack.subgraphs];
    const res = await gql(s.graphqlUrl, ENTITIES.replace('FIELDS', PATIENT_FIELDS[name]), { r: [{ __typename: 'Patient', id: DEMO.jane }] }, john);
    if (name === 'identity') {
      // Identity answers exactly as for a patient id that does not exist, so ids cannot be probed.
      const unknown = await gql(s.graphqlUrl, ENTITIES.replace('FIELDS', PATIENT_FIELDS[name]), { r: [{ __typename: 'Patient', id: 'pt-0000000000' }] }, john);
      expect(res).toEqual(unknown);
      expect(res.data._entities).toEqual([null]);
    } else {
      expect(['FORBIDDEN', 'NOT_FOUND']).toContain(res.errors?.[0]?.extensions?.code);
    }
    const text = beyondEcho(res.data);
    for (const secret of ['1000000001', '1990-04-12', 'isinopril', 'Primary Care']) expect(text).not.toContain(secret);
  });

  it.each(Object.keys(PATIENT_FIELDS))('%s refuses a token signed by someone else’s key', async (name) => {
    const { testSigningKey, mintToken } = await import('@portal/kit/testing');
    const forged = await mintToken(await testSigningKey(), { personId: DEMO.jane });
    const s = stack.subgraphs[name as keyof typeof stack.subgraphs];
    const res = await gql(s.graphqlUrl, ENTITIES.replace('FIELDS', PATIENT_FIELDS[name]), { r: [{ __typename: 'Patient', id: DEMO.jane }] }, forged);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data).toBeUndefined();
  });
});

describe('another patient’s ids through the gateway', () => {
  it('a thread of Jane’s looks missing to John and shows nothing of it', async () => {
    const mine = await stack.query(operation('MessageThreads'), { folder: 'INBOX', first: 1 }, jane);
    const thread = mine.data.me.patient.messageThreads.edges[0].node;
    const res = await stack.query(operation('MessageThread'), { id: thread.id }, john);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(res)).not.toContain(thread.subject);
    const missing = await stack.query(operation('MessageThread'), { id: 'no-such-thread' }, john);
    expect(missing.errors?.[0].message).toBe(res.errors?.[0].message);
  });

  it('a pharmacist sees prescriptions of a patient with a pending request, but not notes or results', async () => {
    const sam = await samToken(stack);
    // John has a renewal pending (demo seed); Jane nothing.
    const rx = await gql(stack.subgraphs.pharmacy.graphqlUrl, ENTITIES.replace('FIELDS', 'prescriptions { id }'), { r: [{ __typename: 'Patient', id: DEMO.john }] }, sam);
    expect(rx.errors).toBeUndefined();
    expect(rx.data._entities[0].prescriptions.length).toBeGreaterThan(0);
    const none = await gql(stack.subgraphs.pharmacy.graphqlUrl, ENTITIES.replace('FIELDS', 'prescriptions { id }'), { r: [{ __typename: 'Patient', id: DEMO.jane }] }, sam);
    expect(none.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(none.data)).not.toContain('rx-jane');
    const notes = await gql(stack.subgraphs['clinical-records'].graphqlUrl, ENTITIES.replace('FIELDS', 'visitNotes(first: 5) { edges { node { text } } }'), { r: [{ __typename: 'Patient', id: DEMO.john }] }, sam);
    expect(notes.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(notes.data)).not.toContain('text');
  });

  it('audits reads and refusals with the gateway’s request id and no health data', async () => {
    await stack.query(operation('PortalView'), {}, jane);
    const rows = await stack.subgraphs['clinical-records'].database.dataSource.query(
      `SELECT request_id, actor_role, patient_id, record_kind, action, outcome FROM audit_event WHERE patient_id = '${DEMO.jane}'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r: any) => r.record_kind === 'lab_result' && r.outcome === 'ALLOWED' && r.actor_role === 'PATIENT')).toBe(true);
    expect(rows.every((r: any) => /^[0-9a-f-]{36}$/.test(r.request_id))).toBe(true);
  });
});

describe('errors and health', () => {
  it('answers /health with 200 when every subgraph is ready', async () => {
    const res = await fetch(`${stack.gatewayUrl}/health`);
    expect(res.status).toBe(200);
    for (const s of Object.values(stack.subgraphs)) expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });

  it('turns bad input into BAD_USER_INPUT without internals', async () => {
    const res = await stack.query(operation('MyAppointments'), { first: 1000 }, jane);
    expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    const text = JSON.stringify(res);
    expect(text).not.toMatch(/stacktrace|127\.0\.0\.1|SELECT|at .*\.ts/);
  });

  it('refuses a malformed query with a parse error code and no stack trace', async () => {
    const res = await stack.query('{ me { ', {}, jane);
    expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(JSON.stringify(res)).not.toContain('stacktrace');
  });
});

describe('query depth', () => {
  it('refuses an operation nested too deep at the gateway, before any subgraph runs it', async () => {
    let inner = 'id';
    for (let i = 0; i < 4; i++) inner = `careTeams { threads(first: 1) { edges { node { patient { ${inner} } } } } }`;
    const res = await stack.query(`{ me { patient { ${inner} } } }`, {}, jane);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.errors?.[0].message).toMatch(/nested more than 20 levels/);
    expect(res.data).toBeUndefined();
  });
});
