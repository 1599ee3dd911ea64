/**
 * Proxy access through the gateway, with identity's real answers: Jane, the
 * parent of Emma (12) and Liam (15), sees both among the patients she is a
 * proxy for and reads Emma's record by id; she grants John access to her
 * appointments and messages, John sees her among his, and once she revokes
 * it he no longer does. The other subgraphs' enforcement of the scopes is
 * tested beside them.
 */
import { DEMO } from '@portal/demo';
import { dataOf, startTestStack, type TestStack } from './harness';
import { GrantProxyAccessDocument, PatientAsProxyDocument, ProxyForDocument, ProxyGrantsDocument, RevokeProxyAccessDocument } from './generated/operations';

let stack: TestStack;
let jane: string;
let john: string;

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  john = await stack.signIn('john.roe', 'Demo-Password-2');
});
afterAll(async () => {
  await stack?.stop();
});

/** Waits up to `ms` for `check` to hold: a deadline for a loaded machine, not a timing assertion (the assertions after it decide). */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  let value = await read();
  while (!check(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

const INBOX = `{ me { patient { messageThreads(folder: INBOX, first: 50) { edges { node { subject } } } } } }`;
const inboxSubjects = async (token: string): Promise<string[]> =>
  dataOf(await stack.query(INBOX, {}, token)).me.patient.messageThreads.edges.map((e: { node: { subject: string } }) => e.node.subject);

const proxyFor = async (token: string) => dataOf(await stack.query(ProxyForDocument, {}, token)).me!.proxyFor;
/** YYYY-MM-DD, `days` from today (UTC). */
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('proxy access through the gateway', () => {
  it('lists Emma and Liam for Jane, Liam’s sensitive records hidden, and answers Emma’s record by id', async () => {
    const mine = await proxyFor(jane);
    expect(mine.map((p) => [p.patient.id, p.patient.name.given, p.relationship, p.scopes.length, p.sensitiveHidden])).toEqual([
      [DEMO.emma, 'Emma', 'PARENT_OR_GUARDIAN', 6, false],
      [DEMO.liam, 'Liam', 'PARENT_OR_GUARDIAN', 6, true],
    ]);
    const emma = dataOf(await stack.query(PatientAsProxyDocument, { id: DEMO.emma }, jane)).patient!;
    expect(emma).toMatchObject({ id: DEMO.emma, dodId: '1000000003', name: { given: 'Emma', family: 'Doe' }, affiliations: [{ organization: 'DOD', status: 'DEPENDENT', endDate: null }] });
    expect(emma.careTeams.map((t) => t.name)).toEqual(['Primary Care Team Blue']);
    // John is no proxy of Emma's: her id reads as unknown.
    const refused = await stack.query(PatientAsProxyDocument, { id: DEMO.emma }, john);
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('lets Jane grant John her appointments and messages, and revoke it: John sees her, then no longer', async () => {
    expect((await proxyFor(john)).map((p) => p.patient.id)).not.toContain(DEMO.jane);
    const endsOn = inDays(30);
    const grant = dataOf(await stack.query(GrantProxyAccessDocument, { dodId: '1000000002', scopes: ['APPOINTMENTS', 'MESSAGES'], endsOn }, jane)).grantProxyAccess;
    expect(grant).toMatchObject({ proxyName: { given: 'John', family: 'Roe' }, scopes: ['APPOINTMENTS', 'MESSAGES'], endsOn, revokedAt: null, active: true });

    expect(await proxyFor(john)).toEqual([
      { patient: { id: DEMO.jane, name: { given: 'Jane', family: 'Doe' }, dateOfBirth: '1990-04-12' }, relationship: 'CAREGIVER', scopes: ['APPOINTMENTS', 'MESSAGES'], sensitiveHidden: false, endsOn },
    ]);
    expect(dataOf(await stack.query(PatientAsProxyDocument, { id: DEMO.jane }, john)).patient!.name).toEqual({ given: 'Jane', family: 'Doe' });
    expect(dataOf(await stack.query(ProxyGrantsDocument, {}, jane)).me!.proxyGrants.map((g) => [g.id, g.active])).toEqual([[grant.id, true]]);

    // John cannot end Jane's grant: to him it does not exist.
    expect((await stack.query(RevokeProxyAccessDocument, { id: grant.id }, john)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const revoked = dataOf(await stack.query(RevokeProxyAccessDocument, { id: grant.id }, jane)).revokeProxyAccess;
    expect(revoked).toMatchObject({ id: grant.id, active: false });
    expect(revoked.revokedAt).toEqual(expect.any(String));

    expect(await proxyFor(john)).toEqual([]);
    expect((await stack.query(PatientAsProxyDocument, { id: DEMO.jane }, john)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('tells both of the grant and of its end by secure message, through messaging', async () => {
    const told = (want: string[]) => (subjects: string[]) => want.every((s) => subjects.includes(s));
    const toJane = ['You gave John Roe proxy access', 'You revoked the proxy access of John Roe'];
    const toJohn = ['Jane Doe gave you proxy access', 'Your proxy access for Jane Doe has ended'];
    expect(await eventually(() => inboxSubjects(jane), told(toJane))).toEqual(expect.arrayContaining(toJane));
    expect(await eventually(() => inboxSubjects(john), told(toJohn))).toEqual(expect.arrayContaining(toJohn));
  });
});
