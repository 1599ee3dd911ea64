/**
 * "Who looked at my record", end to end through the gateway: Jane's access log
 * gathers the five subgraphs' audit trails, names staff and their roles,
 * shows a refused attempt by a practitioner not on her care teams, pages
 * without overlap, folds her own reads away unless asked, and stays useful
 * when a subgraph does not answer.
 */
import { DEMO } from '@portal/demo';
import { gql } from '@portal/kit/testing';
import { alexToken, dataOf, operation, samToken, startTestStack, type TestStack } from './harness';
import { AccessLogDocument, GrantProxyAccessDocument, RevokeProxyAccessDocument, type AccessLogQuery } from './generated/operations';

let stack: TestStack;
let jane: string;
let alex: string;
let sam: string;
let morgan: string;

type Log = NonNullable<NonNullable<AccessLogQuery['me']>['patient']>['accessLog'];

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  alex = await alexToken(stack);
  sam = await samToken(stack);
  // Morgan Diaz (Eye Clinic) is on none of Jane's care teams; he has no demo card.
  morgan = await stack.tokenFor({ accountId: 'ac-morgan-diaz', personId: DEMO.morgan, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [] });
  // A pending request of Jane's, so that Alex's work list leads him to her record.
  const rx = dataOf(await stack.query('{ me { patient { prescriptions { id refillable pendingRequest { id } } } } }', {}, jane)).me.patient.prescriptions;
  if (!rx.some((x: any) => x.pendingRequest)) {
    const refillable = rx.find((x: any) => x.refillable);
    dataOf(await stack.query(operation('RequestRefill'), { prescriptionId: refillable.id }, jane));
  }
});
afterAll(() => stack?.stop());

async function log(variables: { first?: number; after?: string | null; includeOwnReads?: boolean } = {}): Promise<Log> {
  const patient = dataOf(await stack.query(AccessLogDocument, variables, jane)).me?.patient;
  if (!patient) throw new Error('no patient');
  return patient.accessLog;
}
const lines = (page: Log) => page.edges.map(({ node: n }) => `${n.subgraph} ${n.actor.role} ${n.actor.name ?? '-'} ${n.recordKind} ${n.action} ${n.outcome}`);

