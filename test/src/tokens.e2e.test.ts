/**
 * Tokens signed with identity's own key but wrong in one way each (audience,
 * issuer, expiry, session) are refused by the gateway and by every subgraph
 * called directly. Each starts from a token that every one of them accepts,
 * for Jane's account with a real session, and changes one claim.
 */
import { randomUUID } from 'node:crypto';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { gql, type GraphQLResponse } from '@portal/kit/testing';
import { startTestStack, type TestStack } from './harness';

let stack: TestStack;
let sessionId: string;

beforeAll(async () => {
  stack = await startTestStack();
  sessionId = (await stack.openSession('ac-jane-doe')).id;
});
afterAll(() => stack?.stop());

/** Jane's claims, as identity signs them at sign-in, with `changes` applied. */
function janeToken(changes: Record<string, unknown> = {}): Promise<string> {
  return stack.signClaims({
    sub: 'ac-jane-doe',
    pid: DEMO.jane,
    role: 'PATIENT',
    amr: 'DS_LOGON',
    sid: sessionId,
    teams: [DEMO.careTeamBlue, DEMO.careTeamGreen],
    ...changes,
  });
}

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id FIELDS } } }`;

/** Per target, one of Jane's health fields and what it holds when the token is accepted. */
const TARGETS: { [name: string]: { fields: string; holds: (data: any) => unknown } } = {
  gateway: { fields: '', holds: (d) => d?.me?.patient?.dodId },
  identity: { fields: 'dodId', holds: (d) => d?._entities?.[0]?.dodId },
  scheduling: { fields: 'appointments(first: 1) { totalCount }', holds: (d) => d?._entities?.[0]?.appointments?.totalCount },
  messaging: { fields: 'messageThreads(folder: INBOX, first: 1) { totalCount }', holds: (d) => d?._entities?.[0]?.messageThreads?.totalCount },
  pharmacy: { fields: 'prescriptions { id }', holds: (d) => d?._entities?.[0]?.prescriptions?.length },
  'clinical-records': { fields: 'labResults(first: 1) { totalCount }', holds: (d) => d?._entities?.[0]?.labResults?.totalCount },
};

function ask(target: string, token: string): Promise<GraphQLResponse> {
  if (target === 'gateway') return stack.query('{ me { patient { id dodId } } }', {}, token);
  const s = stack.subgraphs[target as keyof typeof stack.subgraphs];
  return gql(s.graphqlUrl, ENTITIES.replace('FIELDS', TARGETS[target].fields), { r: [{ __typename: 'Patient', id: DEMO.jane }] }, token);
}

const now = () => Math.floor(Date.now() / 1000);

const WRONG: [string, () => Record<string, unknown>][] = [
  ['another audience', () => ({ aud: 'urn:patient-portal:another-graph' })],
  ['no audience', () => ({ aud: undefined })],
  ['another issuer', () => ({ iss: 'urn:patient-portal:another-identity' })],
  ['no issuer', () => ({ iss: undefined })],
  // The session exists and is active: only the token's own expiry refuses it.
  ['an expiry in the past', () => ({ iat: now() - 20 * 60, exp: now() - 5 * 60 })],
  ['no expiry', () => ({ exp: undefined })],
  ['a session that does not exist', () => ({ sid: randomUUID() })],
  ['no session', () => ({ sid: undefined })],
  // A live session, but Jane's: John's account cannot ride on it.
  ['someone else’s session', () => ({ sub: 'ac-john-roe', pid: DEMO.john })],
];

describe.each(Object.keys(TARGETS))('%s', (target) => {
  it('accepts Jane’s token as identity signs it (the control every refusal below differs from in one claim)', async () => {
    const res = await ask(target, await janeToken());
    expect(res.errors).toBeUndefined();
    const held = TARGETS[target].holds(res.data);
    expect(held).toEqual(target === 'gateway' || target === 'identity' ? '1000000001' : expect.any(Number));
    if (typeof held === 'number') expect(held).toBeGreaterThan(0);
  });

  it.each(WRONG)('refuses a token with %s: 401 UNAUTHENTICATED, no data', async (_, change) => {
    const res = await ask(target, await janeToken(change()));
    expect(res.status).toBe(401);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(res.data).toBeUndefined();
    expect(JSON.stringify(res)).not.toContain('1000000001');
  });
});

it('tells the wrong audience and issuer above from the ones identity signs with', () => {
  // The refusals above would prove nothing if these were the real values.
  expect([TOKEN_AUDIENCE, TOKEN_ISSUER]).toEqual(['urn:patient-portal:graph', 'urn:patient-portal:identity']);
});

it('says an expired token has expired, whatever else it says', async () => {
  const res = await ask('gateway', await janeToken({ iat: now() - 20 * 60, exp: now() - 5 * 60 }));
  expect(res.errors?.[0].message).toBe('Your session has expired. Sign in again.');
});
