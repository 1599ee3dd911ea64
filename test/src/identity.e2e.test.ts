import fs from 'node:fs';
import { DEMO } from '@portal/demo';
import { gql, skipWithoutRedis, uniqueRedisKeyPrefix } from '@portal/kit/testing';
import { createServiceClient, devCardFiles, readDevCards, signChallenge } from '@portal/identity';
import { dropRedisKeys, REDIS_URL } from '@portal/identity/testing';
import { operation, startTestStack, type TestStack } from './harness';

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Patient { id FIELDS } } }`;
/** A health field of Patient that each subgraph owns. */
const PATIENT_FIELDS: Record<string, string> = {
  identity: 'dodId',
  scheduling: 'appointments(first: 5) { totalCount }',
  messaging: 'unreadMessageCount',
  pharmacy: 'prescriptions { id }',
  'clinical-records': 'conditions { name }',
};

describe.each([
  ['identity’s database', false],
  ['Redis', true],
])('sign-in through the gateway, sessions in %s', (_, redis) => {
  if (redis && skipWithoutRedis('sign-in through the gateway with sessions in Redis (identity.e2e.test.ts)')) return;
  let stack: TestStack;
  const prefix = uniqueRedisKeyPrefix();

  beforeAll(async () => {
    stack = await startTestStack(redis ? { redisUrl: REDIS_URL, redisKeyPrefix: prefix } : {});
  });
  afterAll(async () => {
    try {
      await stack?.stop();
    } finally {
      if (redis) await dropRedisKeys(REDIS_URL, prefix);
    }
  });

  /** The card's proof over a fresh challenge from the SmartCardChallenge operation. */
  async function proof(card: string) {
    const files = devCardFiles(stack.dataDir, card);
    const res = await stack.query(operation('SmartCardChallenge'));
    const { challenge, expiresAt } = res.data.smartCardChallenge;
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    return { certificate: fs.readFileSync(files.certificate, 'utf8'), challenge, signature: signChallenge(fs.readFileSync(files.privateKey, 'utf8'), challenge) };
  }

  /** The gateway refuses the token: at once with Redis, within the 5-second trust of a live answer without. */
  async function expectRefusedSoon(token: string) {
    const started = Date.now();
    let res = await stack.query(operation('PortalView'), {}, token);
    // Bounded by 10 s, not timed, so a loaded CI machine does not make it flaky.
    while (!redis && res.status !== 401 && Date.now() - started < 10_000) {
      await new Promise((r) => setTimeout(r, 250));
      res = await stack.query(operation('PortalView'), {}, token);
    }
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toMatchObject({ message: 'Your session has ended; sign in again.', extensions: { code: 'UNAUTHENTICATED' } });
  }

  async function cardSignIn(card: string) {
    return stack.query(operation('SignInWithSmartCard'), await proof(card));
  }

  it('signs the demo cast in with the development PKI’s cards: Jane (RSA CAC) sees her portal, Alex (P-256 CAC) his care team’s inbox', async () => {
    const jane = await cardSignIn('jane');
    expect(jane.data.signInWithSmartCard.account).toEqual({ id: 'ac-jane-doe', status: 'ACTIVE' });
    const view = await stack.query(operation('PortalView'), {}, jane.data.signInWithSmartCard.accessToken);
    expect(view.errors).toBeUndefined();
    expect(view.data.me.session.method).toBe('CAC');
    expect(view.data.me.patient.id).toBe(DEMO.jane);
    expect(view.data.me.patient.prescriptions.length).toBeGreaterThan(0);

    const alex = await cardSignIn('alex');
    expect(alex.data.signInWithSmartCard.account).toEqual({ id: 'ac-alex-kim', status: 'ACTIVE' });
    const inbox = await stack.query(operation('CareTeamInbox'), { first: 5 }, alex.data.signInWithSmartCard.accessToken);
    expect(inbox.errors).toBeUndefined();
    expect(inbox.data.me.practitioner.careTeams.map((t: { id: string }) => t.id)).toContain(DEMO.careTeamBlue);
  });

  it('refuses a challenge used once already', async () => {
    const p = await proof('sam');
    expect((await stack.query(operation('SignInWithSmartCard'), p)).errors).toBeUndefined();
    const again = await stack.query(operation('SignInWithSmartCard'), p);
    expect(again.errors?.[0].extensions?.code).toBe('CHALLENGE_INVALID');
    expect(again.data).toBeNull();
  });

  it('replays the takeover of a practitioner’s account from public facts: refused, and no staff token comes from DS Logon', async () => {
    // Alex Kim's DoD ID is printed on his CAC; his name and birth date are no secret either.
    const alex = { personIdentifier: '2000000001', firstName: 'Alex', lastName: 'Kim', dateOfBirth: '1978-02-20', username: 'alex.kim.takeover', password: 'Attacker-Chosen-Pass-1' };
    const created = await stack.query(operation('CreateDsLogonAccount'), { input: alex });
    expect(created.data).toBeNull();
    expect(created.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const signIn = await stack.query(operation('SignInWithDsLogon'), { username: alex.username, password: alex.password });
    expect(signIn.data).toBeNull();
    expect(signIn.errors?.[0].extensions?.code).toBe('INVALID_CREDENTIALS');
    const sam = { personIdentifier: '2000000002', firstName: 'Sam', lastName: 'Lee', dateOfBirth: '1985-11-30', username: 'sam.lee.takeover', password: 'Attacker-Chosen-Pass-2' };
    expect((await stack.query(operation('CreateDsLogonAccount'), { input: sam })).errors?.[0].extensions?.code).toBe('FORBIDDEN');

    // Not even from Alex's own CAC session: staff sign in by card only.
    const alexToken = await stack.signInWithCard('alex');
    const added = await stack.query(operation('AddDsLogonCredential'), { username: 'alex.kim', password: 'Sturdy-Password-42' }, alexToken);
    expect(added.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const identityDb = stack.subgraphs.identity.database.dataSource;
    const staff = await identityDb.query(`SELECT id, username, password_hash AS "passwordHash" FROM account WHERE id IN ('ac-alex-kim', 'ac-sam-lee') ORDER BY id`);
    expect(staff).toEqual([
      { id: 'ac-alex-kim', username: null, passwordHash: null },
      { id: 'ac-sam-lee', username: null, passwordHash: null },
    ]);

    // A staff account that holds a DS Logon from before (as the takeover left one) still gets no token from it.
    const { hashPassword } = await import('@portal/identity/testing');
    await identityDb.query(`UPDATE account SET username = 'sam.legacy', password_hash = '${await hashPassword('Legacy-Password-77')}' WHERE id = 'ac-sam-lee'`);
    try {
      const legacy = await stack.query(operation('SignInWithDsLogon'), { username: 'sam.legacy', password: 'Legacy-Password-77' });
      expect(legacy.data).toBeNull();
      expect(legacy.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    } finally {
      await identityDb.query(`UPDATE account SET username = NULL, password_hash = NULL WHERE id = 'ac-sam-lee'`);
    }
    const audited = await identityDb.query(
      `SELECT event, method, outcome FROM identity_audit_event WHERE (person_id = '${DEMO.alex}' OR account_id = 'ac-sam-lee') AND outcome <> 'OK' ORDER BY occurred_at`,
    );
    expect(audited).toEqual([
      { event: 'ACCOUNT_CREATED', method: 'DS_LOGON', outcome: 'FORBIDDEN' },
      { event: 'CREDENTIAL_ADDED', method: 'CAC', outcome: 'FORBIDDEN' },
      { event: 'SIGN_IN', method: 'DS_LOGON', outcome: 'FORBIDDEN' },
    ]);
  });

  it('registers John’s PIV card, signs him in with it, and after he deactivates his account and makes a new one, signs in to the same record', async () => {
    const piv = readDevCards(stack.dataDir).find((c) => c.name === 'john-piv')!;
    expect(piv.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await cardSignIn('john-piv')).errors?.[0].extensions?.code).toBe('CARD_NOT_REGISTERED');
    const details = { firstName: 'John', lastName: 'Roe', dateOfBirth: '1982-09-03', personIdentifier: '1000000002' };
    const registered = await stack.query(operation('RegisterPivCard'), {
      input: { ...details, dsLogonUsername: 'john.roe', dsLogonPassword: 'Demo-Password-2', ...(await proof('john-piv')) },
    });
    expect(registered.errors).toBeUndefined();
    expect(registered.data.registerPivCard.uuid).toBe(piv.uuid);

    const first = await cardSignIn('john-piv');
    const token = first.data.signInWithSmartCard.accessToken;
    const before = await stack.query(operation('PortalView'), {}, token);
    expect(before.data.me.session.method).toBe('PIV');
    expect(before.data.me.account.signInMethods).toEqual(['DS_LOGON', 'CAC', 'PIV']);
    expect(before.data.me.patient.affiliations.map((a: { organization: string }) => a.organization)).toEqual(['DOD', 'VA']);

    const deactivated = await stack.query(operation('DeactivateDsLogonAccount'), { accountId: 'ac-john-roe' }, token);
    expect(deactivated.data.deactivateDsLogonAccount).toEqual({ id: 'ac-john-roe', status: 'DEACTIVATED' });
    await expectRefusedSoon(token);
    expect((await cardSignIn('john-piv')).errors?.[0].extensions?.code).toBe('ACCOUNT_DEACTIVATED');

    const created = await stack.query(operation('CreateDsLogonAccount'), {
      input: { ...details, username: 'john.roe.new', password: 'Fresh-Start-Password-3' },
    });
    expect(created.data.createDsLogonAccount).toMatchObject({ username: 'john.roe.new', status: 'ACTIVE' });
    const again = await stack.query(operation('RegisterPivCard'), {
      input: { ...details, dsLogonUsername: 'john.roe.new', dsLogonPassword: 'Fresh-Start-Password-3', ...(await proof('john-piv')) },
    });
    expect(again.errors).toBeUndefined();
    const second = await cardSignIn('john-piv');
    expect(second.data.signInWithSmartCard.account).toEqual({ id: created.data.createDsLogonAccount.id, status: 'ACTIVE' });
    const after = await stack.query(operation('PortalView'), {}, second.data.signInWithSmartCard.accessToken);
    expect(after.errors).toBeUndefined();
    expect(after.data.me.patient.id).toBe(DEMO.john);
    expect(after.data.me.patient.upcomingAppointments).toEqual(before.data.me.patient.upcomingAppointments);
    expect(after.data.me.patient.prescriptions).toEqual(before.data.me.patient.prescriptions);

    // John is told of every credential change by a secure message from his care team (delivered by identity's worker).
    const told = [
      'A PIV card was registered to your account',
      'Your DS Logon account was deactivated',
      'A DS Logon username and password were added to your account',
    ];
    const newToken = second.data.signInWithSmartCard.accessToken;
    const subjects = async () => {
      const res = await stack.query(operation('MessageThreads'), { folder: 'INBOX', first: 50 }, newToken);
      return res.data.me.patient.messageThreads.edges.map((e: { node: { subject: string } }) => e.node.subject) as string[];
    };
    const delivered = (seen: string[]) => told.every((t) => seen.includes(t)) && seen.filter((t) => t === told[0]).length === 2;
    const started = Date.now();
    // Bounded, not timed: the worker polls every 2 s.
    let seen = await subjects();
    while (!delivered(seen) && Date.now() - started < 15_000) {
      await new Promise((r) => setTimeout(r, 250));
      seen = await subjects();
    }
    for (const t of told) expect(seen).toContain(t);
    expect(seen.filter((t) => t === told[0])).toHaveLength(2);
  });

  it('SignOut ends the session: the gateway and every subgraph called directly refuse the token', async () => {
    const jane = await stack.signIn('jane.doe', 'Demo-Password-1');
    const direct = (name: string) =>
      gql(stack.subgraphs[name as keyof typeof stack.subgraphs].graphqlUrl, ENTITIES.replace('FIELDS', PATIENT_FIELDS[name]), { r: [{ __typename: 'Patient', id: DEMO.jane }] }, jane);
    for (const name of Object.keys(PATIENT_FIELDS)) expect((await direct(name)).errors).toBeUndefined();
    expect((await stack.query(operation('SignOut'), {}, jane)).data).toEqual({ signOut: true });

    // With Redis every check reads Redis; without it a subgraph trusts identity's last "live" answer for at most 5 s.
    const started = Date.now();
    const refusedEverywhere = async () => {
      const results = [await stack.query(operation('PortalView'), {}, jane), ...(await Promise.all(Object.keys(PATIENT_FIELDS).map(direct)))];
      return results.every((r) => r.status === 401 && r.errors?.[0].extensions?.code === 'UNAUTHENTICATED' && r.data === undefined);
    };
    while (!redis && !(await refusedEverywhere()) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 250));
    expect(await refusedEverywhere()).toBe(true);
    const res = await stack.query(operation('PortalView'), {}, jane);
    expect(res.errors?.[0].message).toBe('Your session has ended; sign in again.');
  });

  it('answers another service called directly only within its credential’s scopes', async () => {
    const secret = await createServiceClient(stack.subgraphs.identity.database.dataSource, 'reminder-service', ['scheduling:read']);
    const res = await fetch(`${stack.subgraphs.identity.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'reminder-service', client_secret: secret }).toString(),
    });
    const { access_token: token } = (await res.json()) as { access_token: string };
    const r = { r: [{ __typename: 'Patient', id: DEMO.jane }] };
    const appointments = await gql(stack.subgraphs.scheduling.graphqlUrl, ENTITIES.replace('FIELDS', PATIENT_FIELDS.scheduling), r, token);
    expect(appointments.errors).toBeUndefined();
    expect(appointments.data._entities[0].appointments.totalCount).toBeGreaterThan(0);
    const prescriptions = await gql(stack.subgraphs.pharmacy.graphqlUrl, ENTITIES.replace('FIELDS', PATIENT_FIELDS.pharmacy), r, token);
    expect(prescriptions.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // Identity answers a patient the caller may not see as it answers an unknown id: null, no error.
    const demographics = await gql(stack.subgraphs.identity.graphqlUrl, ENTITIES.replace('FIELDS', PATIENT_FIELDS.identity), r, token);
    expect(demographics).toEqual({ status: 200, data: { _entities: [null] } });
  });
});