describe('Jane’s access log', () => {
  it('shows Alex reading her results and Sam her prescriptions, by name and role, newest first', async () => {
    // Alex, from the requests waiting for him, opens Jane's results.
    const requests = dataOf(
      await stack.query('{ pendingPharmacyRequests { patient { id labResults(first: 5) { edges { node { id } } } } } }', {}, alex),
    ).pendingPharmacyRequests as { patient: { id: string; labResults: { edges: unknown[] } } }[];
    const janes = requests.find((r) => r.patient.id === DEMO.jane);
    expect(janes?.patient.labResults.edges.length).toBeGreaterThan(0);
    // Then Sam looks her up at the pharmacy counter and reads her prescriptions.
    const looked = dataOf(
      await stack.query('query($id: ID!) { pharmacistLookup(patientId: $id, reason: "Patient at the counter asking about a refill.") { prescriptions { id } } }', { id: DEMO.jane }, sam),
    );
    expect(looked.pharmacistLookup.prescriptions.length).toBeGreaterThan(0);

    const page = await log({ first: 50 });
    expect(page.unavailableSources).toEqual([]);
    const shown = lines(page);
    const alexRead = shown.indexOf('clinical-records PRACTITIONER Alex Kim lab_result READ ALLOWED');
    const samRead = shown.indexOf('pharmacy PHARMACIST Sam Lee prescription READ ALLOWED');
    expect(alexRead).toBeGreaterThanOrEqual(0);
    expect(samRead).toBeGreaterThanOrEqual(0);
    // Sam came after Alex: newer, so higher up.
    expect(samRead).toBeLessThan(alexRead);
    const times = page.edges.map((e) => e.node.at);
    expect(times).toEqual([...times].sort().reverse());
    // Kinds and actions only: no record id or content in any entry.
    expect(JSON.stringify(page)).not.toMatch(new RegExp(`${DEMO.alex}|${DEMO.sam}|${janes!.patient.labResults.edges.map((e: any) => e.node.id).join('|')}`));
  });

  it('shows a refused attempt by a practitioner not on her care teams as DENIED', async () => {
    // Morgan asks clinical-records for Jane's results as the router would: refused.
    const res = await gql(
      stack.subgraphs['clinical-records'].graphqlUrl,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { labResults(first: 5) { edges { node { id } } } } } }',
      { r: [{ __typename: 'Patient', id: DEMO.jane }] },
      morgan,
    );
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const [newest] = lines(await log({ first: 1 }));
    expect(newest).toBe('clinical-records PRACTITIONER Morgan Diaz lab_result READ DENIED');
  });

  it('pages with after: each next page continues where the last ended, with no overlap', async () => {
    const whole = await log({ first: 100 });
    expect(whole.edges.length).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let after: string | null = null;
    // At most one page per entry: a cursor that never ended the list would fail here, not hang.
    for (let pages = 0; pages <= whole.edges.length; pages++) {
      const page: Log = await log({ first: 2, after });
      seen.push(...page.edges.map((e) => e.cursor));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(whole.edges.map((e) => e.cursor));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('shows John reading her appointments as her proxy, by name with the role PROXY', async () => {
    const john = await stack.signIn('john.roe', 'Demo-Password-2');
    const endsOn = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const grant = dataOf(await stack.query(GrantProxyAccessDocument, { dodId: '1000000002', scopes: ['APPOINTMENTS'], endsOn }, jane)).grantProxyAccess;
    try {
      const read = await stack.query('query($id: ID!) { patient(id: $id) { appointments(first: 5) { totalCount } } }', { id: DEMO.jane }, john);
      expect(read.errors).toBeUndefined();
      const shown = lines(await log({ first: 20 }));
      expect(shown).toContain('scheduling PROXY John Roe appointment READ ALLOWED');
    } finally {
      dataOf(await stack.query(RevokeProxyAccessDocument, { id: grant.id }, jane));
    }
  });

  it('folds Jane’s own reads away unless she asks for them', async () => {
    const hidden = lines(await log({ first: 100 }));
    expect(hidden.filter((l) => / SELF .* READ /.test(l))).toEqual([]);
    // Her own change (the refill she asked for) is listed all the same.
    expect(hidden).toContain('pharmacy SELF Jane Doe pharmacy_request CREATE ALLOWED');
    const shown = lines(await log({ first: 100, includeOwnReads: true }));
    expect(shown).toContain('identity SELF Jane Doe demographics READ ALLOWED');
    expect(shown).toContain('pharmacy SELF Jane Doe prescription READ ALLOWED');
  });

  it('is Jane’s alone: Alex asking for it through identity is refused', async () => {
    const res = await gql(
      stack.subgraphs.identity.graphqlUrl,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { accessLog { edges { cursor } } } } }',
      { r: [{ __typename: 'Patient', id: DEMO.jane }] },
      alex,
    );
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(res.data ?? null)).not.toContain('cursor');
  });

  it('stays useful when a subgraph does not answer: its entries are missing and it is named', async () => {
    const sources = stack.subgraphs.identity.runtime.config.auditSourceUrls!;
    const messaging = sources.messaging;
    sources.messaging = 'http://127.0.0.1:1';
    try {
      const res = await stack.query(AccessLogDocument, { first: 50 }, jane);
      expect(res.errors).toBeUndefined();
      const page = res.data!.me!.patient!.accessLog;
      expect(page.unavailableSources).toEqual(['messaging']);
      expect(lines(page)).toContain('pharmacy PHARMACIST Sam Lee prescription READ ALLOWED');
    } finally {
      sources.messaging = messaging;
    }
  });
});
